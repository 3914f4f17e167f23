//! Composed reads when a service is slow or broken rather than down: a gateway wired to a
//! stand-in for one service that answers late or with an error, and to the real others.
//! The core part fails the request (504 when slow, 502 when broken); a minor part makes
//! the answer partial; nothing waits past the deadline.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::any;
use clmb::{Timeouts, Wiring};
use clmb_common::auth::TokenVerifier;
use clmb_tests::TestStack;
use serde_json::{Value, json};

/// Serves `app` on a free port and answers its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A service that takes far longer than any timeout.
fn sleeping() -> Router {
    Router::new().fallback(any(|| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "too late"
    }))
}

/// A service that fails every call.
fn broken() -> Router {
    Router::new().fallback(any(|| async {
        (StatusCode::INTERNAL_SERVER_ERROR, "boom")
    }))
}

fn timeouts() -> Timeouts {
    Timeouts {
        call: Duration::from_millis(800),
        deadline: Duration::from_secs(2),
        ..Timeouts::default()
    }
}

/// A second gateway over the running stack, with one service replaced.
async fn gateway_with(
    t: &TestStack,
    verifier: TokenVerifier,
    replace: &str,
    with: Router,
) -> String {
    let stack = t.stack();
    let real = |addr: SocketAddr| format!("http://{addr}");
    let fake = serve(with).await;
    let pick = |name: &str, addr| {
        if name == replace {
            fake.clone()
        } else {
            real(addr)
        }
    };
    let wiring = Wiring {
        verifier,
        users_url: pick("users", stack.users),
        gyms_url: pick("gyms", stack.gyms),
        sessions_url: pick("sessions", stack.sessions),
        timeouts: timeouts(),
    };
    format!("{}/api/v1", serve(clmb::gateway_app(&wiring)).await)
}

async fn climber_with_a_gym_session(t: &TestStack) -> String {
    let (token, _) = t.register("slowpoke").await;
    let gym: Value = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": "Slow Gym"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(&token)
        .json(&json!({"gym_id": gym["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    token
}

#[tokio::test]
async fn a_slow_core_service_gives_504_within_the_deadline() {
    let t = TestStack::start().await;
    let token = climber_with_a_gym_session(&t).await;
    let gateway = gateway_with(&t, t.verifier(), "users", sleeping()).await;

    let started = Instant::now();
    let response = t
        .http
        .get(format!("{gateway}/users/me/overview"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 504);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        started.elapsed()
    );

    t.stop().await;
}

#[tokio::test]
async fn a_broken_core_service_gives_502() {
    let t = TestStack::start().await;
    let token = climber_with_a_gym_session(&t).await;
    let gateway = gateway_with(&t, t.verifier(), "users", broken()).await;

    let response = t
        .http
        .get(format!("{gateway}/users/me/overview"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], 502);

    t.stop().await;
}

#[tokio::test]
async fn a_slow_minor_service_gives_a_partial_answer_within_the_deadline() {
    let t = TestStack::start().await;
    let token = climber_with_a_gym_session(&t).await;
    let gateway = gateway_with(&t, t.verifier(), "gyms", sleeping()).await;

    let started = Instant::now();
    let response = t
        .http
        .get(format!("{gateway}/users/me/overview"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-clmb-partial"], "true");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["partial"], true);
    assert_eq!(body["warnings"][0]["service"], "gyms");
    assert!(
        body["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("in time")
    );
    assert_eq!(body["recent_sessions"][0]["gym"], Value::Null);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        started.elapsed()
    );

    t.stop().await;
}

#[tokio::test]
async fn a_slow_sessions_service_leaves_the_session_detail_failing_with_504() {
    let t = TestStack::start().await;
    let token = climber_with_a_gym_session(&t).await;
    let listed: Value = t
        .http
        .get(t.url("/users/me/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session_id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let gateway = gateway_with(&t, t.verifier(), "sessions", sleeping()).await;

    let started = Instant::now();
    let response = t
        .http
        .get(format!("{gateway}/sessions/{session_id}/detail"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 504);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        started.elapsed()
    );

    t.stop().await;
}
