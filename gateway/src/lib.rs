//! The gateway: the single entry point of the clmb API.
//!
//! It checks tokens, forwards each call to the service that owns it, composes the
//! answers that need several services, and serves the OpenAPI document of the whole
//! public API at `/api/v1/openapi.json` with a browsable page at `/docs`.

pub mod compose;
pub mod export;
pub mod limits;
pub mod openapi;
pub mod proxy;

use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::middleware;
use axum::routing::{any, get};
use clmb_common::auth::TokenVerifier;
use clmb_common::client::ServiceClient;
use clmb_common::http::{Readiness, finish_router};
use clmb_common::metrics::Metrics;
pub use limits::RateLimits;

#[derive(Clone, Debug)]
pub struct Settings {
    pub users_url: String,
    pub gyms_url: String,
    pub sessions_url: String,
    pub verifier: TokenVerifier,
    /// Longest wait for one service call.
    pub call_timeout: Duration,
    /// Longest time a composed request may take in all.
    pub deadline: Duration,
    /// Longest time a forwarded call may take (imports are the slow ones).
    pub forward_timeout: Duration,
    /// Calls per client address and per climber.
    pub rate_limits: RateLimits,
}

#[derive(Clone, Debug)]
pub struct AppState {
    pub users: ServiceClient,
    pub gyms: ServiceClient,
    pub sessions: ServiceClient,
    /// The same services with the longer timeout of forwarded calls.
    pub forward: Forward,
    pub verifier: TokenVerifier,
    pub deadline: Duration,
}

#[derive(Clone, Debug)]
pub struct Forward {
    pub users: ServiceClient,
    pub gyms: ServiceClient,
    pub sessions: ServiceClient,
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl AppState {
    pub fn new(settings: &Settings) -> Self {
        let client = |name, url: &str| ServiceClient::new(name, url, settings.call_timeout);
        let users = client("users", &settings.users_url);
        let gyms = client("gyms", &settings.gyms_url);
        let sessions = client("sessions", &settings.sessions_url);
        let forward = Forward {
            users: users.with_timeout(settings.forward_timeout),
            gyms: gyms.with_timeout(settings.forward_timeout),
            sessions: sessions.with_timeout(settings.forward_timeout),
        };
        Self {
            users,
            gyms,
            sessions,
            forward,
            verifier: settings.verifier.clone(),
            deadline: settings.deadline,
        }
    }
}

pub fn router(settings: &Settings) -> Router {
    let state = AppState::new(settings);
    let document = openapi::document();
    // Calls the gateway answers itself; every other documented call is forwarded.
    let own = [
        "/api/v1/users/{user_id}/overview",
        "/api/v1/sessions/{session_id}/detail",
        "/api/v1/users/me/export",
    ];
    let mut forwarded = Router::new().route("/api/v1/{*rest}", any(proxy::forward));
    // Every documented call a service answers gets a route of its own, so metrics and
    // spans name it by its template (`/api/v1/gyms/{gym_id}`) instead of `{*rest}`.
    for path in document.paths.paths.keys() {
        if !own.contains(&path.as_str()) {
            forwarded = forwarded.route(path, any(proxy::forward));
        }
    }
    let routes = Router::new()
        .route(own[0], get(compose::overview))
        .route(own[1], get(compose::session_detail))
        .route(own[2], get(export::export))
        .route("/api/v1/openapi.json", get(openapi::serve_document))
        .merge(forwarded)
        .with_state(state)
        .merge(openapi::docs_page(document))
        // Inside the shared layers, so a 429 carries a request id and is counted.
        .layer(middleware::from_fn_with_state(
            limits::LimitState::new(settings.rate_limits, settings.verifier.clone()),
            limits::enforce,
        ));
    let readiness = Readiness { database: None };
    let metrics = Metrics::new("gateway", None);
    // Forwarded calls carry their own timeout; the gateway's own is a backstop above it.
    finish_router(
        "gateway",
        routes,
        readiness,
        metrics,
        settings.forward_timeout + Duration::from_secs(5),
    )
}
