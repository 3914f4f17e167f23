//! Faults under load: a service stopping and coming back, the whole stack shutting down
//! gracefully, PostgreSQL restarting under writes. Each test measures what clients see:
//! statuses, bodies and how long every request took.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clmb::{RateLimits, Stack, StackOptions, Timeouts};
use clmb_common::auth::KeyPair;
use clmb_tests::TestStack;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::task::JoinSet;

/// What one request of a load loop saw.
#[derive(Debug)]
struct Sample {
    /// When it was sent, from the start of the test.
    sent: Duration,
    latency: Duration,
    status: u16,
    body: Value,
    content_type: String,
}

async fn timed(started: Instant, request: reqwest::RequestBuilder) -> Sample {
    let sent = started.elapsed();
    let at = Instant::now();
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    Sample {
        sent,
        latency: at.elapsed(),
        status,
        body,
        content_type,
    }
}

async fn post_json(http: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn overviews_stay_200_and_in_time_while_the_gyms_service_stops_and_returns() {
    // Short enough for a quick test, long enough for a loaded two-core CI machine.
    let deadline = Duration::from_secs(3);
    let mut t = TestStack::start_with(Timeouts {
        call: Duration::from_secs(1),
        deadline,
        ..Timeouts::default()
    })
    .await;
    let (token, _) = t.register("steady").await;
    let gym = post_json(
        &t.http,
        &t.url("/gyms"),
        Some(&token),
        json!({"name": "Flaky Gym"}),
    )
    .await;
    post_json(
        &t.http,
        &t.url("/sessions"),
        Some(&token),
        json!({"gym_id": gym["id"]}),
    )
    .await;

    // Warm every connection pool first: the fault, not a cold start, is under test.
    let warm = t.http.get(t.url("/users/me/overview")).bearer_auth(&token);
    assert_eq!(warm.send().await.unwrap().status(), 200);

    let started = Instant::now();
    let running = Arc::new(AtomicBool::new(true));
    let mut load = JoinSet::new();
    for _ in 0..4 {
        let (http, url, token, running) = (
            t.http.clone(),
            t.url("/users/me/overview"),
            token.clone(),
            running.clone(),
        );
        load.spawn(async move {
            let mut samples = Vec::new();
            while running.load(Ordering::Relaxed) {
                samples.push(timed(started, http.get(&url).bearer_auth(&token)).await);
            }
            samples
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    t.stack().stop_component("gyms");
    let stopped = started.elapsed();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let restarted = started.elapsed();
    t.stack
        .as_mut()
        .unwrap()
        .restart_component("gyms")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    running.store(false, Ordering::Relaxed);
    let samples: Vec<Sample> = load.join_all().await.into_iter().flatten().collect();

    let partial = |s: &Sample| s.body["partial"] == true;
    assert!(samples.len() > 20, "a load: {} requests", samples.len());
    for s in &samples {
        assert_eq!(s.status, 200, "{s:?}");
        assert!(
            s.latency < deadline + Duration::from_millis(500),
            "within the gateway's deadline: {s:?}"
        );
        assert_eq!(s.body["user"]["username"], "steady");
    }
    // Sent well after the stop and done before the restart: gyms were surely down.
    let down: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.sent > stopped + Duration::from_millis(200) && s.sent + s.latency < restarted)
        .collect();
    assert!(!down.is_empty(), "requests while the gyms service was down");
    for s in &down {
        assert!(partial(s), "partial while down: {s:?}");
        assert_eq!(s.body["warnings"][0]["service"], "gyms");
        assert_eq!(s.body["stats"]["sessions"], 1);
    }
    // After it is back, answers are whole again and stay whole.
    let mut after: Vec<&Sample> = samples.iter().filter(|s| s.sent > restarted).collect();
    after.sort_by_key(|s| s.sent);
    let first_whole = after.iter().position(|s| !partial(s));
    let first_whole = first_whole.expect("a whole answer after the gyms service returned");
    assert!(
        after[first_whole..].iter().all(|s| !partial(s)),
        "whole from then on"
    );
    assert!(
        after[first_whole].sent < restarted + Duration::from_millis(1000),
        "recovered within a second: {:?}",
        after[first_whole]
    );

    t.stop().await;
}

#[tokio::test]
async fn a_graceful_stop_finishes_requests_in_flight_and_refuses_new_connections() {
    let t = TestStack::start_with(Timeouts {
        rate_limits: RateLimits::OFF,
        ..Timeouts::default()
    })
    .await;
    let (token, _) = t.register("leaving").await;
    let session = post_json(&t.http, &t.url("/sessions"), Some(&token), json!({})).await;
    let climbs = t.url(&format!(
        "/sessions/{}/climbs",
        session["id"].as_str().unwrap()
    ));

    // Requests whose bodies arrive slowly are surely in flight when the stop begins.
    let body = json!({"discipline": "boulder", "grade": "V3", "attempt_type": "flash"}).to_string();
    let mut in_flight = JoinSet::new();
    for _ in 0..4 {
        let (http, url, token, body) = (
            clmb_common::client::http_client().build().unwrap(),
            climbs.clone(),
            token.clone(),
            body.clone(),
        );
        in_flight.spawn(async move {
            let (head, tail) = body.split_at(10);
            let (head, tail) = (head.to_owned(), tail.to_owned());
            let chunks = futures_stream(head, tail);
            let at = Instant::now();
            let response = http
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(chunks))
                .send()
                .await;
            (response.map(|r| r.status().as_u16()), at.elapsed())
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let gateway = t.stack().gateway;
    let mut t = t;
    let stack = t.stack.take().unwrap();
    let stopping = tokio::spawn(stack.stop());
    tokio::time::sleep(Duration::from_millis(100)).await;

    // A new connection while the stop waits for those requests: refused, at once.
    let at = Instant::now();
    let refused = clmb_common::client::http_client()
        .build()
        .unwrap()
        .get(format!("http://{gateway}/livez"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    let refused_after = at.elapsed();

    for (response, took) in in_flight.join_all().await {
        assert_eq!(response.unwrap(), 201, "finished normally after {took:?}");
    }
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the stop finishes once the requests are done")
        .unwrap();
    let error = refused.expect_err("no new connection during the stop");
    assert!(error.is_connect(), "a connection error: {error:?}");
    assert!(
        refused_after < Duration::from_secs(1),
        "refused, not left hanging: {refused_after:?}"
    );
    t.stop().await;
}

/// A body in two pieces, the second one a second later.
fn futures_stream(
    head: String,
    tail: String,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let pieces = vec![(Duration::ZERO, head), (Duration::from_secs(1), tail)];
    futures::stream::iter(pieces).then(|(wait, piece)| async move {
        tokio::time::sleep(wait).await;
        Ok(piece.into_bytes())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_acknowledged_across_a_postgres_restart_are_kept_and_the_services_reconnect() {
    let dir = std::env::temp_dir().join(format!("clmb-faults-{}", uuid::Uuid::new_v4().simple()));
    let server = Arc::new(
        clmb_common::pgserver::start_private(&dir, free_port())
            .await
            .unwrap(),
    );
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let stack = Stack::start(StackOptions {
        server_url: server.url.clone(),
        database_prefix: "clmb_faults".to_owned(),
        gateway: any,
        users: any,
        gyms: any,
        sessions: any,
        keys: KeyPair::generate().unwrap(),
        timeouts: Timeouts {
            rate_limits: RateLimits::OFF,
            ..Timeouts::default()
        },
        password_params: argon2::Params::new(1024, 1, 1, None).unwrap(),
    })
    .await
    .unwrap();
    let base = format!("http://{}/api/v1", stack.gateway);
    let http = clmb_common::client::http_client()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap();
    let registered = post_json(
        &http,
        &format!("{base}/auth/register"),
        None,
        json!({"email": "w@example.com", "username": "writer", "password": "correct horse battery"}),
    )
    .await;
    let token = registered["access_token"].as_str().unwrap().to_owned();
    let session = post_json(&http, &format!("{base}/sessions"), Some(&token), json!({})).await;
    let session_id = session["id"].as_str().unwrap().to_owned();
    let climbs = format!("{base}/sessions/{session_id}/climbs");

    let started = Instant::now();
    let running = Arc::new(AtomicBool::new(true));
    let mut load = JoinSet::new();
    for writer in 0..4 {
        let (http, url, token, running) =
            (http.clone(), climbs.clone(), token.clone(), running.clone());
        load.spawn(async move {
            let mut samples = Vec::new();
            let mut n = 0;
            while running.load(Ordering::Relaxed) {
                n += 1;
                let body = json!({
                    "discipline": "boulder",
                    "grade": "V2",
                    "attempt_type": "attempt",
                    "notes": format!("writer {writer} climb {n}"),
                });
                samples.push(timed(started, http.post(&url).bearer_auth(&token).json(&body)).await);
                // Errors come back fast; do not spin on them.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            samples
        });
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Longer than the pools' acquire timeout (5 s): writes first wait for a connection,
    // then some give up with an error, and the ones after the restart get through.
    let down_for = Duration::from_secs(6);
    let restarting = server.clone();
    tokio::task::spawn_blocking(move || restarting.restart(down_for))
        .await
        .unwrap()
        .unwrap();
    let restarted = started.elapsed();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    running.store(false, Ordering::Relaxed);
    let samples: Vec<Sample> = load.join_all().await.into_iter().flatten().collect();

    let created: Vec<&Sample> = samples.iter().filter(|s| s.status == 201).collect();
    let failed: Vec<&Sample> = samples.iter().filter(|s| s.status != 201).collect();
    for s in &failed {
        // The database being away is 503, which clients may retry; never a bare 500.
        assert_eq!(s.status, 503, "the database is unavailable: {s:?}");
        assert_eq!(s.content_type, "application/problem+json", "{s:?}");
        assert!(s.body["detail"].is_string(), "{s:?}");
        let text = s.body.to_string().to_lowercase();
        assert!(
            !text.contains("sql") && !text.contains("postgres") && !text.contains("connection"),
            "no internals leak: {s:?}"
        );
    }
    for s in &samples {
        assert!(s.latency < Duration::from_secs(35), "no hang: {s:?}");
    }
    eprintln!(
        "postgres restart: {} writes acknowledged, {} refused: {:?}, slowest {:?}",
        created.len(),
        failed.len(),
        failed
            .iter()
            .map(|s| (s.status, s.latency))
            .collect::<Vec<_>>(),
        samples.iter().map(|s| s.latency).max()
    );
    assert!(
        created.iter().any(|s| s.sent > restarted),
        "writes succeed again after the restart without restarting the stack \
         ({} created, {} failed)",
        created.len(),
        failed.len()
    );

    // Every acknowledged write is there.
    let shown: Value = http
        .get(format!("{base}/sessions/{session_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kept: std::collections::HashSet<&str> = shown["climbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for s in &created {
        let id = s.body["id"].as_str().unwrap();
        assert!(kept.contains(id), "acknowledged climb {id} is kept");
    }

    stack.stop().await;
    if let Ok(server) = Arc::try_unwrap(server) {
        server.stop();
    }
    std::fs::remove_dir_all(&dir).ok();
}
