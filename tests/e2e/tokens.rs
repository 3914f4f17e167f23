//! Tokens over their life: a refresh rotates the pair and a replayed refresh token
//! revokes its descendants, logout revokes, a token signed by a key the stack does not
//! know opens nothing, and a deleted account can no longer sign in.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use clmb_common::auth::{KeyPair, TokenKind, TokenSigner};
use clmb_tests::{TestStack, fixture};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

/// Registers `username` and answers the whole answer: user and token pair.
async fn register(t: &TestStack, username: &str) -> Value {
    let response = t
        .http
        .post(t.url("/auth/register"))
        .json(
            &json!({"email": format!("{username}@example.com"), "username": username,
                      "password": PASSWORD}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn refresh(t: &TestStack, refresh_token: &Value) -> reqwest::Response {
    t.http
        .post(t.url("/auth/refresh"))
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .unwrap()
}

async fn me(t: &TestStack, access_token: &str) -> reqwest::Response {
    t.http
        .get(t.url("/users/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

async fn login(t: &TestStack, login: &str) -> reqwest::Response {
    t.http
        .post(t.url("/auth/login"))
        .json(&json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refresh_rotates_the_pair_and_the_old_refresh_token_stops_working() {
    let t = TestStack::start().await;
    let first = register(&t, "rotor").await;

    let second = refresh(&t, &first["refresh_token"]).await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    let reused = refresh(&t, &first["refresh_token"]).await;

    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["token_type"], "Bearer");
    assert!(second["expires_in"].as_i64().unwrap() > 0);
    assert_eq!(
        me(&t, second["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    assert_eq!(
        reused.status(),
        401,
        "the rotated-out refresh token is refused"
    );
    t.stop().await;
}

#[tokio::test]
async fn replaying_a_rotated_refresh_token_revokes_the_new_one_too() {
    let t = TestStack::start().await;
    let first = register(&t, "replayed").await;
    let second: Value = refresh(&t, &first["refresh_token"])
        .await
        .json()
        .await
        .unwrap();

    let replay = refresh(&t, &first["refresh_token"]).await;
    let descendant = refresh(&t, &second["refresh_token"]).await;

    assert_eq!(replay.status(), 401);
    assert_eq!(descendant.status(), 401, "the leaked family is revoked");
    let fresh = login(&t, "replayed").await;
    assert_eq!(fresh.status(), 200, "signing in again still works");
    t.stop().await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let t = TestStack::start().await;
    let pair = register(&t, "leaver").await;
    let access = pair["access_token"].as_str().unwrap();

    let logout = t
        .http
        .post(t.url("/auth/logout"))
        .bearer_auth(access)
        .json(&json!({"refresh_token": pair["refresh_token"]}))
        .send()
        .await
        .unwrap();
    let after = refresh(&t, &pair["refresh_token"]).await;

    assert_eq!(logout.status(), 204);
    assert_eq!(after.status(), 401);
    assert!(
        after.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    t.stop().await;
}

#[tokio::test]
async fn an_access_token_signed_by_an_unknown_key_is_401() {
    let t = TestStack::start().await;
    let pair = register(&t, "forged").await;
    let user_id = pair["user"]["id"].as_str().unwrap();
    let stranger = TokenSigner::new(&KeyPair::generate().unwrap(), 900).unwrap();
    let forged = stranger.access_token(user_id.parse().unwrap()).unwrap();
    let forged_service = stranger
        .sign("service:users", TokenKind::Service, 60)
        .unwrap();

    let profile = me(&t, &forged).await;
    let sessions = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(&forged)
        .json(&json!({"name": "forged"}))
        .send()
        .await
        .unwrap();
    let as_service = me(&t, &forged_service).await;

    assert_eq!(profile.status(), 401);
    assert_eq!(sessions.status(), 401);
    assert_eq!(as_service.status(), 401);
    let listed: Value = t
        .http
        .get(t.url("/users/me/sessions"))
        .bearer_auth(pair["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]), "the forged call logged nothing");
    t.stop().await;
}

#[tokio::test]
async fn a_deleted_account_can_no_longer_sign_in_or_use_its_tokens() {
    let t = TestStack::start().await;
    let pair = register(&t, "goner").await;
    let access = pair["access_token"].as_str().unwrap();
    let session = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(access)
        .json(&json!({"name": "last one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 201);

    let deleted = t
        .http
        .delete(t.url("/users/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();

    assert_eq!(deleted.status(), 204);
    assert_eq!(login(&t, "goner").await.status(), 401);
    assert_eq!(login(&t, "goner@example.com").await.status(), 401);
    assert_eq!(refresh(&t, &pair["refresh_token"]).await.status(), 401);
    let profile = me(&t, access).await.status().as_u16();
    assert!(
        [401, 404].contains(&profile),
        "the old token reads no profile: {profile}"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_refresh_token_is_no_access_token_and_an_access_token_is_no_refresh_token() {
    let t = TestStack::start().await;
    let pair = register(&t, "swapper").await;
    let refresh_token = pair["refresh_token"].as_str().unwrap();

    let as_access = me(&t, refresh_token).await;
    let as_refresh = refresh(&t, &pair["access_token"]).await;
    let basic = t
        .http
        .get(t.url("/users/me"))
        .header(
            "authorization",
            format!("Basic {}", pair["access_token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(as_access.status(), 401);
    assert_eq!(as_refresh.status(), 401);
    assert_eq!(
        basic.status(),
        401,
        "only the Bearer scheme carries a token"
    );
    assert_eq!(refresh(&t, &pair["refresh_token"]).await.status(), 200);
    t.stop().await;
}

#[tokio::test]
async fn the_access_token_of_a_deleted_account_creates_nothing() {
    let t = TestStack::start().await;
    let pair = register(&t, "ghost").await;
    let access = pair["access_token"].as_str().unwrap();
    let (witness, _) = t.register("witness").await;
    let deleted = t
        .http
        .delete(t.url("/users/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let session = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(access)
        .json(&json!({"name": "from beyond"}))
        .send()
        .await
        .unwrap();
    let import = t
        .http
        .post(t.url("/imports/8a"))
        .bearer_auth(access)
        .header("content-type", "text/csv")
        .body(fixture("8a/sample.csv"))
        .send()
        .await
        .unwrap();
    let gym = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(access)
        .json(&json!({"name": "Ghost Gym"}))
        .send()
        .await
        .unwrap();

    // Each is refused as the client's fault (the account is gone), not as a failing
    // service, and leaves nothing behind that belongs to no one.
    let mut accepted = Vec::new();
    for (call, response) in [
        ("POST /sessions", session),
        ("POST /imports/8a", import),
        ("POST /gyms", gym),
    ] {
        if !response.status().is_client_error() {
            accepted.push(format!("{call}: {}", response.status()));
        }
    }
    let found: Value = t
        .http
        .get(t.url("/gyms?q=ghost"))
        .bearer_auth(&witness)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        accepted.is_empty(),
        "a deleted account's token was taken: {accepted:?}"
    );
    assert_eq!(
        found["items"],
        json!([]),
        "no gym is left with a deleted manager"
    );
    t.stop().await;
}
