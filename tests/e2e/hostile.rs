//! Hostile input the fuzzer found (`.ci/schemathesis.sh`): text PostgreSQL cannot store
//! is refused naming the field, never a 500.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use clmb_tests::TestStack;
use serde_json::{Value, json};

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_nul_character_in_a_body_or_a_query_is_refused_naming_the_field() {
    let t = TestStack::start().await;
    let (token, _) = t.register("careful").await;

    let login = t
        .http
        .post(t.url("/auth/login"))
        .json(&json!({"login": "a\u{0}b", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let gym = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": "Null\u{0}Gym"}))
        .send()
        .await
        .unwrap();
    let search = t.http.get(t.url("/gyms?q=a%00b")).send().await.unwrap();

    let login = problem(login, 422).await;
    assert_eq!(login["errors"][0]["field"], "login");
    let gym = problem(gym, 422).await;
    assert_eq!(gym["errors"][0]["field"], "name");
    let search = problem(search, 400).await;
    assert_eq!(search["errors"][0]["field"], "q");

    t.stop().await;
}

#[tokio::test]
async fn a_public_profile_matches_exactly_one_profile_shape_in_the_document() {
    let t = TestStack::start().await;
    let document: Value = t
        .http
        .get(t.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // `Profile` is oneOf User | PublicUser: a full User must not also be a PublicUser.
    let public = &document["components"]["schemas"]["PublicUser"];
    assert_eq!(public["additionalProperties"], false, "{public}");

    t.stop().await;
}
