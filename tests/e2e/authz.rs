//! The authorization matrix of the public API: every call that changes or reveals data,
//! made as the owner of the data, as another signed-in climber, as a gym manager, with no
//! token, with a garbage token and with an expired-looking one. A refused write must
//! leave the object exactly as it was, read back by its owner; an allowed one must show.
//!
//! Each row of a table is one call; its columns are the statuses expected for each
//! caller: `own` the climber who owns the data (and created the gym), `oth` another
//! signed-in climber, `mgr` a second manager of the gym, `non` no token, `bad` a garbage
//! token, `exp` an expired token signed by an unknown key; `0` where that caller means
//! nothing for the call. Every cell runs against fresh data, and every failing cell is
//! reported at once.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use clmb::{RateLimits, Timeouts};
use clmb_common::auth::{KeyPair, TokenKind, TokenSigner};
use clmb_tests::TestStack;
use serde_json::{Value, json};

/// Who makes a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    Other,
    Manager,
    Nobody,
    Garbage,
    Expired,
}

const COLUMNS: [Who; 6] = [
    Who::Owner,
    Who::Other,
    Who::Manager,
    Who::Nobody,
    Who::Garbage,
    Who::Expired,
];

/// One call and what each caller gets, in the order of [`COLUMNS`].
struct Row {
    /// `METHOD /path`, with `{gym}`, `{route}`, `{session}`, `{climb}`, `{owner}`,
    /// `{other}` and `{manager}` filled in per cell.
    call: &'static str,
    body: Option<&'static str>,
    /// What the owner reads back to see whether the call changed anything.
    readback: Option<&'static str>,
    expect: [u16; 6],
}

const fn row(
    call: &'static str,
    body: Option<&'static str>,
    readback: Option<&'static str>,
    expect: [u16; 6],
) -> Row {
    Row {
        call,
        body,
        readback,
        expect,
    }
}

const RENAME_GYM: Option<&str> = Some(r#"{"name": "Renamed"}"#);
const NEW_ROUTE: Option<&str> = Some(r#"{"discipline": "boulder", "grade": "V2"}"#);
const REGRADE: Option<&str> = Some(r#"{"grade": "V7"}"#);
const RENAME_SESSION: Option<&str> = Some(r#"{"name": "Renamed", "mood_rating": 2}"#);
const NEW_CLIMB: Option<&str> =
    Some(r#"{"discipline": "boulder", "grade": "V1", "attempt_type": "flash"}"#);
const CHANGE_CLIMB: Option<&str> = Some(r#"{"rating": 1, "notes": "changed"}"#);
const NEW_GYM: Option<&str> = Some(r#"{"name": "Another"}"#);
const NEW_SESSION: Option<&str> = Some(r#"{"name": "Evening"}"#);
const NONE: Option<&str> = None;

/// Calls on a public climber's data and on the climber's gym (the climber created it and
/// a second user manages it too).
#[rustfmt::skip]
fn public_matrix() -> Vec<Row> {
    let gym = Some("/gyms/{gym}");
    let route = Some("/routes/{route}");
    let routes = Some("/gyms/{gym}/routes");
    let session = Some("/sessions/{session}");
    let me = Some("/users/me");
    let display_name = Some(r#"{"display_name": "Changed"}"#);
    let add_other = Some(r#"{"user_id": "{other}"}"#);
    let archive = Some(r#"{"active": false}"#);
    let end = Some("{}");
    vec![
        //  call                                    body            readback  own  oth  mgr  non  bad  exp
        // Accounts and profiles.
        row("GET /users/{owner}",                   NONE,           NONE,    [200, 200, 200, 401, 401, 401]),
        row("GET /users/me",                        NONE,           NONE,    [200,   0,   0, 401, 401, 401]),
        row("PATCH /users/me",                      display_name,   me,      [200,   0,   0, 401, 401, 401]),
        row("DELETE /users/me",                     NONE,           me,      [  0,   0,   0, 401, 401, 401]),
        row("GET /users/me/export?format=json",     NONE,           NONE,    [200,   0,   0, 401, 401, 401]),
        row("GET /users/me/export?format=csv",      NONE,           NONE,    [200,   0,   0, 401, 401, 401]),
        // Gyms, managers and routes: reads are public, writes are the managers'.
        row("POST /gyms",                           NEW_GYM,        NONE,    [201, 201,   0, 401, 401, 401]),
        row("GET /gyms/{gym}",                      NONE,           NONE,    [200, 200, 200, 200, 401, 401]),
        row("PATCH /gyms/{gym}",                    RENAME_GYM,     gym,     [200, 403, 200, 401, 401, 401]),
        row("DELETE /gyms/{gym}",                   NONE,           gym,     [204, 403, 204, 401, 401, 401]),
        row("POST /gyms/{gym}/managers",            add_other,      gym,     [201, 403, 201, 401, 401, 401]),
        row("DELETE /gyms/{gym}/managers/{manager}", NONE,          gym,     [204, 403, 204, 401, 401, 401]),
        row("DELETE /gyms/{gym}/managers/{owner}",  NONE,           gym,     [204, 403, 204, 401, 401, 401]),
        row("GET /gyms/{gym}/routes",               NONE,           NONE,    [200, 200, 200, 200, 401, 401]),
        row("POST /gyms/{gym}/routes",              NEW_ROUTE,      routes,  [201, 403, 201, 401, 401, 401]),
        row("GET /routes/{route}",                  NONE,           NONE,    [200, 200, 200, 200, 401, 401]),
        row("PATCH /routes/{route}",                REGRADE,        route,   [200, 403, 200, 401, 401, 401]),
        row("PATCH /routes/{route}",                archive,        route,   [200, 403, 200, 401, 401, 401]),
        row("DELETE /routes/{route}",               NONE,           route,   [204, 403, 204, 401, 401, 401]),
        // Sessions and climbs: anyone signed in reads a public log; only its climber
        // writes it, and a manager of the gym has no say over it.
        row("POST /sessions",                       NEW_SESSION,    NONE,    [201, 201,   0, 401, 401, 401]),
        row("GET /sessions/{session}",              NONE,           NONE,    [200, 200, 200, 401, 401, 401]),
        row("GET /sessions/{session}/detail",       NONE,           NONE,    [200, 200, 200, 401, 401, 401]),
        row("PATCH /sessions/{session}",            RENAME_SESSION, session, [200, 403, 403, 401, 401, 401]),
        row("POST /sessions/{session}/end",         end,            session, [200, 403, 403, 401, 401, 401]),
        row("DELETE /sessions/{session}",           NONE,           session, [204, 403, 403, 401, 401, 401]),
        row("POST /sessions/{session}/climbs",      NEW_CLIMB,      session, [201, 403, 403, 401, 401, 401]),
        row("PATCH /climbs/{climb}",                CHANGE_CLIMB,   session, [200, 403, 403, 401, 401, 401]),
        row("DELETE /climbs/{climb}",               NONE,           session, [204, 403, 403, 401, 401, 401]),
        row("GET /users/{owner}/sessions",          NONE,           NONE,    [200, 200, 200, 401, 401, 401]),
        row("GET /users/{owner}/stats",             NONE,           NONE,    [200, 200, 200, 401, 401, 401]),
        row("GET /users/{owner}/overview",          NONE,           NONE,    [200, 200, 200, 401, 401, 401]),
        row("POST /imports/8a",                     NONE,           NONE,    [  0,   0,   0, 401, 401, 401]),
    ]
}

/// The same calls on a climber whose profile is private: whoever is not the climber gets
/// 404, for reads and writes alike, as if nothing were there.
#[rustfmt::skip]
fn private_matrix() -> Vec<Row> {
    let session = Some("/sessions/{session}");
    let end = Some("{}");
    vec![
        //  call                                    body            readback  own  oth  mgr  non  bad  exp
        row("GET /users/{owner}",                   NONE,           NONE,    [200, 404, 404, 401, 401, 401]),
        row("GET /users/{owner}/sessions",          NONE,           NONE,    [200, 404, 404, 401, 401, 401]),
        row("GET /users/{owner}/stats",             NONE,           NONE,    [200, 404, 404, 401, 401, 401]),
        row("GET /users/{owner}/overview",          NONE,           NONE,    [200, 404, 404, 401, 401, 401]),
        row("GET /sessions/{session}",              NONE,           NONE,    [200, 404, 404, 401, 401, 401]),
        row("GET /sessions/{session}/detail",       NONE,           NONE,    [200, 404, 404, 401, 401, 401]),
        row("PATCH /sessions/{session}",            RENAME_SESSION, session, [200, 404, 404, 401, 401, 401]),
        row("POST /sessions/{session}/end",         end,            session, [200, 404, 404, 401, 401, 401]),
        row("DELETE /sessions/{session}",           NONE,           session, [204, 404, 404, 401, 401, 401]),
        row("POST /sessions/{session}/climbs",      NEW_CLIMB,      session, [201, 404, 404, 401, 401, 401]),
        row("PATCH /climbs/{climb}",                CHANGE_CLIMB,   session, [200, 404, 404, 401, 401, 401]),
        row("DELETE /climbs/{climb}",               NONE,           session, [204, 404, 404, 401, 401, 401]),
        // The gym stays public: the climber's privacy covers the log, not the gym.
        row("GET /gyms/{gym}",                      NONE,           NONE,    [200, 200, 200, 200, 401, 401]),
    ]
}

/// The climbers of a matrix and the tokens of each caller.
struct Cast {
    owner: (String, String),
    other: (String, String),
    manager: (String, String),
    expired: String,
}

impl Cast {
    async fn new(t: &TestStack, prefix: &str) -> Self {
        let owner = t.register(&format!("{prefix}_owner")).await;
        let other = t.register(&format!("{prefix}_other")).await;
        let manager = t.register(&format!("{prefix}_manager")).await;
        Self {
            expired: expired_looking_token(&owner.1),
            owner,
            other,
            manager,
        }
    }

    fn token(&self, who: Who) -> Option<String> {
        match who {
            Who::Owner => Some(self.owner.0.clone()),
            Who::Other => Some(self.other.0.clone()),
            Who::Manager => Some(self.manager.0.clone()),
            Who::Nobody => None,
            Who::Garbage => Some("not-a-token".to_owned()),
            Who::Expired => Some(self.expired.clone()),
        }
    }
}

/// A well-formed JWT for `user_id` that expired an hour ago, signed by a key the stack has
/// never seen: it must not open anything, whatever part of it a verifier looks at first.
fn expired_looking_token(user_id: &str) -> String {
    let pair = KeyPair::generate().unwrap();
    let signer = TokenSigner::new(&pair, 900).unwrap();
    signer.sign(user_id, TokenKind::Access, -3600).unwrap()
}

/// The owner's gym (with a second manager) and route, and the owner's session there
/// with one climb on that route.
struct World {
    gym: String,
    route: String,
    session: String,
    climb: String,
}

async fn send(
    t: &TestStack,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = t.http.request(method, t.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn created(t: &TestStack, token: &str, path: &str, body: Value) -> String {
    let response = send(t, Some(token), "POST", path, Some(body)).await;
    assert_eq!(response.status(), 201, "POST {path}");
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

impl World {
    async fn new(t: &TestStack, cast: &Cast) -> Self {
        let owner = cast.owner.0.as_str();
        let gym = created(t, owner, "/gyms", json!({"name": "Matrix Gym"})).await;
        let added = send(
            t,
            Some(owner),
            "POST",
            &format!("/gyms/{gym}/managers"),
            Some(json!({"user_id": cast.manager.1})),
        )
        .await;
        assert_eq!(added.status(), 201, "adding the manager");
        let route = created(
            t,
            owner,
            &format!("/gyms/{gym}/routes"),
            json!({"discipline": "boulder", "grade": "V4", "colour": "red"}),
        )
        .await;
        let session = created(
            t,
            owner,
            "/sessions",
            json!({"gym_id": gym, "started_at": "2026-11-01T18:00:00Z"}),
        )
        .await;
        let climb = created(
            t,
            owner,
            &format!("/sessions/{session}/climbs"),
            json!({"route_id": route, "attempt_type": "redpoint", "attempts": 3}),
        )
        .await;
        Self {
            gym,
            route,
            session,
            climb,
        }
    }

    fn fill(&self, cast: &Cast, template: &str) -> String {
        template
            .replace("{gym}", &self.gym)
            .replace("{route}", &self.route)
            .replace("{session}", &self.session)
            .replace("{climb}", &self.climb)
            .replace("{owner}", &cast.owner.1)
            .replace("{other}", &cast.other.1)
            .replace("{manager}", &cast.manager.1)
    }
}

/// A stack without rate limits: a matrix makes hundreds of writes as one climber in a
/// minute or two, which a fast machine would turn into 429s (limits.rs tests those).
async fn unlimited() -> TestStack {
    TestStack::start_with(Timeouts {
        rate_limits: RateLimits::OFF,
        ..Timeouts::default()
    })
    .await
}

/// What the owner sees at `path`: its status and body.
async fn read_back(t: &TestStack, cast: &Cast, path: &str) -> (u16, Value) {
    let response = send(t, Some(&cast.owner.0), "GET", path, None).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Runs every cell of a matrix and answers a line for each cell that went wrong.
async fn run(t: &TestStack, cast: &Cast, rows: &[Row]) -> Vec<String> {
    let mut failures = Vec::new();
    for row in rows {
        for (who, expected) in COLUMNS.iter().zip(row.expect) {
            if expected == 0 {
                continue;
            }
            let world = World::new(t, cast).await;
            let (method, template) = row.call.split_once(' ').unwrap();
            let path = world.fill(cast, template);
            let body = row
                .body
                .map(|b| serde_json::from_str(&world.fill(cast, b)).unwrap());
            let readback = row.readback.map(|r| world.fill(cast, r));
            let before = match &readback {
                Some(path) => Some(read_back(t, cast, path).await),
                None => None,
            };
            let cell = format!("{} as {who:?}", row.call);

            let response = send(t, cast.token(*who).as_deref(), method, &path, body).await;

            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            if status != expected {
                let text = response.text().await.unwrap_or_default();
                failures.push(format!("{cell}: expected {expected}, got {status} {text}"));
                continue;
            }
            if status >= 400 && !content_type.starts_with("application/problem+json") {
                failures.push(format!("{cell}: error answered as {content_type:?}"));
            }
            if status == 201 && !response.headers().contains_key("location") {
                failures.push(format!("{cell}: 201 without a Location"));
            }
            if let (Some(path), Some(before)) = (&readback, before) {
                let after = read_back(t, cast, path).await;
                let refused = status >= 400;
                if refused && after != before {
                    failures.push(format!(
                        "{cell}: refused with {status} but {path} changed from {before:?} to {after:?}"
                    ));
                }
                if !refused && after == before {
                    failures.push(format!(
                        "{cell}: answered {status} but {path} did not change"
                    ));
                }
            }
        }
    }
    failures
}

#[tokio::test]
async fn every_call_on_public_data_answers_each_caller_as_the_contract_says() {
    let t = unlimited().await;
    let cast = Cast::new(&t, "pub").await;

    let failures = run(&t, &cast, &public_matrix()).await;

    assert!(
        failures.is_empty(),
        "{} cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    t.stop().await;
}

#[tokio::test]
async fn a_private_climbers_data_is_404_to_everyone_but_the_climber() {
    let t = unlimited().await;
    let cast = Cast::new(&t, "priv").await;
    let private = send(
        &t,
        Some(&cast.owner.0),
        "PATCH",
        "/users/me",
        Some(json!({"privacy_level": "private"})),
    )
    .await;
    assert_eq!(private.status(), 200);

    let failures = run(&t, &cast, &private_matrix()).await;

    assert!(
        failures.is_empty(),
        "{} cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    t.stop().await;
}

#[tokio::test]
async fn a_public_profile_leaves_out_email_and_names_but_the_owner_sees_them() {
    let t = TestStack::start().await;
    let (owner, owner_id) = t.register("shown").await;
    let (other, _) = t.register("looker").await;
    let named = send(
        &t,
        Some(&owner),
        "PATCH",
        "/users/me",
        Some(json!({"first_name": "Lynn", "last_name": "Hill", "bio": "Nose"})),
    )
    .await;
    assert_eq!(named.status(), 200);

    let seen: Value = send(&t, Some(&other), "GET", &format!("/users/{owner_id}"), None)
        .await
        .json()
        .await
        .unwrap();
    let own: Value = send(&t, Some(&owner), "GET", &format!("/users/{owner_id}"), None)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(seen["username"], "shown");
    assert_eq!(seen["bio"], "Nose");
    for hidden in [
        "email",
        "first_name",
        "last_name",
        "is_verified",
        "is_premium",
    ] {
        assert!(
            seen.get(hidden).is_none(),
            "the public profile shows {hidden}: {seen}"
        );
    }
    assert_eq!(own["email"], "shown@example.com");
    assert_eq!(own["first_name"], "Lynn");
    assert_eq!(own["last_name"], "Hill");
    t.stop().await;
}

#[tokio::test]
async fn logging_out_with_someone_elses_refresh_token_does_not_revoke_it() {
    let t = TestStack::start().await;
    let owner: Value = t
        .http
        .post(t.url("/auth/register"))
        .json(&json!({"email": "victim@example.com", "username": "victim",
                      "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (other, _) = t.register("thief").await;

    let logout = t
        .http
        .post(t.url("/auth/logout"))
        .bearer_auth(&other)
        .json(&json!({"refresh_token": owner["refresh_token"]}))
        .send()
        .await
        .unwrap();
    let refreshed = t
        .http
        .post(t.url("/auth/refresh"))
        .json(&json!({"refresh_token": owner["refresh_token"]}))
        .send()
        .await
        .unwrap();

    assert!(
        [204, 403, 404].contains(&logout.status().as_u16()),
        "logout answered {}",
        logout.status()
    );
    assert_eq!(
        refreshed.status(),
        200,
        "the owner's refresh token still works"
    );
    t.stop().await;
}

#[tokio::test]
async fn the_overview_of_another_climber_shows_only_their_public_profile() {
    let t = TestStack::start().await;
    let (owner, owner_id) = t.register("overseen").await;
    let (other, _) = t.register("overseer").await;
    let named = send(
        &t,
        Some(&owner),
        "PATCH",
        "/users/me",
        Some(json!({"first_name": "Alex", "last_name": "Honnold"})),
    )
    .await;
    assert_eq!(named.status(), 200);
    let path = format!("/users/{owner_id}/overview");

    let seen: Value = send(&t, Some(&other), "GET", &path, None)
        .await
        .json()
        .await
        .unwrap();
    let own: Value = send(&t, Some(&owner), "GET", &path, None)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(seen["user"]["username"], "overseen");
    for hidden in [
        "email",
        "first_name",
        "last_name",
        "is_verified",
        "is_premium",
    ] {
        assert!(
            seen["user"].get(hidden).is_none(),
            "another climber's overview shows {hidden}: {}",
            seen["user"]
        );
    }
    assert_eq!(own["user"]["email"], "overseen@example.com");
    assert_eq!(own["user"]["last_name"], "Honnold");
    t.stop().await;
}

#[tokio::test]
async fn a_removed_manager_can_no_longer_change_the_gym() {
    let t = TestStack::start().await;
    let cast = Cast::new(&t, "former").await;
    let world = World::new(&t, &cast).await;
    let gym = format!("/gyms/{}", world.gym);
    let removed = send(
        &t,
        Some(&cast.owner.0),
        "DELETE",
        &format!("{gym}/managers/{}", cast.manager.1),
        None,
    )
    .await;
    assert_eq!(removed.status(), 204);
    let before = read_back(&t, &cast, &gym).await;

    let rename = send(
        &t,
        Some(&cast.manager.0),
        "PATCH",
        &gym,
        Some(json!({"name": "Taken Over"})),
    )
    .await;
    let route = send(
        &t,
        Some(&cast.manager.0),
        "PATCH",
        &format!("/routes/{}", world.route),
        Some(json!({"grade": "V9"})),
    )
    .await;

    assert_eq!(rename.status(), 403);
    assert_eq!(route.status(), 403);
    assert_eq!(read_back(&t, &cast, &gym).await, before);
    assert_eq!(before.1["managers"], json!([cast.owner.1]));
    t.stop().await;
}

#[tokio::test]
async fn an_export_holds_the_callers_logbook_and_nobody_elses() {
    let t = TestStack::start().await;
    let cast = Cast::new(&t, "exp").await;
    let world = World::new(&t, &cast).await;

    let mut exports = Vec::new();
    for (token, format) in [
        (&cast.owner.0, "json"),
        (&cast.owner.0, "csv"),
        (&cast.other.0, "json"),
        (&cast.other.0, "csv"),
    ] {
        let response = send(
            &t,
            Some(token),
            "GET",
            &format!("/users/me/export?format={format}"),
            None,
        )
        .await;
        assert_eq!(response.status(), 200, "{format}");
        exports.push(response.text().await.unwrap());
    }

    assert!(
        exports[0].contains(&world.session),
        "the owner's JSON has the session"
    );
    assert!(exports[0].contains("exp_owner@example.com"));
    assert!(exports[1].contains("V4"), "the owner's CSV has the climb");
    for other in &exports[2..] {
        assert!(
            !other.contains(&world.session),
            "another's export leaks the session"
        );
        assert!(
            !other.contains(&world.climb),
            "another's export leaks the climb"
        );
        assert!(
            !other.contains("exp_owner"),
            "another's export names the owner"
        );
    }
    t.stop().await;
}

#[tokio::test]
async fn a_private_climbers_session_and_climb_are_404_exactly_like_ids_that_do_not_exist() {
    let t = unlimited().await;
    let (owner, _) = t.register("hidden").await;
    let (other, _) = t.register("prober").await;
    let private = send(
        &t,
        Some(&owner),
        "PATCH",
        "/users/me",
        Some(json!({"privacy_level": "private"})),
    )
    .await;
    assert_eq!(private.status(), 200);
    let session: Value = send(&t, Some(&owner), "POST", "/sessions", Some(json!({})))
        .await
        .json()
        .await
        .unwrap();
    let session_id = session["id"].as_str().unwrap();
    let climb: Value = send(
        &t,
        Some(&owner),
        "POST",
        &format!("/sessions/{session_id}/climbs"),
        Some(json!({"discipline": "boulder", "grade": "V2", "attempt_type": "flash"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let climb_id = climb["id"].as_str().unwrap();
    let unknown = uuid::Uuid::now_v7();

    for (real, made_up, method, body) in [
        (
            format!("/sessions/{session_id}"),
            format!("/sessions/{unknown}"),
            "GET",
            None,
        ),
        (
            format!("/sessions/{session_id}"),
            format!("/sessions/{unknown}"),
            "PATCH",
            Some(json!({"name": "x"})),
        ),
        (
            format!("/sessions/{session_id}/climbs"),
            format!("/sessions/{unknown}/climbs"),
            "POST",
            Some(json!({"discipline": "boulder", "grade": "V2", "attempt_type": "flash"})),
        ),
        (
            format!("/climbs/{climb_id}"),
            format!("/climbs/{unknown}"),
            "PATCH",
            Some(json!({"notes": "x"})),
        ),
        (
            format!("/climbs/{climb_id}"),
            format!("/climbs/{unknown}"),
            "DELETE",
            None,
        ),
    ] {
        let hidden = send(&t, Some(&other), method, &real, body.clone()).await;
        let absent = send(&t, Some(&other), method, &made_up, body).await;
        assert_eq!(hidden.status(), 404, "{method} {real}");
        assert_eq!(absent.status(), 404, "{method} {made_up}");
        let hidden: Value = hidden.json().await.unwrap();
        let absent: Value = absent.json().await.unwrap();
        assert_eq!(hidden["detail"], absent["detail"], "{method} {real}");
        assert_eq!(hidden["title"], absent["title"], "{method} {real}");
    }
    t.stop().await;
}
