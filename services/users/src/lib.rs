//! The users service: accounts, profiles and tokens.
//!
//! It alone holds the private signing key; it signs access tokens for climbers and
//! short-lived service tokens for its own calls to other services (account deletion).

pub mod api;
pub mod deletion;
pub mod model;
pub mod passwords;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use clmb_common::auth::{TokenSigner, TokenVerifier};
use clmb_common::http::{Readiness, finish_router};
use clmb_common::metrics::Metrics;
use sqlx::PgPool;
use tokio::sync::Notify;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use deletion::Peer;
pub use passwords::Passwords;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct Settings {
    pub signer: TokenSigner,
    pub verifier: TokenVerifier,
    /// Services that must forget a deleted account (gyms, sessions).
    pub peers: Vec<Peer>,
    pub request_timeout: Duration,
    /// Argon2id cost; [`argon2::Params::default`] (19 MiB, 2 passes) in production.
    pub password_params: argon2::Params,
}

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub signer: TokenSigner,
    pub verifier: TokenVerifier,
    pub peers: Arc<Vec<Peer>>,
    /// Argon2id, one hash at a time per core: each takes 19 MiB, and hashes run in
    /// parallel past the core count only add memory, never throughput.
    pub passwords: Passwords,
    /// A hash to verify against when a login names no account, so timing does not tell.
    pub dummy_hash: String,
    /// Wakes the deletion worker right after an account is deleted.
    pub deletions: Arc<Notify>,
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl AppState {
    pub fn new(pool: PgPool, settings: &Settings) -> Self {
        let passwords = Passwords::new(
            settings.password_params.clone(),
            std::thread::available_parallelism().map_or(1, usize::from),
        );
        let dummy_hash = api::make_dummy_hash(&passwords);
        Self {
            pool,
            signer: settings.signer.clone(),
            verifier: settings.verifier.clone(),
            peers: Arc::new(settings.peers.clone()),
            passwords,
            dummy_hash,
            deletions: Arc::new(Notify::new()),
        }
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::auth_register))
        .routes(routes!(api::auth_login))
        .routes(routes!(api::auth_refresh))
        .routes(routes!(api::auth_logout))
        .routes(routes!(api::users_show))
        .routes(routes!(
            api::users_show_me,
            api::users_update_me,
            api::users_delete_me
        ))
}

/// The complete service around `state`: public routes under `/api/v1`, internal routes
/// under `/internal`, and the operations routes.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let (api, _) = api_router().split_for_parts();
    let internal = Router::new().route("/internal/users/{id}", get(api::internal_user_exists));
    let routes = api.merge(internal).with_state(state.clone());
    let readiness = Readiness {
        database: Some((state.pool.clone(), &MIGRATOR)),
    };
    let metrics = Metrics::new("users", Some(state.pool.clone()));
    finish_router("users", routes, readiness, metrics, request_timeout)
}

/// The service's part of the public OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}
