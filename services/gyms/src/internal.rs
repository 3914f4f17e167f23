//! Calls other clmb services make; not part of the public API or its document.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::delete;
use clmb_common::ApiResult;
use clmb_common::auth::ServiceCaller;
use clmb_common::extract::parse_id;

use crate::AppState;
use crate::store;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/internal/users/{user_id}", delete(users_forget))
}

/// `DELETE /internal/users/{user_id}`: an account was deleted; remove that user from
/// the managers of every gym. Service tokens only; 204 whether or not the user
/// managed anything, so the users service can repeat the call until it succeeds.
///
/// A gym whose last manager this was stays, readable and without managers: it belongs
/// to the climbers who log sessions there, not to the account. Nobody can change it
/// through the API until an operator adds a manager (`INSERT INTO gym_managers`).
async fn users_forget(
    State(state): State<AppState>,
    caller: ServiceCaller,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let user_id = parse_id("user_id", &raw_id)?;
    let gyms = store::remove_user(&state.pool, user_id).await?;
    tracing::info!(user_id = %user_id, gyms, caller = caller.service, "user removed from gym managers");
    Ok(StatusCode::NO_CONTENT)
}
