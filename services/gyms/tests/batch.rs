//! The batch reads the gateway composes with: many gyms or routes by id in one call.

// Helpers outside `#[test]` functions too: here a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::App;
use uuid::Uuid;

fn ids_of(answer: &Value) -> Vec<String> {
    let mut ids: Vec<String> = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn gyms_are_read_by_id_in_one_call_and_unknown_ids_are_left_out() {
    let app = App::start().await;
    let (_, token) = app.user();
    let first = app.create_named_gym(&token, "First Wall").await;
    let second = app.create_named_gym(&token, "Second Wall").await;
    app.create_named_gym(&token, "Not Asked For").await;
    let (first, second) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    let unknown = Uuid::now_v7();

    let answer = app
        .get(&format!(
            "/internal/gyms?ids={first},{unknown},{second},{first}"
        ))
        .await;

    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let mut expected = vec![first.to_owned(), second.to_owned()];
    expected.sort();
    assert_eq!(ids_of(&answer.body), expected);
    let named_first = answer.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|gym| gym["id"] == first)
        .unwrap();
    assert_eq!(named_first["name"], "First Wall");
}

#[tokio::test]
async fn routes_are_read_by_id_in_one_call_with_their_fields() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = app.create_named_gym(&token, "Crux").await;
    let gym = gym["id"].as_str().unwrap();
    let slab = app
        .create_route(
            &token,
            gym,
            json!({"discipline": "boulder", "grade": "V3", "name": "Slab"}),
        )
        .await;
    let roof = app
        .create_route(
            &token,
            gym,
            json!({"discipline": "sport", "grade": "5.11a", "name": "Roof"}),
        )
        .await;
    let (slab, roof) = (slab["id"].as_str().unwrap(), roof["id"].as_str().unwrap());

    let answer = app
        .get(&format!("/internal/routes?ids={roof},{slab}"))
        .await;

    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let mut expected = vec![slab.to_owned(), roof.to_owned()];
    expected.sort();
    assert_eq!(ids_of(&answer.body), expected);
    let roof_route = answer.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|route| route["id"] == roof)
        .unwrap();
    assert_eq!(roof_route["grade"], "5.11a");
    assert_eq!(roof_route["gym_id"], gym);
}

#[tokio::test]
async fn no_ids_read_nothing_and_bad_or_too_many_ids_are_400_naming_ids() {
    let app = App::start().await;

    let empty = app.get("/internal/gyms?ids=").await;
    let bad = app.get("/internal/routes?ids=not-a-uuid").await;
    let many = (0..101)
        .map(|_| Uuid::now_v7().to_string())
        .collect::<Vec<_>>();
    let too_many = app
        .get(&format!("/internal/gyms?ids={}", many.join(",")))
        .await;
    let missing = app.get("/internal/gyms").await;

    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["items"], json!([]));
    for answer in [&bad, &too_many, &missing] {
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
        assert!(answer.is_problem());
    }
    assert_eq!(bad.error_fields(), ["ids"]);
    assert_eq!(too_many.error_fields(), ["ids"]);
}
