//! The gyms service: climbing gyms, their managers, the routes set in them, and the
//! built-in grade systems those routes are graded in.
//!
//! Public routes live under `/api/v1` (the gateway forwards them unchanged); one
//! internal route, `DELETE /internal/users/{user_id}`, lets the users service make a
//! deleted account forget its gyms. [`router`] is the whole service, [`openapi`] its
//! public OpenAPI paths for the gateway's document.

mod grade_api;
mod gym_api;
mod internal;
pub mod model;
mod route_api;
mod store;
pub mod text;
mod validate;

use std::time::Duration;

use axum::extract::FromRef;
use axum::middleware;
use clmb_common::auth::TokenVerifier;
use clmb_common::deleted::{DeletedAccounts, refuse_writes};
use clmb_common::http::{Readiness, finish_router};
use clmb_common::metrics::Metrics;
use sqlx::PgPool;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The component name in metrics, spans and logs.
const COMPONENT: &str = "gyms";

#[derive(Clone, Debug)]
pub struct Settings {
    pub verifier: TokenVerifier,
    pub request_timeout: Duration,
}

/// What every handler may use.
#[derive(Clone, Debug)]
pub(crate) struct AppState {
    pub pool: PgPool,
    pub verifier: TokenVerifier,
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The public routes with their OpenAPI description.
fn api() -> OpenApiRouter<AppState> {
    let mut openapi = utoipa::openapi::OpenApi::default();
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    OpenApiRouter::with_openapi(openapi)
        .routes(routes!(gym_api::gyms_index, gym_api::gyms_create))
        .routes(routes!(
            gym_api::gyms_show,
            gym_api::gyms_update,
            gym_api::gyms_delete
        ))
        .routes(routes!(gym_api::managers_add))
        .routes(routes!(gym_api::managers_remove))
        .routes(routes!(grade_api::grade_systems_index))
        .routes(routes!(route_api::routes_index, route_api::routes_create))
        .routes(routes!(
            route_api::routes_show,
            route_api::routes_update,
            route_api::routes_delete
        ))
}

/// The complete service: its routes under /api/v1 wrapped by
/// `clmb_common::http::finish_router("gyms", ...)`.
pub fn router(pool: PgPool, settings: Settings) -> axum::Router {
    let state = AppState {
        pool: pool.clone(),
        verifier: settings.verifier,
    };
    let (public, _) = api().split_for_parts();
    let deleted = DeletedAccounts {
        pool: pool.clone(),
        verifier: state.verifier.clone(),
    };
    let routes = public
        .layer(middleware::from_fn_with_state(deleted, refuse_writes))
        .merge(internal::router())
        .with_state(state);
    finish_router(
        COMPONENT,
        routes,
        Readiness {
            database: Some((pool.clone(), &MIGRATOR)),
        },
        Metrics::new(COMPONENT, Some(pool)),
        settings.request_timeout,
    )
}

/// The service's OpenAPI paths and schemas (the gateway merges them into the public
/// document). Internal routes are not in it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}
