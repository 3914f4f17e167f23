//! The sessions service: climbing sessions, the climbs logged in them, statistics and
//! logbook imports.
//!
//! It asks the users service whether a climber's logbook is visible to a caller and in
//! which time zone the climber lives, and the gyms service what a gym or route is.

pub mod api;
pub mod import;
pub mod model;
pub mod peers;
pub mod rules;
pub mod stats;
pub mod store;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::middleware;
use axum::routing::{delete, get};
use clmb_common::auth::TokenVerifier;
use clmb_common::deleted::{DeletedAccounts, refuse_writes};
use clmb_common::http::{Readiness, finish_router};
use clmb_common::metrics::Metrics;
use sqlx::PgPool;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use peers::Peers;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub verifier: TokenVerifier,
    pub peers: Peers,
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    let imports = OpenApiRouter::new()
        .routes(routes!(import::imports_create))
        .layer(DefaultBodyLimit::max(clmb_common::http::IMPORT_BODY_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(api::sessions_create))
        .routes(routes!(
            api::sessions_show,
            api::sessions_update,
            api::sessions_delete
        ))
        .routes(routes!(api::sessions_end))
        .routes(routes!(api::sessions_index))
        .routes(routes!(api::climbs_create))
        .routes(routes!(api::climbs_update, api::climbs_delete))
        .routes(routes!(stats::stats_show))
        .merge(imports)
}

/// The complete service: public routes under `/api/v1`, internal ones under `/internal`,
/// and the operations routes.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let (api, _) = api_router().split_for_parts();
    let internal = Router::new()
        .route(
            "/internal/users/{user_id}",
            delete(api::internal_delete_user),
        )
        .route(
            "/internal/users/{user_id}/summary",
            get(stats::summary_show),
        )
        .route(
            "/internal/users/{user_id}/logbook",
            get(api::internal_logbook),
        );
    let deleted = DeletedAccounts {
        pool: state.pool.clone(),
        verifier: state.verifier.clone(),
    };
    let api = api.layer(middleware::from_fn_with_state(deleted, refuse_writes));
    let routes = api.merge(internal).with_state(state.clone());
    let readiness = Readiness {
        database: Some((state.pool.clone(), &MIGRATOR)),
    };
    let metrics = Metrics::new("sessions", Some(state.pool.clone()));
    finish_router("sessions", routes, readiness, metrics, request_timeout)
}

/// The service's part of the public OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}
