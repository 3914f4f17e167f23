//! Rate limits at the gateway: sign-in calls per client address, writes per climber.
//! A call over its limit is 429 problem+json with `Retry-After` in whole seconds, and
//! only the key that spent its calls is held back.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use clmb::{RateLimits, Timeouts};
use clmb_tests::TestStack;
use serde_json::{Value, json};

fn limited(limits: RateLimits) -> Timeouts {
    Timeouts {
        rate_limits: limits,
        ..Timeouts::default()
    }
}

async fn login(t: &TestStack, login: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = t
        .http
        .post(t.url("/auth/login"))
        .json(&json!({"login": login, "password": "correct horse battery"}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap()
}

async fn create_gym(t: &TestStack, token: Option<&str>, name: &str) -> reqwest::Response {
    let mut request = t.http.post(t.url("/gyms")).json(&json!({"name": name}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// Checks a 429 and answers its `Retry-After` in seconds.
async fn assert_too_many(response: reqwest::Response) -> u64 {
    assert_eq!(response.status(), 429);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(response.headers().contains_key("x-request-id"));
    let retry_after = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !retry_after.is_empty() && retry_after.bytes().all(|b| b.is_ascii_digit()),
        "whole seconds: {retry_after:?}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], 429);
    assert_eq!(body["title"], "Too Many Requests");
    retry_after.parse().unwrap()
}

#[tokio::test]
async fn logins_over_the_limit_from_one_address_get_429_and_other_routes_still_work() {
    // Three sign-in calls at once, then one a minute.
    let t = TestStack::start_with(limited(RateLimits {
        auth_per_minute: 1,
        auth_burst: 3,
        ..RateLimits::default()
    }))
    .await;
    let (token, _) = t.register("limited").await;

    let first = login(&t, "limited", None).await;
    let second = login(&t, "limited", None).await;
    let third = login(&t, "limited", None).await;
    let wrong_password = t
        .http
        .post(t.url("/auth/login"))
        .json(&json!({"login": "limited", "password": "not the password"}))
        .send()
        .await
        .unwrap();

    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200);
    let retry_after = assert_too_many(third).await;
    assert!(
        (1..=60).contains(&retry_after),
        "one call a minute: {retry_after}"
    );
    // A guessed password is refused before it is checked.
    assert_too_many(wrong_password).await;
    let register = t
        .http
        .post(t.url("/auth/register"))
        .json(&json!({
            "email": "late@example.com",
            "username": "late",
            "password": "correct horse battery",
        }))
        .send()
        .await
        .unwrap();
    assert_too_many(register).await;
    // Everything else goes on for the climber already signed in.
    let me = t
        .http
        .get(t.url("/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(
        create_gym(&t, Some(&token), "Still Open").await.status(),
        201
    );
    let systems = t.http.get(t.url("/grade-systems")).send().await.unwrap();
    assert_eq!(systems.status(), 200);

    t.stop().await;
}

#[tokio::test]
async fn one_climbers_writes_do_not_limit_anothers() {
    let t = TestStack::start_with(limited(RateLimits {
        writes_per_minute: 1,
        writes_burst: 2,
        ..RateLimits::default()
    }))
    .await;
    let (busy, _) = t.register("busy").await;
    let (calm, _) = t.register("calm").await;

    let one = create_gym(&t, Some(&busy), "Busy One").await;
    let two = create_gym(&t, Some(&busy), "Busy Two").await;
    let three = create_gym(&t, Some(&busy), "Busy Three").await;
    let other = create_gym(&t, Some(&calm), "Calm One").await;

    assert_eq!(one.status(), 201);
    assert_eq!(two.status(), 201);
    assert_too_many(three).await;
    assert_eq!(other.status(), 201, "another climber writes on");
    // Reads are not limited.
    let gyms = t
        .http
        .get(t.url("/gyms"))
        .bearer_auth(&busy)
        .send()
        .await
        .unwrap();
    assert_eq!(gyms.status(), 200);

    t.stop().await;
}

#[tokio::test]
async fn writes_without_a_token_are_limited_by_address() {
    let t = TestStack::start_with(limited(RateLimits {
        writes_per_minute: 1,
        writes_burst: 2,
        ..RateLimits::default()
    }))
    .await;
    let (token, _) = t.register("signed").await;

    let one = create_gym(&t, None, "Anonymous").await;
    let two = create_gym(&t, None, "Anonymous").await;
    let three = create_gym(&t, None, "Anonymous").await;
    let signed = create_gym(&t, Some(&token), "Signed").await;

    assert_eq!(one.status(), 401);
    assert_eq!(two.status(), 401);
    assert_too_many(three).await;
    assert_eq!(signed.status(), 201, "a climber's writes count apart");

    t.stop().await;
}

#[tokio::test]
async fn forwarded_addresses_count_apart_only_when_the_proxy_is_trusted() {
    let trusting = TestStack::start_with(limited(RateLimits {
        auth_per_minute: 1,
        auth_burst: 1,
        trust_forwarded_for: true,
        ..RateLimits::default()
    }))
    .await;

    let first = login(&trusting, "nobody", Some("203.0.113.1")).await;
    let again = login(&trusting, "nobody", Some("198.51.100.7, 203.0.113.1")).await;
    let elsewhere = login(&trusting, "nobody", Some("203.0.113.1, 203.0.113.2")).await;

    assert_eq!(first.status(), 401);
    assert_too_many(again).await;
    assert_eq!(
        elsewhere.status(),
        401,
        "another last hop is another client"
    );
    trusting.stop().await;

    let wary = TestStack::start_with(limited(RateLimits {
        auth_per_minute: 1,
        auth_burst: 1,
        ..RateLimits::default()
    }))
    .await;

    let first = login(&wary, "nobody", Some("203.0.113.1")).await;
    let forged = login(&wary, "nobody", Some("203.0.113.2")).await;

    assert_eq!(first.status(), 401);
    assert_too_many(forged).await;
    wary.stop().await;
}

#[tokio::test]
async fn guessing_one_accounts_password_from_many_addresses_is_limited_per_account() {
    // Addresses are unlimited here (each guess comes from another one); accounts are not.
    let t = TestStack::start_with(limited(RateLimits {
        auth_per_minute: 0,
        account_logins_per_minute: 1,
        account_logins_burst: 2,
        trust_forwarded_for: true,
        ..RateLimits::default()
    }))
    .await;
    t.register("target").await;
    t.register("bystander").await;

    let first = login(&t, "target", Some("203.0.113.1")).await;
    let second = login(&t, "Target ", Some("203.0.113.2")).await;
    let third = login(&t, "TARGET", Some("203.0.113.3")).await;
    let other_account = login(&t, "bystander", Some("203.0.113.4")).await;
    let unreadable = t
        .http
        .post(t.url("/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();

    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200, "the body reaches the service intact");
    // The same account, however it is written, from a third address.
    let retry_after = assert_too_many(third).await;
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(other_account.status(), 200);
    assert_eq!(unreadable.status(), 400, "the service's own answer");

    t.stop().await;
}
