//! Operations routes of every component: `/metrics` counts requests by route template
//! (never a raw id) and status, has latency histogram buckets and, on the services, the
//! database pool's connections; `/livez` and `/readyz` answer 200.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use clmb_tests::TestStack;
use serde_json::{Value, json};

fn components(t: &TestStack) -> [(&'static str, SocketAddr); 4] {
    let stack = t.stack();
    [
        ("gateway", stack.gateway),
        ("users", stack.users),
        ("gyms", stack.gyms),
        ("sessions", stack.sessions),
    ]
}

async fn scrape(t: &TestStack, addr: SocketAddr) -> String {
    let response = t
        .http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The request-count lines (not the histogram's) of a scrape.
fn request_counts(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("clmb_http_requests"))
        .collect()
}

/// Calls through the gateway that every service answers: a gym and a session by id,
/// an unknown gym, and a climber's sessions.
async fn traffic(t: &TestStack) -> Vec<String> {
    let (token, user_id) = t.register("metered").await;
    let gym: Value = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": "Metered Gym"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gym_id = gym["id"].as_str().unwrap().to_owned();
    let session: Value = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(&token)
        .json(&json!({"gym_id": gym_id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session_id = session["id"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::new_v4().to_string();
    for path in [
        format!("/gyms/{gym_id}"),
        format!("/gyms/{unknown}"),
        format!("/sessions/{session_id}"),
        format!("/users/{user_id}"),
        format!("/users/{user_id}/sessions"),
        // No route of the gyms service matches this one.
        format!("/gyms/{gym_id}/walls/{unknown}"),
    ] {
        let response = t
            .http
            .get(t.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(
            response.status() == 200 || response.status() == 404,
            "{path}"
        );
    }
    vec![gym_id, session_id, user_id, unknown]
}

#[tokio::test]
async fn every_service_counts_requests_by_route_template_and_status() {
    let t = TestStack::start().await;
    let ids = traffic(&t).await;

    let gyms = scrape(&t, t.stack().gyms).await;
    let sessions = scrape(&t, t.stack().sessions).await;
    let users = scrape(&t, t.stack().users).await;

    let counted = |text: &str, route: &str, status: u16| {
        request_counts(text).iter().any(|l| {
            l.contains(&format!("route=\"{route}\"")) && l.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(counted(&gyms, "/api/v1/gyms/{gym_id}", 200), "{gyms}");
    assert!(counted(&gyms, "/api/v1/gyms/{gym_id}", 404), "{gyms}");
    assert!(counted(&gyms, "/api/v1/gyms", 201), "{gyms}");
    assert!(
        counted(&sessions, "/api/v1/sessions/{session_id}", 200),
        "{sessions}"
    );
    assert!(
        counted(&sessions, "/api/v1/users/{user_id}/sessions", 200),
        "{sessions}"
    );
    assert!(counted(&users, "/api/v1/users/{user_id}", 200), "{users}");
    for (name, text) in [("gyms", &gyms), ("sessions", &sessions), ("users", &users)] {
        for id in &ids {
            assert!(
                !text.contains(id.as_str()),
                "{name} metrics hold the raw id {id}"
            );
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn the_gateway_counts_requests_by_public_route_template_never_by_raw_id() {
    let t = TestStack::start().await;
    let ids = traffic(&t).await;

    let gateway = scrape(&t, t.stack().gateway).await;

    for id in &ids {
        assert!(
            !gateway.contains(id.as_str()),
            "gateway metrics hold the raw id {id}"
        );
    }
    let counts = request_counts(&gateway);
    assert!(
        counts
            .iter()
            .any(|l| l.contains("route=\"/api/v1/gyms/{gym_id}\"") && l.contains("status=\"200\"")),
        "the gateway tells calls apart by their public route: {counts:#?}"
    );
    assert!(
        counts
            .iter()
            .any(|l| l.contains("route=\"/api/v1/sessions/{session_id}\"")),
        "{counts:#?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn every_component_has_latency_buckets_and_services_show_their_pool() {
    let t = TestStack::start().await;
    traffic(&t).await;

    for (name, addr) in components(&t) {
        let text = scrape(&t, addr).await;

        let buckets: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("clmb_http_request_duration_seconds_bucket{"))
            .collect();
        assert!(
            buckets.iter().any(|l| l.contains("le=\"+Inf\"")),
            "{name} has no latency histogram: {text}"
        );
        assert!(buckets.len() > 4, "{name} has a few buckets per route");
        assert!(
            request_counts(&text)
                .iter()
                .any(|l| l.contains("status=\"")),
            "{name}"
        );
        if name != "gateway" {
            let pool = text
                .lines()
                .find(|l| {
                    l.starts_with("clmb_db_pool_connections{")
                        || l.starts_with("clmb_db_pool_connections ")
                })
                .unwrap_or_else(|| panic!("{name} has no clmb_db_pool_connections: {text}"));
            let open: f64 = pool.rsplit(' ').next().unwrap().parse().unwrap();
            assert!(open >= 1.0, "{name}: {pool}");
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn every_component_is_live_and_ready() {
    let t = TestStack::start().await;

    for (name, addr) in components(&t) {
        for probe in ["livez", "readyz"] {
            let response = t
                .http
                .get(format!("http://{addr}/{probe}"))
                .send()
                .await
                .unwrap();

            assert_eq!(response.status(), 200, "{name} /{probe}");
        }
    }
    t.stop().await;
}
