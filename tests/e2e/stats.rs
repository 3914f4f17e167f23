//! Statistics as a climber reads them: one pyramid across grade systems, months, maxima,
//! totals and date filters.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use clmb_tests::TestStack;
use serde_json::{Value, json};

async fn session(t: &TestStack, token: &str, started: &str, ended: &str) -> String {
    let created: Value = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(token)
        .json(&json!({"location": "Fontainebleau", "started_at": started}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let ended = t
        .http
        .post(t.url(&format!("/sessions/{id}/end")))
        .bearer_auth(token)
        .json(&json!({"ended_at": ended}))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    id
}

async fn climb(t: &TestStack, token: &str, session: &str, body: Value) {
    let response = t
        .http
        .post(t.url(&format!("/sessions/{session}/climbs")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{body}");
}

async fn stats(t: &TestStack, token: &str, query: &str) -> Value {
    let response = t
        .http
        .get(t.url(&format!("/users/me/stats?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_climber_who_logs_v_and_font_grades_sees_one_pyramid() {
    let t = TestStack::start().await;
    let (token, _) = t.register("bleausard").await;
    let may = session(&t, &token, "2024-05-04T09:00:00Z", "2024-05-04T11:00:00Z").await;
    let june = session(&t, &token, "2024-06-08T09:00:00Z", "2024-06-08T09:45:00Z").await;
    climb(
        &t,
        &token,
        &may,
        json!({"discipline": "boulder", "grade": "V5", "attempt_type": "redpoint", "attempts": 3}),
    )
    .await;
    climb(&t, &token, &may, json!({"discipline": "boulder", "grade": "6C+", "grade_system": "font", "attempt_type": "flash"})).await;
    climb(
        &t,
        &token,
        &may,
        json!({"discipline": "boulder", "grade": "V3", "attempt_type": "onsight"}),
    )
    .await;
    climb(
        &t,
        &token,
        &june,
        json!({"discipline": "boulder", "grade": "7A", "attempt_type": "attempt", "attempts": 5}),
    )
    .await;
    climb(
        &t,
        &token,
        &june,
        json!({"discipline": "boulder", "grade": "V4", "attempt_type": "flash"}),
    )
    .await;
    climb(
        &t,
        &token,
        &june,
        json!({"discipline": "sport", "grade": "5.11a", "attempt_type": "redpoint"}),
    )
    .await;

    let v = stats(&t, &token, "discipline=boulder").await;

    assert_eq!(v["grade_system"], "v_scale", "the system used most");
    assert_eq!(
        (v["sends"].clone(), v["attempts"].clone()),
        (json!(4), json!(1))
    );
    assert_eq!(v["sessions"], 2);
    assert_eq!(v["total_minutes"], 165);
    assert_eq!(v["max_grade"], "V5");
    assert_eq!(
        v["pyramid"],
        json!([
            {"grade": "V6", "sends": 0, "attempts": 1},
            {"grade": "V5", "sends": 2, "attempts": 0},
            {"grade": "V4", "sends": 1, "attempts": 0},
            {"grade": "V3", "sends": 1, "attempts": 0},
        ]),
        "V5 and Font 6C+ share one step; Font 7A sits with V6"
    );
    assert_eq!(
        v["by_month"],
        json!([
            {"month": "2024-05", "sends": 3, "max_grade": "V5"},
            {"month": "2024-06", "sends": 1, "max_grade": "V4"},
        ])
    );

    let font = stats(&t, &token, "discipline=boulder&grade_system=font").await;
    let steps: Vec<&str> = font["pyramid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["grade"].as_str().unwrap())
        .collect();
    assert_eq!(font["max_grade"], "6C+");
    assert_eq!(steps.first(), Some(&"7A"));
    assert!(steps.contains(&"6C+"));

    let may_only = stats(
        &t,
        &token,
        "discipline=boulder&from=2024-05-01&to=2024-05-31",
    )
    .await;
    assert_eq!(
        (may_only["sends"].clone(), may_only["sessions"].clone()),
        (json!(3), json!(1))
    );

    // Days inside a month are counted from the climbs, whole months from the tallies.
    let straddling = stats(
        &t,
        &token,
        "discipline=boulder&from=2024-05-04&to=2024-06-07",
    )
    .await;
    assert_eq!(
        (straddling["sends"].clone(), straddling["by_month"].clone()),
        (
            json!(3),
            json!([{"month": "2024-05", "sends": 3, "max_grade": "V5"}])
        )
    );

    // Without `discipline`, the family the climber logs most: five boulders, one route.
    let default = stats(&t, &token, "").await;
    assert_eq!(default["discipline"], "boulder");
    assert_eq!(default["sends"], 4);

    let rope = stats(&t, &token, "discipline=rope&grade_system=french").await;
    assert_eq!(rope["max_grade"], "6b+");
    assert_eq!(rope["sends"], 1);

    let wrong = t
        .http
        .get(t.url("/users/me/stats?discipline=boulder&grade_system=yds"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);

    t.stop().await;
}
