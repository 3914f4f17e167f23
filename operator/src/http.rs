//! The operator's own HTTP endpoints: `/livez`, `/readyz` and Prometheus `/metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub metrics: Arc<Metrics>,
    /// Set once the operator reached the API server; standby replicas are ready too, so a
    /// rollout of the operator never waits for an election.
    pub ready: Arc<AtomicBool>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_index))
        .with_state(state)
}

async fn livez() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

async fn metrics_index(State(state): State<AppState>) -> Response {
    match state.metrics.encode() {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    fn app(ready: bool) -> (Router, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::default());
        let state = AppState {
            metrics: metrics.clone(),
            ready: Arc::new(AtomicBool::new(ready)),
        };
        (router(state), metrics)
    }

    async fn get(app: Router, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn livez_answers_even_before_the_api_server_is_reached() {
        let (app, _) = app(false);

        assert_eq!(get(app, "/livez").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn readyz_fails_until_the_operator_reached_the_api_server() {
        assert_eq!(
            get(app(false).0, "/readyz").await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(get(app(true).0, "/readyz").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn metrics_expose_reconciles_errors_duration_and_stacks_by_phase() {
        let (app, metrics) = app(true);
        drop(metrics.reconcile_started());
        metrics.failed("apply_object");
        metrics.set_phase("climbing/prod", Some(crate::crd::Phase::Ready));

        let (status, body) = get(app, "/metrics").await;

        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("clmb_operator_reconciles_total 1"), "{body}");
        assert!(
            body.contains("clmb_operator_reconcile_errors_total{category=\"apply_object\"} 1"),
            "{body}"
        );
        assert!(
            body.contains("clmb_operator_reconcile_duration_seconds_count 1"),
            "{body}"
        );
        assert!(
            body.contains("clmb_operator_stacks{phase=\"Ready\"} 1"),
            "{body}"
        );
        assert!(
            body.contains("clmb_operator_stacks{phase=\"Degraded\"} 0"),
            "{body}"
        );
    }
}
