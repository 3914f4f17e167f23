//! `GET /users/{user_id}/sessions` filters: `from` and `to` take calendar dates and go by
//! the session's local date (the climber's own), `gym_id` keeps one gym's sessions, and
//! they combine; newest first throughout.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use clmb_tests::TestStack;
use reqwest::Method;
use serde_json::{Value, json};

async fn post(t: &TestStack, token: &str, path: &str, body: Value) -> Value {
    t.expect(201, Method::POST, path, token, Some(body)).await
}

/// The ids of every listed session, in the order given, for one query string.
async fn listed(t: &TestStack, token: &str, query: &str) -> Vec<String> {
    let path = format!("/users/me/sessions?limit=100&{query}");
    let page = t.expect(200, Method::GET, &path, token, None).await;
    assert_eq!(page["next_cursor"], Value::Null);
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sessions_are_filtered_by_local_date_and_gym_newest_first() {
    let t = TestStack::start().await;
    let (token, _) = t.register("filterer").await;
    let crux = post(&t, &token, "/gyms", json!({"name": "Crux"})).await;
    let bloc = post(&t, &token, "/gyms", json!({"name": "Bloc"})).await;
    let mut ids = std::collections::HashMap::new();
    for (name, gym, started_at) in [
        ("crux-march-1", &crux, "2026-03-01T12:00:00Z"),
        ("bloc-march-15", &bloc, "2026-03-15T12:00:00Z"),
        ("crux-march-31", &crux, "2026-03-31T12:00:00Z"),
        ("bloc-april-2", &bloc, "2026-04-02T12:00:00Z"),
    ] {
        let session = post(
            &t,
            &token,
            "/sessions",
            json!({"gym_id": gym["id"], "name": name, "started_at": started_at}),
        )
        .await;
        ids.insert(name, session["id"].as_str().unwrap().to_owned());
    }
    let of = |names: &[&str]| names.iter().map(|n| ids[n].clone()).collect::<Vec<_>>();
    let crux_id = crux["id"].as_str().unwrap();
    let bloc_id = bloc["id"].as_str().unwrap();

    assert_eq!(
        listed(&t, &token, "").await,
        of(&[
            "bloc-april-2",
            "crux-march-31",
            "bloc-march-15",
            "crux-march-1"
        ])
    );
    // Both ends are included.
    assert_eq!(
        listed(&t, &token, "from=2026-03-15&to=2026-03-31").await,
        of(&["crux-march-31", "bloc-march-15"])
    );
    assert_eq!(
        listed(&t, &token, "from=2026-03-16").await,
        of(&["bloc-april-2", "crux-march-31"])
    );
    assert_eq!(
        listed(&t, &token, "to=2026-03-14").await,
        of(&["crux-march-1"])
    );
    assert_eq!(
        listed(&t, &token, &format!("gym_id={crux_id}")).await,
        of(&["crux-march-31", "crux-march-1"])
    );
    assert_eq!(
        listed(&t, &token, &format!("gym_id={bloc_id}&from=2026-03-20")).await,
        of(&["bloc-april-2"])
    );
    assert!(listed(&t, &token, "from=2026-05-01").await.is_empty());
    assert!(
        listed(&t, &token, &format!("gym_id={}", uuid::Uuid::now_v7()))
            .await
            .is_empty()
    );

    t.stop().await;
}

#[tokio::test]
async fn a_date_filter_uses_the_climbers_calendar_date_not_utcs() {
    let t = TestStack::start().await;
    let (token, _) = t.register("kiwi").await;
    let auckland = Some(json!({"timezone": "Pacific/Auckland"}));
    t.expect(200, Method::PATCH, "/users/me", &token, auckland)
        .await;

    // 20:00 UTC on 31 March is 09:00 on 1 April in Auckland.
    let session = post(
        &t,
        &token,
        "/sessions",
        json!({"location": "Castle Hill", "started_at": "2026-03-31T20:00:00Z"}),
    )
    .await;

    assert_eq!(session["local_date"], "2026-04-01");
    let id = session["id"].as_str().unwrap().to_owned();
    assert_eq!(
        listed(&t, &token, "from=2026-04-01&to=2026-04-01").await,
        [id]
    );
    assert!(listed(&t, &token, "to=2026-03-31").await.is_empty());

    t.stop().await;
}
