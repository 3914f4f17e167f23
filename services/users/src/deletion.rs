//! Carries account deletions to the other services.
//!
//! Deleting an account writes one outbox row per service in the same transaction. This
//! worker calls `DELETE /internal/users/{id}` on each service with a service token until
//! the service confirms (2xx or 404), backing off while it is down. A service that was
//! down when the account was deleted is caught up as soon as it answers again.

use std::time::Duration;

use clmb_common::client::ServiceClient;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::store;

/// A service that keeps data about users and must forget them.
#[derive(Clone, Debug)]
pub struct Peer {
    pub name: &'static str,
    pub client: ServiceClient,
}

/// Runs until `shutdown` is cancelled.
pub async fn run(state: AppState, poll_every: Duration, shutdown: CancellationToken) {
    loop {
        if let Err(error) = deliver_due(&state).await {
            tracing::warn!(error = %error, "could not read the deletion outbox");
        }
        tokio::select! {
            () = state.deletions.notified() => {},
            () = tokio::time::sleep(poll_every) => {},
            () = shutdown.cancelled() => return,
        }
    }
}

/// Delivers every deletion that is due; returns how many were confirmed.
pub async fn deliver_due(state: &AppState) -> Result<usize, store::StoreError> {
    let due = store::due_deletions(&state.pool, 100).await?;
    let mut confirmed = 0;
    for pending in due {
        let Some(peer) = state.peers.iter().find(|p| p.name == pending.service) else {
            // A service this build no longer knows: nothing to tell.
            store::finish_deletion(&state.pool, pending.user_id, &pending.service).await?;
            continue;
        };
        let path = format!("/internal/users/{}", pending.user_id);
        let token = match state.signer.service_token("users") {
            Ok(token) => token,
            Err(error) => {
                tracing::error!(error = %error, "cannot sign a service token");
                break;
            }
        };
        let request = peer
            .client
            .request(reqwest::Method::DELETE, &path, Some(&token), None);
        match peer.client.send(request).await {
            Ok(_) => {
                store::finish_deletion(&state.pool, pending.user_id, peer.name).await?;
                tracing::info!(user_id = %pending.user_id, service = peer.name, "deletion confirmed");
                confirmed += 1;
            }
            Err(error) if error.status() == Some(axum::http::StatusCode::NOT_FOUND) => {
                store::finish_deletion(&state.pool, pending.user_id, peer.name).await?;
                confirmed += 1;
            }
            Err(error) => {
                // Back off exponentially up to five minutes.
                let delay = (1_i64 << pending.attempts.clamp(0, 8)).min(300);
                tracing::warn!(
                    user_id = %pending.user_id,
                    service = peer.name,
                    attempts = pending.attempts + 1,
                    retry_in_secs = delay,
                    error = %error,
                    "deletion not delivered yet",
                );
                store::postpone_deletion(
                    &state.pool,
                    pending.user_id,
                    peer.name,
                    delay,
                    &error.to_string(),
                )
                .await?;
            }
        }
    }
    Ok(confirmed)
}
