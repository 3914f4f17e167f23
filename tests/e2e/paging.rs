//! Cursor paging of `GET /users/me/sessions` and `GET /gyms/{id}/routes`: walking every
//! page with a small limit while new items arrive between pages repeats nothing and skips
//! nothing that was there at the start; the last page says so with `next_cursor: null`;
//! an edited cursor is 400.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use clmb_tests::TestStack;
use serde_json::{Value, json};

async fn post(t: &TestStack, token: &str, path: &str, body: Value) -> String {
    let response = t
        .http
        .post(t.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "POST {path} {body}");
    let created: Value = response.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

async fn page(t: &TestStack, token: &str, path: &str) -> Value {
    let response = t
        .http
        .get(t.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// Walks `list` (a path with its query, ending in `limit=N`) page by page, calling
/// `between` after each page but the last, and answers every id in the order seen.
async fn walk<F, Fut>(t: &TestStack, token: &str, list: &str, mut between: F) -> Vec<String>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut seen = Vec::new();
    let mut path = list.to_owned();
    for round in 0.. {
        assert!(round < 100, "paging does not end");
        let body = page(t, token, &path).await;
        let items = body["items"].as_array().unwrap();
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                assert!(!items.is_empty(), "a page with a next cursor has items");
                between(round).await;
                path = format!("{list}&cursor={cursor}");
            }
            None => {
                assert!(
                    body["next_cursor"].is_null(),
                    "next_cursor is null at the end"
                );
                break;
            }
        }
    }
    seen
}

fn assert_complete(seen: &[String], existing: &[String]) {
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an item repeats: {seen:?}");
    let missing: Vec<&String> = existing.iter().filter(|id| !unique.contains(id)).collect();
    assert!(missing.is_empty(), "skipped {missing:?}");
}

#[tokio::test]
async fn walking_sessions_while_new_ones_arrive_repeats_and_skips_nothing() {
    let t = TestStack::start().await;
    let (token, _) = t.register("pager").await;
    let mut existing = Vec::new();
    // Every second day of October, two sessions on some days.
    for day in [2, 4, 4, 6, 8, 10, 10, 12, 14] {
        let started = format!("2026-10-{day:02}T18:00:00Z");
        existing.push(post(&t, &token, "/sessions", json!({"started_at": started})).await);
    }

    // Between pages: one session newer than all, one on a day the walk may not have
    // reached yet, one on a day it has passed.
    let seen = walk(&t, &token, "/users/me/sessions?limit=2", |round| {
        let (t, token) = (&t, &token);
        async move {
            for started in [
                "2026-11-30T18:00:00Z".to_owned(),
                format!("2026-10-{:02}T09:00:00Z", 13 - round),
                "2026-10-04T07:00:00Z".to_owned(),
            ] {
                post(t, token, "/sessions", json!({"started_at": started})).await;
            }
        }
    })
    .await;

    assert_complete(&seen, &existing);
    // The sessions that were there keep their newest-first order.
    let order: Vec<&String> = seen.iter().filter(|id| existing.contains(id)).collect();
    let dates_seen: Vec<usize> = order
        .iter()
        .map(|id| existing.iter().position(|e| e == *id).unwrap())
        .collect();
    let days = [2, 4, 4, 6, 8, 10, 10, 12, 14];
    let by_day: Vec<i32> = dates_seen.iter().map(|i| days[*i]).collect();
    assert!(
        by_day.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {by_day:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn walking_a_gyms_routes_while_new_ones_are_set_repeats_and_skips_nothing() {
    let t = TestStack::start().await;
    let (token, _) = t.register("setter").await;
    let gym = post(&t, &token, "/gyms", json!({"name": "Paged Gym"})).await;
    let routes = format!("/gyms/{gym}/routes");
    let mut existing = Vec::new();
    for grade in ["V0", "V1", "V1", "V3", "V4", "V4", "V6", "V8", "V10"] {
        let body = json!({"discipline": "boulder", "grade": grade});
        existing.push(post(&t, &token, &routes, body).await);
    }

    // Between pages: an easier route, an equal one, a harder one.
    let seen = walk(&t, &token, &format!("{routes}?limit=2"), |_| {
        let (t, token, routes) = (&t, &token, &routes);
        async move {
            for grade in ["VB", "V4", "V12"] {
                let body = json!({"discipline": "boulder", "grade": grade});
                post(t, token, routes, body).await;
            }
        }
    })
    .await;

    assert_complete(&seen, &existing);
    t.stop().await;
}

#[tokio::test]
async fn an_edited_cursor_is_400_on_both_lists() {
    let t = TestStack::start().await;
    let (token, _) = t.register("editor").await;
    let gym = post(&t, &token, "/gyms", json!({"name": "Cursor Gym"})).await;
    for grade in ["V1", "V2", "V3"] {
        let body = json!({"discipline": "boulder", "grade": grade});
        post(&t, &token, &format!("/gyms/{gym}/routes"), body).await;
        post(&t, &token, "/sessions", json!({})).await;
    }
    let lists = [
        "/users/me/sessions?limit=1".to_owned(),
        format!("/gyms/{gym}/routes?limit=1"),
    ];

    for list in lists {
        let first = page(&t, &token, &list).await;
        let cursor = first["next_cursor"].as_str().unwrap();
        // Flip one character in the middle of the cursor.
        let mut chars: Vec<char> = cursor.chars().collect();
        let middle = chars.len() / 2;
        chars[middle] = if chars[middle] == 'Q' { 'R' } else { 'Q' };
        let edited: String = chars.into_iter().collect();

        let response = t
            .http
            .get(t.url(&format!("{list}&cursor={edited}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 400, "{list} with {edited}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json")
        );
    }
    t.stop().await;
}

#[tokio::test]
async fn walking_a_gym_search_by_name_and_by_distance_repeats_and_skips_nothing() {
    let t = TestStack::start().await;
    let (token, _) = t.register("scout").await;
    // Around Lyon, a few kilometres apart; two pairs share a name or a place.
    let gyms = [
        ("Azur", 45.75, 4.85),
        ("bloc", 45.76, 4.83),
        ("Bloc", 45.74, 4.86),
        ("Écho", 45.77, 4.88),
        ("echo", 45.77, 4.88),
        ("Mur", 45.70, 4.80),
        ("Zénith", 45.80, 4.90),
    ];
    let mut existing = Vec::new();
    for (name, lat, lng) in gyms {
        let body = json!({"name": name, "country": "FR", "latitude": lat, "longitude": lng});
        existing.push(post(&t, &token, "/gyms", body).await);
    }
    let arrive = |round: usize| {
        let (t, token) = (&t, &token);
        async move {
            for (name, lat, lng) in [
                ("Aaa", 45.75, 4.85),
                ("Bloc", 45.7401, 4.8601),
                ("Zz", 45.9, 4.6),
            ] {
                let body = json!({"name": format!("{name}{round}"), "country": "FR",
                                  "latitude": lat, "longitude": lng});
                post(t, token, "/gyms", body).await;
            }
        }
    };

    let by_name = walk(&t, &token, "/gyms?country=FR&limit=2", arrive).await;
    let by_distance = walk(
        &t,
        &token,
        "/gyms?near=45.75,4.85&radius_km=100&limit=2",
        arrive,
    )
    .await;

    assert_complete(&by_name, &existing);
    assert_complete(&by_distance, &existing);
    t.stop().await;
}
