//! Composed reads when a part fails: a minor part gives a partial answer, the core part
//! gives 502/503/504, and nothing waits past the gateway's deadline.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use clmb::Timeouts;
use clmb_tests::TestStack;
use reqwest::Method;
use serde_json::{Value, json};

async fn setup(t: &TestStack) -> (String, String) {
    let (token, _) = t.register("part").await;
    let gym: Value = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": "Partial Gym"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session: Value = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(&token)
        .json(&json!({"gym_id": gym["id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (token, session["id"].as_str().unwrap().to_owned())
}

fn quick() -> Timeouts {
    Timeouts {
        call: Duration::from_millis(500),
        deadline: Duration::from_secs(2),
        ..Timeouts::default()
    }
}

#[tokio::test]
async fn the_overview_is_partial_when_the_gyms_service_is_down() {
    let t = TestStack::start_with(quick()).await;
    let (token, _) = setup(&t).await;

    t.stack().stop_component("gyms");
    let started = Instant::now();
    let response = t
        .http
        .get(t.url("/users/me/overview"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-clmb-partial"], "true");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["partial"], true);
    assert_eq!(body["warnings"][0]["service"], "gyms");
    assert_eq!(body["recent_sessions"][0]["gym"], Value::Null);
    assert_eq!(body["recent_sessions"][0]["gym_name"], "Partial Gym");
    assert_eq!(body["stats"]["sessions"], 1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered within the deadline"
    );

    t.stop().await;
}

#[tokio::test]
async fn the_overview_is_partial_without_stats_when_the_sessions_service_is_down() {
    let t = TestStack::start_with(quick()).await;
    let (token, _) = setup(&t).await;

    t.stack().stop_component("sessions");
    let response = t
        .http
        .get(t.url("/users/me/overview"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["partial"], true);
    assert_eq!(body["stats"], Value::Null);
    assert_eq!(body["recent_sessions"], Value::Null);
    assert_eq!(body["user"]["username"], "part");
    let services: Vec<&str> = body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["service"].as_str().unwrap())
        .collect();
    assert!(services.iter().all(|s| *s == "sessions"), "{services:?}");

    t.stop().await;
}

#[tokio::test]
async fn the_overview_fails_with_503_when_the_users_service_is_down() {
    let t = TestStack::start_with(quick()).await;
    let (token, _) = setup(&t).await;

    t.stack().stop_component("users");
    let response = t
        .http
        .get(t.url("/users/me/overview"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    t.stop().await;
}

#[tokio::test]
async fn the_session_detail_is_partial_when_the_gyms_service_is_down() {
    let t = TestStack::start_with(quick()).await;
    let (token, session_id) = setup(&t).await;
    let logged = t
        .http
        .post(t.url(&format!("/sessions/{session_id}/climbs")))
        .bearer_auth(&token)
        .json(&json!({"discipline": "boulder", "grade": "V3", "attempt_type": "flash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(logged.status(), 201);

    let whole: Value = t
        .http
        .get(t.url(&format!("/sessions/{session_id}/detail")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(whole["partial"], false);
    assert_eq!(whole["gym"]["name"], "Partial Gym");
    assert_eq!(whole["climbs"][0]["route"], Value::Null);

    t.stack().stop_component("gyms");
    let response = t
        .http
        .get(t.url(&format!("/sessions/{session_id}/detail")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["partial"], true);
    assert_eq!(body["gym"], Value::Null);
    assert_eq!(body["climbs"].as_array().unwrap().len(), 1);

    t.stop().await;
}

#[tokio::test]
async fn the_session_detail_shows_each_climbs_route_as_it_is_now() {
    let t = TestStack::start().await;
    let (token, session_id) = setup(&t).await;
    let session = t
        .expect(
            200,
            Method::GET,
            &format!("/sessions/{session_id}"),
            &token,
            None,
        )
        .await;
    let gym_id = session["gym_id"].as_str().unwrap().to_owned();
    let mut routes = Vec::new();
    for grade in ["V2", "V4", "V6"] {
        let body = json!({"discipline": "boulder", "grade": grade});
        let route = t
            .expect(
                201,
                Method::POST,
                &format!("/gyms/{gym_id}/routes"),
                &token,
                Some(body),
            )
            .await;
        routes.push(route["id"].as_str().unwrap().to_owned());
    }
    let climbs = format!("/sessions/{session_id}/climbs");
    // Two climbs on the first route, one on each other, and one free-form climb.
    for route_id in [&routes[0], &routes[0], &routes[1], &routes[2]] {
        let body = json!({"route_id": route_id, "attempt_type": "redpoint"});
        t.expect(201, Method::POST, &climbs, &token, Some(body))
            .await;
    }
    let free = json!({"discipline": "boulder", "grade": "V1", "attempt_type": "flash"});
    t.expect(201, Method::POST, &climbs, &token, Some(free))
        .await;
    // Since then the second route was regraded and the third taken down.
    let regrade = Some(json!({"grade": "V5"}));
    t.expect(
        200,
        Method::PATCH,
        &format!("/routes/{}", routes[1]),
        &token,
        regrade,
    )
    .await;
    t.expect(
        204,
        Method::DELETE,
        &format!("/routes/{}", routes[2]),
        &token,
        None,
    )
    .await;

    let detail = t
        .expect(
            200,
            Method::GET,
            &format!("/sessions/{session_id}/detail"),
            &token,
            None,
        )
        .await;

    assert_eq!(detail["partial"], false, "{detail}");
    let climbs = detail["climbs"].as_array().unwrap();
    assert_eq!(climbs.len(), 5);
    let on = |route_id: &str| -> Vec<&Value> {
        climbs
            .iter()
            .filter(|c| c["route_id"] == route_id)
            .collect()
    };
    for climb in on(&routes[0]) {
        assert_eq!(climb["route"]["id"], routes[0].as_str());
        assert_eq!(climb["route"]["grade"], "V2");
    }
    assert_eq!(on(&routes[0]).len(), 2);
    let [regraded_climb] = on(&routes[1])[..] else {
        panic!("one climb on the regraded route: {detail}");
    };
    assert_eq!(
        regraded_climb["grade"], "V4",
        "the log keeps the grade it was climbed at"
    );
    assert_eq!(
        regraded_climb["route"]["grade"], "V5",
        "the route is shown as it is now"
    );
    let [gone] = on(&routes[2])[..] else {
        panic!("one climb on the deleted route: {detail}");
    };
    assert_eq!(gone["route"], Value::Null);
    assert_eq!(gone["grade"], "V6");
    let free_climb = climbs.iter().find(|c| c["route_id"].is_null()).unwrap();
    assert_eq!(free_climb["route"], Value::Null);

    t.stop().await;
}
