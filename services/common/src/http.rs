//! What every clmb HTTP component shares: the middleware stack (request ids, tracing
//! spans by route, metrics, timeouts, body limits, problem+json for every error), the
//! operations routes and graceful serving.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::error::{PROBLEM_JSON, problem_for, problem_response};
use crate::metrics::{self, Metrics};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// JSON bodies above this size get 413 (api.md, Conventions).
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// Logbook files above this size get 413 (api.md, Conventions): the sessions service
/// takes bodies up to it, and the gateway refuses larger ones before forwarding.
pub const IMPORT_BODY_LIMIT: usize = 10 * 1024 * 1024;

/// Request ids are UUID v7, so they sort by time in logs.
#[derive(Clone, Copy, Debug, Default)]
struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// The longest request id taken from a client; a longer one, or one with anything but
/// visible ASCII, is replaced by a generated one rather than echoed and written to logs.
pub const MAX_REQUEST_ID_LEN: usize = 128;

fn usable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LEN
        && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// Drops a given `X-Request-Id` that is not [`usable_request_id`], so that the next
/// layer generates one.
async fn drop_unusable_request_id(mut request: Request, next: Next) -> Response {
    if request
        .headers()
        .get(REQUEST_ID)
        .is_some_and(|value| !usable_request_id(value))
    {
        request.headers_mut().remove(REQUEST_ID);
    }
    next.run(request).await
}

/// The request id of a request being handled, to pass on to the services it calls.
pub fn request_id(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
}

/// Wraps a component's routes in the shared middleware stack and adds `/livez`,
/// `/readyz` and `/metrics`.
///
/// Layers run outside-in in the reverse of the order they are added: the request id is
/// set first, so the trace span, the metrics and every log line can carry it.
pub fn finish_router(
    component: &'static str,
    routes: Router,
    readiness: Readiness,
    metrics: Metrics,
    request_timeout: Duration,
) -> Router {
    let ops = Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz).with_state(readiness))
        .route(
            "/metrics",
            get(metrics::serve_metrics).with_state(metrics.clone()),
        );

    routes
        .merge(ops)
        .fallback(unknown_route)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(middleware::from_fn(problem_for_bare_errors))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            request_timeout,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            problem_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &problem_for(StatusCode::INTERNAL_SERVER_ERROR, None, Vec::new()),
            )
        }))
        .layer(middleware::from_fn_with_state(metrics, metrics::record))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(move |request: &Request<Body>| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("unmatched", MatchedPath::as_str);
                    let request_id = request_id(request.headers()).unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        component,
                        method = %request.method(),
                        route,
                        request_id,
                        status = tracing::field::Empty,
                    )
                })
                .on_request(())
                // Failures are logged once, where they happen (ApiError), not again here.
                .on_failure(())
                .on_response(|response: &Response, latency: Duration, span: &Span| {
                    span.record("status", response.status().as_u16());
                    let latency_ms = latency.as_secs_f64() * 1000.0;
                    if response.status().is_server_error() {
                        tracing::warn!(status = response.status().as_u16(), latency_ms, "answered");
                    } else {
                        tracing::debug!(
                            status = response.status().as_u16(),
                            latency_ms,
                            "answered"
                        );
                    }
                }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuidV7))
        .layer(middleware::from_fn(drop_unusable_request_id))
}

async fn unknown_route() -> Response {
    let problem = problem_for(
        StatusCode::NOT_FOUND,
        Some("no such route".to_owned()),
        Vec::new(),
    );
    problem_response(StatusCode::NOT_FOUND, &problem)
}

/// The framework answers some errors itself (405, 413 from a body limit, 408/504 from a
/// timeout) with an empty or plain-text body; give those the same problem+json shape as
/// our own errors.
async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, _) = response.into_parts();
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => Some("this route does not take that method".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => Some("the request body is too large".to_owned()),
        _ => None,
    };
    let mut rebuilt = problem_response(status, &problem_for(status, detail, Vec::new()));
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        rebuilt.headers_mut().insert(header::ALLOW, allow.clone());
    }
    rebuilt
}

/// What `/readyz` checks: the database answers and every migration this binary knows is
/// applied. Components without a database are ready once they serve.
#[derive(Clone, Debug)]
pub struct Readiness {
    pub database: Option<(PgPool, &'static Migrator)>,
}

async fn readyz(State(readiness): State<Readiness>) -> Response {
    let Some((pool, migrator)) = readiness.database else {
        return "ok".into_response();
    };
    match crate::db::pending_migrations(&pool, migrator).await {
        Ok(0) => "ok".into_response(),
        Ok(pending) => {
            let detail = format!("{pending} database migrations are not applied yet");
            problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &problem_for(StatusCode::SERVICE_UNAVAILABLE, Some(detail), Vec::new()),
            )
        }
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            let detail = "the database does not answer".to_owned();
            problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &problem_for(StatusCode::SERVICE_UNAVAILABLE, Some(detail), Vec::new()),
            )
        }
    }
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
///
/// Every request carries the peer's address as `ConnectInfo<SocketAddr>`, for the
/// gateway's limits per client address; routers that do not ask for it are unaffected.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(error = %error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
