//! A climber's account as a whole: the export gives back the same climbs when imported
//! into a new account, and a deleted account leaves nothing behind in any service, even
//! one that was down when it was deleted.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use clmb::Service;
use clmb_tests::{TestStack, fixture};
use serde_json::{Value, json};

/// What makes two logged climbs the same climb, whichever account holds them.
fn climb_facts(export: &Value) -> Vec<String> {
    let mut facts: Vec<String> = export["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|session| {
            session["climbs"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |climb| {
                    [
                        &session["local_date"],
                        &climb["discipline"],
                        &climb["grade"],
                        &climb["grade_system"],
                        &climb["safety"],
                        &climb["attempt_type"],
                        &climb["success"],
                        &climb["attempts"],
                        &climb["rating"],
                        &climb["route_name"],
                        &climb["notes"],
                    ]
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("|")
                })
        })
        .collect();
    facts.sort();
    facts
}

async fn export(t: &TestStack, token: &str, format: &str) -> reqwest::Response {
    let response = t
        .http
        .get(t.url(&format!("/users/me/export?format={format}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "export as {format}");
    response
}

#[tokio::test]
async fn a_csv_export_imported_into_a_new_account_gives_back_the_same_climbs() {
    let t = TestStack::start().await;
    let (original, _) = t.register("original").await;
    for (source, file) in [
        (
            "mountain-project",
            "mountain-project/alpine-aid-multipitch.csv",
        ),
        ("thecrag", "thecrag/sample.csv"),
        ("8a", "8a/sample.csv"),
    ] {
        let imported = t
            .http
            .post(t.url(&format!("/imports/{source}")))
            .bearer_auth(&original)
            .header("content-type", "text/csv")
            .body(fixture(file))
            .send()
            .await
            .unwrap();
        assert_eq!(imported.status(), 201);
    }
    let csv = export(&t, &original, "csv").await;
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.bytes().await.unwrap();

    let (copy, _) = t.register("copy").await;
    let imported = t
        .http
        .post(t.url("/imports/clmb"))
        .bearer_auth(&copy)
        .header("content-type", "text/csv")
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 201);
    let report: Value = imported.json().await.unwrap();
    assert_eq!(report["rows_rejected"], json!([]));
    assert_eq!(report["climbs_created"], 725 + 3 + 9);

    let before: Value = export(&t, &original, "json").await.json().await.unwrap();
    let after: Value = export(&t, &copy, "json").await.json().await.unwrap();
    assert_eq!(after["profile"]["username"], "copy");
    assert_eq!(climb_facts(&after).len(), 737);
    assert_eq!(climb_facts(&after), climb_facts(&before));

    let again: Value = t
        .http
        .post(t.url("/imports/clmb"))
        .bearer_auth(&copy)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["climbs_created"], 0,
        "importing the export twice adds nothing"
    );
    let back_home: Value = t
        .http
        .post(t.url("/imports/clmb"))
        .bearer_auth(&original)
        .header("content-type", "text/csv")
        .body(export(&t, &original, "csv").await.bytes().await.unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &back_home["climbs_created"],
            &back_home["duplicates_skipped"]
        ),
        (&json!(0), &json!(737)),
        "an export imported into the account it came from adds nothing"
    );

    t.stop().await;
}

async fn rows_of(t: &TestStack, service: Service, query: &str, user_id: &str) -> i64 {
    let pool = &t
        .stack()
        .pools
        .iter()
        .find(|(s, _)| *s == service)
        .unwrap()
        .1;
    sqlx::query_scalar(sqlx::AssertSqlSafe(query.to_owned()))
        .bind(uuid::Uuid::parse_str(user_id).unwrap())
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_deleted_account_is_removed_from_a_service_that_was_down_once_it_is_back() {
    let mut t = TestStack::start().await;
    let (token, user_id) = t.register("leaving").await;
    let gym: Value = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": "Leaving Gym"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let imported = t
        .http
        .post(t.url("/imports/8a"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(fixture("8a/sample.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 201);
    let climbs = "SELECT count(*) FROM climbs WHERE user_id = $1";
    let managed = "SELECT count(*) FROM gym_managers WHERE user_id = $1";
    assert_eq!(rows_of(&t, Service::Sessions, climbs, &user_id).await, 9);
    assert_eq!(rows_of(&t, Service::Gyms, managed, &user_id).await, 1);
    assert!(gym["id"].is_string());

    t.stack().stop_component("sessions");
    let deleted = t
        .http
        .delete(t.url("/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    // The gyms service was up: it forgets the user at once. Sessions was down: it keeps
    // the data until it is back.
    let waited = Instant::now();
    while rows_of(&t, Service::Gyms, managed, &user_id).await > 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "gyms never heard of the deletion"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rows_of(&t, Service::Sessions, climbs, &user_id).await, 9);

    t.stack
        .as_mut()
        .unwrap()
        .restart_component("sessions")
        .await
        .unwrap();
    let waited = Instant::now();
    while rows_of(&t, Service::Sessions, climbs, &user_id).await > 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "sessions never caught up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sessions = "SELECT count(*) FROM sessions WHERE user_id = $1";
    assert_eq!(rows_of(&t, Service::Sessions, sessions, &user_id).await, 0);
    let login = t
        .http
        .post(t.url("/auth/login"))
        .json(&json!({"login": "leaving", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);

    t.stop().await;
}
