//! Every error of the public API is `application/problem+json` with `type`, `title` and
//! `status`, and a validation error names the field at fault: malformed bodies, wrong
//! content types, oversized bodies, unknown routes and methods, bad path and query
//! parameters, the field rules of api.md, conflicts, and logins that must not tell which
//! accounts exist. Also the `X-Request-Id` round trip.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use clmb_tests::TestStack;
use serde_json::{Value, json};

/// Checks that `response` is a problem document of `status` and answers its body.
async fn problem(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "status; body: {text}");
    assert!(
        content_type.starts_with("application/problem+json"),
        "a {status} answered as {content_type:?}: {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert!(body["type"].is_string(), "type in {body}");
    assert!(body["title"].is_string(), "title in {body}");
    assert_eq!(body["status"], status, "status in {body}");
    assert!(body["detail"].is_string(), "detail in {body}");
    body
}

/// The fields a validation problem names.
fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"))
        .iter()
        .map(|e| {
            assert!(
                !e["message"].as_str().unwrap_or_default().is_empty(),
                "a message for {e}"
            );
            e["field"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Checks that `response` is a 422 (or 400) naming `field`.
async fn names_field(response: reqwest::Response, status: u16, field: &str) -> Value {
    let body = problem(response, status).await;
    let named = fields(&body);
    assert!(
        named.iter().any(|f| f == field),
        "expected {field} among {named:?}"
    );
    body
}

async fn register(t: &TestStack, email: &str, username: &str, password: &str) -> reqwest::Response {
    t.http
        .post(t.url("/auth/register"))
        .json(&json!({"email": email, "username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn new_session(t: &TestStack, token: &str, body: Value) -> Value {
    let response = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn malformed_json_is_400_and_a_wrong_content_type_is_415() {
    let t = TestStack::start().await;
    let (token, _) = t.register("shape").await;

    let malformed = t
        .http
        .post(t.url("/auth/register"))
        .header("content-type", "application/json")
        .body(r#"{"email": "a@example.com", "username": "#)
        .send()
        .await
        .unwrap();
    let plain = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(r#"{"name": "Plain"}"#)
        .send()
        .await
        .unwrap();
    let form = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(&token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=x")
        .send()
        .await
        .unwrap();

    problem(malformed, 400).await;
    problem(plain, 415).await;
    problem(form, 415).await;
    let gyms: Value = t
        .http
        .get(t.url("/gyms?q=plain"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gyms["items"], json!([]), "nothing was created");
    t.stop().await;
}

#[tokio::test]
async fn a_json_body_over_1_mib_is_413_and_an_import_over_10_mib_is_413() {
    let t = TestStack::start().await;
    let (token, _) = t.register("big").await;
    let huge_name = "x".repeat(1024 * 1024 + 16);
    let mut huge_csv = b"Route/Boulder Name,difficulty,Sector Name,Crag Name,Town,Country,type,\
Route or Boulder,tries,date\n"
        .to_vec();
    let line = b"Big,7a,Sector,Crag,Town,FR,redpoint,route,2,2020-01-01\n";
    while huge_csv.len() <= 10 * 1024 * 1024 + 1024 {
        huge_csv.extend_from_slice(line);
    }

    let json_body = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": huge_name}))
        .send()
        .await
        .unwrap();
    let import = t
        .http
        .post(t.url("/imports/8a"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(huge_csv)
        .send()
        .await
        .unwrap();

    problem(json_body, 413).await;
    problem(import, 413).await;
    let sessions: Value = t
        .http
        .get(t.url("/users/me/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        sessions["items"],
        json!([]),
        "the refused import wrote nothing"
    );
    t.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_always_413_never_503_whether_it_has_a_length_or_is_chunked() {
    let t = TestStack::start().await;
    let (token, _) = t.register("heavy").await;
    let body = serde_json::to_vec(&json!({"bio": "a".repeat(2 * 1024 * 1024)})).unwrap();

    // The service hanging up on a body it will not read raced the upload: 1 in 10 was 503.
    for _ in 0..20 {
        let with_length = t
            .http
            .patch(t.url("/users/me"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        problem(with_length, 413).await;
    }
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
        .chunks(64 * 1024)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    let chunked = t
        .http
        .post(t.url("/auth/register"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    problem(chunked, 413).await;

    let me: Value = t
        .http
        .get(t.url("/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["bio"], Value::Null, "nothing changed");
    t.stop().await;
}

#[tokio::test]
async fn an_unknown_route_is_404_and_a_wrong_method_is_405() {
    let t = TestStack::start().await;
    let (token, _) = t.register("lost").await;
    let root = format!("http://{}", t.stack().gateway);

    let unknown = t
        .http
        .get(t.url("/no-such-thing"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let outside = t
        .http
        .get(format!("{root}/no-such-thing"))
        .send()
        .await
        .unwrap();
    let put_gyms = t
        .http
        .put(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": "Put"}))
        .send()
        .await
        .unwrap();
    let delete_grades = t
        .http
        .delete(t.url("/grade-systems"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let post_document = t
        .http
        .post(t.url("/openapi.json"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    problem(unknown, 404).await;
    problem(outside, 404).await;
    problem(put_gyms, 405).await;
    problem(delete_grades, 405).await;
    problem(post_document, 405).await;
    t.stop().await;
}

#[tokio::test]
async fn a_path_parameter_that_is_not_a_uuid_is_400_naming_it() {
    let t = TestStack::start().await;
    let (token, _) = t.register("pathy").await;

    let gym = t.http.get(t.url("/gyms/not-a-uuid")).send().await.unwrap();
    let route = t.http.get(t.url("/routes/42")).send().await.unwrap();
    let session = t
        .http
        .get(t.url("/sessions/not-a-uuid"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let climb = t
        .http
        .patch(t.url("/climbs/not-a-uuid"))
        .bearer_auth(&token)
        .json(&json!({"rating": 3}))
        .send()
        .await
        .unwrap();
    let user = t
        .http
        .get(t.url("/users/not-a-uuid"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    names_field(gym, 400, "gym_id").await;
    names_field(route, 400, "route_id").await;
    names_field(session, 400, "session_id").await;
    names_field(climb, 400, "climb_id").await;
    names_field(user, 400, "user_id").await;
    t.stop().await;
}

#[tokio::test]
async fn a_bad_limit_or_a_tampered_cursor_is_400_naming_the_parameter() {
    let t = TestStack::start().await;
    let (token, _) = t.register("query").await;
    for day in 1..=3 {
        new_session(
            &t,
            &token,
            json!({"started_at": format!("2026-10-0{day}T10:00:00Z")}),
        )
        .await;
    }
    let first: Value = t
        .http
        .get(t.url("/users/me/sessions?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let mut tampered = cursor.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();

    let get = |query: String| {
        t.http
            .get(t.url(&format!("/users/me/sessions?{query}")))
            .bearer_auth(&token)
            .send()
    };
    let zero = get("limit=0".to_owned()).await.unwrap();
    let too_many = get("limit=101".to_owned()).await.unwrap();
    let words = get("limit=abc".to_owned()).await.unwrap();
    let edited = get(format!("limit=1&cursor={tampered}")).await.unwrap();
    let garbage = get("cursor=not-a-cursor".to_owned()).await.unwrap();
    let gyms_zero = t.http.get(t.url("/gyms?limit=0")).send().await.unwrap();

    names_field(zero, 400, "limit").await;
    names_field(too_many, 400, "limit").await;
    names_field(words, 400, "limit").await;
    let edited = problem(edited, 400).await;
    assert!(
        edited.to_string().contains("cursor"),
        "names the cursor: {edited}"
    );
    problem(garbage, 400).await;
    names_field(gyms_zero, 400, "limit").await;
    t.stop().await;
}

#[tokio::test]
async fn registration_applies_the_username_password_and_email_rules_naming_the_field() {
    let t = TestStack::start().await;
    let long_password = "p".repeat(129);
    let cases = [
        ("short@example.com", "ab", "long enough", "username"),
        (
            "long@example.com",
            &"a".repeat(31),
            "long enough",
            "username",
        ),
        ("space@example.com", "has space", "long enough", "username"),
        ("bang@example.com", "bang!", "long enough", "username"),
        ("accent@example.com", "café", "long enough", "username"),
        ("weak@example.com", "weakling", "seven77", "password"),
        ("huge@example.com", "hugepass", &long_password, "password"),
        ("not-an-email", "noemail", "long enough", "email"),
        ("", "emptymail", "long enough", "email"),
    ];

    for (email, username, password, field) in cases {
        let response = register(&t, email, username, password).await;

        names_field(response, 422, field).await;
    }
    let edges = [
        ("three@example.com", "a.b", &"8 chars!".to_owned()),
        ("thirty@example.com", &"a_-.9".repeat(6), &"p".repeat(128)),
    ];
    for (email, username, password) in edges {
        let response = register(&t, email, username, password).await;
        assert_eq!(
            response.status(),
            201,
            "{username} / {} chars",
            password.len()
        );
    }
    t.stop().await;
}

#[tokio::test]
async fn a_taken_email_or_username_is_409_whatever_its_case() {
    let t = TestStack::start().await;
    let first = register(&t, "dup@example.com", "dupe", "long enough").await;
    assert_eq!(first.status(), 201);

    let email = register(&t, "DUP@Example.COM", "another", "long enough").await;
    let username = register(&t, "other@example.com", "DuPe", "long enough").await;

    problem(email, 409).await;
    problem(username, 409).await;
    let login = t
        .http
        .post(t.url("/auth/login"))
        .json(&json!({"login": "other@example.com", "password": "long enough"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401, "the refused account does not exist");
    t.stop().await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let t = TestStack::start().await;
    t.register("known").await;
    let login = |login: &'static str, password: &'static str| {
        t.http
            .post(t.url("/auth/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
    };

    let wrong = problem(login("known", "wrong password").await.unwrap(), 401).await;
    let wrong_by_email = problem(
        login("known@example.com", "wrong password").await.unwrap(),
        401,
    )
    .await;
    let unknown = problem(login("nobody", "wrong password").await.unwrap(), 401).await;

    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["title"], unknown["title"]);
    assert_eq!(wrong["type"], unknown["type"]);
    assert_eq!(wrong_by_email["detail"], unknown["detail"]);
    t.stop().await;
}

#[tokio::test]
async fn patching_a_read_only_or_unknown_profile_field_is_422_naming_it_and_changes_nothing() {
    let t = TestStack::start().await;
    let (token, id) = t.register("steady").await;
    let me = || t.http.get(t.url("/users/me")).bearer_auth(&token).send();
    let before: Value = me().await.unwrap().json().await.unwrap();
    let refused = [
        ("id", json!(uuid::Uuid::new_v4())),
        ("email", json!("new@example.com")),
        ("is_verified", json!(true)),
        ("is_premium", json!(true)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("favourite_colour", json!("green")),
    ];

    for (field, value) in refused {
        let mut body = json!({"display_name": "Changed"});
        body[field] = value;
        let response = t
            .http
            .patch(t.url("/users/me"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();

        names_field(response, 422, field).await;
        let after: Value = me().await.unwrap().json().await.unwrap();
        assert_eq!(after, before, "PATCH with {field} changed the profile");
    }
    assert_eq!(before["id"], json!(id));
    t.stop().await;
}

#[tokio::test]
async fn session_rules_give_422_naming_the_field_and_409_when_ended_twice() {
    let t = TestStack::start().await;
    let (token, _) = t.register("rules").await;
    let session = new_session(&t, &token, json!({"started_at": "2026-11-20T18:00:00Z"})).await;
    let id = session["id"].as_str().unwrap();
    let end = |body: Value| {
        t.http
            .post(t.url(&format!("/sessions/{id}/end")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    let moody = t
        .http
        .patch(t.url(&format!("/sessions/{id}")))
        .bearer_auth(&token)
        .json(&json!({"mood_rating": 6}))
        .send()
        .await
        .unwrap();
    let drained = t
        .http
        .patch(t.url(&format!("/sessions/{id}")))
        .bearer_auth(&token)
        .json(&json!({"energy_rating": 0}))
        .send()
        .await
        .unwrap();
    let early = end(json!({"ended_at": "2026-11-20T17:59:00Z"}))
        .await
        .unwrap();
    let ended = end(json!({"ended_at": "2026-11-20T20:00:00Z"}))
        .await
        .unwrap();
    let again = end(json!({"ended_at": "2026-11-20T21:00:00Z"}))
        .await
        .unwrap();
    let nowhere = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(&token)
        .json(&json!({"gym_id": uuid::Uuid::new_v4()}))
        .send()
        .await
        .unwrap();

    names_field(moody, 422, "mood_rating").await;
    names_field(drained, 422, "energy_rating").await;
    names_field(early, 422, "ended_at").await;
    assert_eq!(ended.status(), 200);
    problem(again, 409).await;
    names_field(nowhere, 422, "gym_id").await;
    let shown: Value = t
        .http
        .get(t.url(&format!("/sessions/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["mood_rating"], Value::Null);
    assert_eq!(shown["ended_at"], "2026-11-20T20:00:00Z");
    assert_eq!(shown["duration_minutes"], 120);
    t.stop().await;
}

#[tokio::test]
async fn a_free_form_climb_missing_a_field_names_only_the_fields_at_fault() {
    let t = TestStack::start().await;
    let (token, _) = t.register("fields").await;
    let session = new_session(&t, &token, json!({})).await;
    let id = session["id"].as_str().unwrap();
    let cases = [
        (json!({"discipline": "boulder"}), vec!["grade"]),
        (json!({"grade": "V3"}), vec!["discipline"]),
        (json!({}), vec!["discipline", "grade"]),
        (json!({"discipline": "ice"}), vec!["discipline", "grade"]),
        (
            json!({"discipline": "ice", "grade": "WI3"}),
            vec!["discipline"],
        ),
        (json!({"discipline": "sport", "grade": "V3"}), vec!["grade"]),
    ];

    for (mut body, expected) in cases {
        body["attempt_type"] = json!("flash");
        let response = t
            .http
            .post(t.url(&format!("/sessions/{id}/climbs")))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();

        let problem = problem(response, 422).await;
        let mut named = fields(&problem);
        named.sort();
        assert_eq!(named, expected, "{body}");
    }
    t.stop().await;
}

#[tokio::test]
async fn a_climb_whose_attempt_type_contradicts_its_result_is_422() {
    let t = TestStack::start().await;
    let (token, _) = t.register("contra").await;
    let session = new_session(&t, &token, json!({})).await;
    let id = session["id"].as_str().unwrap();
    let contradictions = [
        json!({"attempt_type": "onsight", "attempts": 3}),
        json!({"attempt_type": "flash", "attempts": 2}),
        json!({"attempt_type": "flash", "success": false}),
        json!({"attempt_type": "redpoint", "success": false}),
        json!({"attempt_type": "repeat", "success": false}),
        json!({"attempt_type": "attempt", "success": true}),
        json!({"attempt_type": "sent-it"}),
        json!({"attempt_type": "flash", "rating": 6}),
    ];

    for mut body in contradictions {
        body["discipline"] = json!("boulder");
        body["grade"] = json!("V3");
        let response = t
            .http
            .post(t.url(&format!("/sessions/{id}/climbs")))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();

        let problem = problem(response, 422).await;
        let named = fields(&problem);
        assert!(
            named.iter().any(|f| body.get(f).is_some()),
            "{body} names one of its fields: {named:?}"
        );
    }
    let missing_grade = t
        .http
        .post(t.url(&format!("/sessions/{id}/climbs")))
        .bearer_auth(&token)
        .json(&json!({"discipline": "boulder"}))
        .send()
        .await
        .unwrap();
    names_field(missing_grade, 422, "grade").await;
    let shown: Value = t
        .http
        .get(t.url(&format!("/sessions/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["climbs"], json!([]), "no refused climb was logged");
    t.stop().await;
}

#[tokio::test]
async fn a_given_request_id_is_echoed_and_a_missing_one_is_generated() {
    let t = TestStack::start().await;

    let given = t
        .http
        .get(t.url("/grade-systems"))
        .header("x-request-id", "e2e-trace-42")
        .send()
        .await
        .unwrap();
    let given_on_error = t
        .http
        .get(t.url("/gyms/not-a-uuid"))
        .header("x-request-id", "e2e-trace-43")
        .send()
        .await
        .unwrap();
    let given_refused = t
        .http
        .get(t.url("/users/me"))
        .header("x-request-id", "e2e-trace-44")
        .send()
        .await
        .unwrap();
    let generated = t.http.get(t.url("/grade-systems")).send().await.unwrap();
    let generated_on_error = t.http.get(t.url("/nowhere")).send().await.unwrap();
    let too_long = t
        .http
        .get(t.url("/grade-systems"))
        .header("x-request-id", "x".repeat(5000))
        .send()
        .await
        .unwrap();
    let with_spaces = t
        .http
        .get(t.url("/grade-systems"))
        .header("x-request-id", "two words")
        .send()
        .await
        .unwrap();

    assert_eq!(given.headers()["x-request-id"], "e2e-trace-42");
    assert_eq!(given_on_error.headers()["x-request-id"], "e2e-trace-43");
    assert_eq!(given_refused.status(), 401);
    assert_eq!(given_refused.headers()["x-request-id"], "e2e-trace-44");
    for response in [generated, generated_on_error, too_long, with_spaces] {
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id} is a UUID");
    }
    t.stop().await;
}

#[tokio::test]
async fn a_bad_query_parameter_is_400_naming_it_on_every_list() {
    let t = TestStack::start().await;
    let (token, _) = t.register("asker").await;
    let gym = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": "Query Gym"}))
        .send()
        .await
        .unwrap();
    let gym: Value = gym.json().await.unwrap();
    let gym_id = gym["id"].as_str().unwrap();
    let cases = [
        ("/users/me/sessions?from=2026-13-01".to_owned(), "from"),
        ("/users/me/sessions?to=yesterday".to_owned(), "to"),
        ("/users/me/sessions?gym_id=nope".to_owned(), "gym_id"),
        ("/users/me/stats?discipline=ice".to_owned(), "discipline"),
        (
            "/users/me/stats?grade_system=klingon".to_owned(),
            "grade_system",
        ),
        ("/users/me/stats?from=01/02/2026".to_owned(), "from"),
        ("/users/me/export?format=xml".to_owned(), "format"),
        (format!("/gyms/{gym_id}/routes?active=maybe"), "active"),
        (format!("/gyms/{gym_id}/routes?limit=-1"), "limit"),
        ("/gyms?radius_km=far".to_owned(), "radius_km"),
        ("/gyms?limit=1000".to_owned(), "limit"),
    ];

    for (path, field) in cases {
        let response = t
            .http
            .get(t.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();

        let body = problem(response, 400).await;
        assert!(
            body.to_string().contains(field),
            "{path}: the problem names {field}: {body}"
        );
    }
    t.stop().await;
}

#[tokio::test]
async fn an_unknown_id_is_404_for_every_kind_of_object() {
    let t = TestStack::start().await;
    let (token, _) = t.register("seeker").await;
    let unknown = uuid::Uuid::new_v4();
    let paths = [
        format!("/users/{unknown}"),
        format!("/users/{unknown}/sessions"),
        format!("/users/{unknown}/stats"),
        format!("/users/{unknown}/overview"),
        format!("/gyms/{unknown}"),
        format!("/gyms/{unknown}/routes"),
        format!("/routes/{unknown}"),
        format!("/sessions/{unknown}"),
        format!("/sessions/{unknown}/detail"),
    ];

    for path in paths {
        let response = t
            .http
            .get(t.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();

        let body = problem(response, 404).await;
        assert!(body["detail"].is_string(), "{path}: {body}");
    }
    let climb = t
        .http
        .patch(t.url(&format!("/climbs/{unknown}")))
        .bearer_auth(&token)
        .json(&json!({"rating": 2}))
        .send()
        .await
        .unwrap();
    problem(climb, 404).await;
    let source = t
        .http
        .post(t.url("/imports/climbing-diary"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body("a,b\n1,2\n")
        .send()
        .await
        .unwrap();
    problem(source, 404).await;
    t.stop().await;
}

#[tokio::test]
async fn a_wrong_method_is_405_with_an_allow_header_on_services_and_gateway_routes() {
    let t = TestStack::start().await;
    let (token, _) = t.register("methodical").await;

    let forwarded = t
        .http
        .put(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let composed = t
        .http
        .post(t.url("/users/me/overview"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();

    for response in [forwarded, composed] {
        let allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        problem(response, 405).await;
        assert!(allow.is_some_and(|a| a.contains("GET")), "Allow lists GET");
    }
    t.stop().await;
}

#[tokio::test]
async fn gym_and_route_rules_give_422_naming_the_field_and_the_last_manager_stays() {
    let t = TestStack::start().await;
    let (token, user_id) = t.register("gymrat").await;
    let gym: Value = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": "Rule Gym"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gym_id = gym["id"].as_str().unwrap();
    let route = |body: Value| {
        t.http
            .post(t.url(&format!("/gyms/{gym_id}/routes")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    let font_in_v_gym = route(json!({"discipline": "boulder", "grade": "7A"}))
        .await
        .unwrap();
    let nonsense = route(json!({"discipline": "boulder", "grade": "banana"}))
        .await
        .unwrap();
    let no_discipline = route(json!({"discipline": "ice", "grade": "V3"}))
        .await
        .unwrap();
    let unknown_field = route(json!({"discipline": "boulder", "grade": "V3", "holds": 12}))
        .await
        .unwrap();
    let nameless = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"city": "Nowhere"}))
        .send()
        .await
        .unwrap();
    let last_manager = t
        .http
        .delete(t.url(&format!("/gyms/{gym_id}/managers/{user_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    names_field(font_in_v_gym, 422, "grade").await;
    let nonsense = names_field(nonsense, 422, "grade").await;
    let message = nonsense["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("V"),
        "the accepted forms are shown: {message}"
    );
    names_field(no_discipline, 422, "discipline").await;
    names_field(unknown_field, 422, "holds").await;
    names_field(nameless, 422, "name").await;
    problem(last_manager, 409).await;
    let kept: Value = t
        .http
        .get(t.url(&format!("/gyms/{gym_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept["managers"], json!([user_id]));
    let routes: Value = t
        .http
        .get(t.url(&format!("/gyms/{gym_id}/routes?active=all")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(routes["items"], json!([]), "no refused route was set");
    t.stop().await;
}

#[tokio::test]
async fn a_profiles_current_grades_are_read_like_any_grade_and_stored_canonically() {
    let t = TestStack::start().await;
    let (token, _) = t.register("grader").await;
    let patch = |body: Value| {
        t.http
            .patch(t.url("/users/me"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    let set = patch(json!({"current_boulder_grade": "v 5", "current_rope_grade": "5.10a/b"}))
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let me: Value = set.json().await.unwrap();
    assert_eq!(me["current_boulder_grade"], "V5");
    assert_eq!(me["current_rope_grade"], "5.10a/b");
    for (field, value) in [
        ("current_boulder_grade", "V99"),
        ("current_boulder_grade", "5.10a"),
        ("current_rope_grade", "V5"),
        ("current_rope_grade", "hard"),
    ] {
        let refused = patch(json!({ field: value })).await.unwrap();
        names_field(refused, 422, field).await;
    }
    let cleared = patch(json!({"current_rope_grade": null})).await.unwrap();
    let me: Value = cleared.json().await.unwrap();
    assert_eq!(me["current_rope_grade"], Value::Null);
    assert_eq!(
        me["current_boulder_grade"], "V5",
        "refused changes changed nothing"
    );
    t.stop().await;
}

#[tokio::test]
async fn session_and_climb_times_stay_between_1900_and_tomorrow() {
    let t = TestStack::start().await;
    let (token, _) = t.register("timely").await;
    let session = new_session(&t, &token, json!({"started_at": "2026-11-02T10:00:00Z"})).await;
    let id = session["id"].as_str().unwrap();
    let send = |method: reqwest::Method, path: String, body: Value| {
        t.http
            .request(method, t.url(&path))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let sessions = format!("/sessions/{id}");
    let cases = [
        (
            reqwest::Method::POST,
            "/sessions".to_owned(),
            json!({"started_at": "3000-01-01T00:00:00Z"}),
            "started_at",
        ),
        (
            reqwest::Method::PATCH,
            sessions.clone(),
            json!({"started_at": "0001-01-01T00:00:00Z"}),
            "started_at",
        ),
        (
            reqwest::Method::PATCH,
            sessions.clone(),
            json!({"ended_at": "9999-12-31T23:59:59Z"}),
            "ended_at",
        ),
        (
            reqwest::Method::POST,
            format!("{sessions}/end"),
            json!({"ended_at": "3000-01-01T10:00:00Z"}),
            "ended_at",
        ),
        (
            reqwest::Method::POST,
            format!("{sessions}/climbs"),
            json!({"discipline": "boulder", "grade": "V2", "attempt_type": "flash", "climbed_at": "1850-06-01T10:00:00Z"}),
            "climbed_at",
        ),
    ];

    for (method, path, body, field) in cases {
        let response = send(method.clone(), path.clone(), body.clone())
            .await
            .unwrap();
        names_field(response, 422, field).await;
    }
    // A three-day big wall is a session, and so is one ended weeks late.
    let wall = send(
        reqwest::Method::POST,
        format!("{sessions}/end"),
        json!({"ended_at": "2026-11-05T10:00:00Z"}),
    )
    .await
    .unwrap();
    assert_eq!(wall.status(), 200);
    let wall: Value = wall.json().await.unwrap();
    assert_eq!(wall["duration_minutes"], 3 * 24 * 60);
    let forgotten = new_session(&t, &token, json!({"started_at": "2026-09-01T10:00:00Z"})).await;
    let ended_late = send(
        reqwest::Method::POST,
        format!("/sessions/{}/end", forgotten["id"].as_str().unwrap()),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(ended_late.status(), 200, "ended now, weeks later");
    let listed = t
        .http
        .get(t.url("/users/me/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        2,
        "the refused create made nothing"
    );
    t.stop().await;
}

#[tokio::test]
async fn profile_and_climb_updates_keep_the_creation_rules() {
    let t = TestStack::start().await;
    let (token, _) = t.register("first").await;
    t.register("taken").await;
    let session = new_session(&t, &token, json!({"started_at": "2026-11-02T10:00:00Z"})).await;
    let session_id = session["id"].as_str().unwrap();
    let climb = t
        .http
        .post(t.url(&format!("/sessions/{session_id}/climbs")))
        .bearer_auth(&token)
        .json(&json!({"discipline": "sport", "grade": "5.10a", "attempt_type": "flash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(climb.status(), 201);
    let climb: Value = climb.json().await.unwrap();
    let patch = |path: String, body: Value| {
        t.http
            .patch(t.url(&path))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    let taken = patch("/users/me".to_owned(), json!({"username": "TAKEN"}))
        .await
        .unwrap();
    let bad_name = patch("/users/me".to_owned(), json!({"username": "x"}))
        .await
        .unwrap();
    let bad_zone = patch("/users/me".to_owned(), json!({"timezone": "Mars/Olympus"}))
        .await
        .unwrap();
    let bad_privacy = patch("/users/me".to_owned(), json!({"privacy_level": "secret"}))
        .await
        .unwrap();
    let contradiction = patch(
        format!("/climbs/{}", climb["id"].as_str().unwrap()),
        json!({"attempts": 4}),
    )
    .await
    .unwrap();
    let backwards = patch(
        format!("/sessions/{session_id}"),
        json!({"ended_at": "2026-11-02T09:00:00Z"}),
    )
    .await
    .unwrap();

    problem(taken, 409).await;
    names_field(bad_name, 422, "username").await;
    names_field(bad_zone, 422, "timezone").await;
    names_field(bad_privacy, 422, "privacy_level").await;
    let contradiction = problem(contradiction, 422).await;
    assert!(!fields(&contradiction).is_empty());
    names_field(backwards, 422, "ended_at").await;
    let me: Value = t
        .http
        .get(t.url("/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "first");
    assert_eq!(me["privacy_level"], "public");
    let shown: Value = t
        .http
        .get(t.url(&format!("/sessions/{session_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown["climbs"][0]["attempts"], 1,
        "the flash is still a flash"
    );
    assert_eq!(shown["ended_at"], Value::Null);
    t.stop().await;
}

#[tokio::test]
async fn an_import_of_another_content_type_is_415_and_an_unknown_session_field_is_422() {
    let t = TestStack::start().await;
    let (token, _) = t.register("typist").await;

    let import = t
        .http
        .post(t.url("/imports/8a"))
        .bearer_auth(&token)
        .json(&json!({"rows": []}))
        .send()
        .await
        .unwrap();
    let session = t
        .http
        .post(t.url("/sessions"))
        .bearer_auth(&token)
        .json(&json!({"name": "x", "user_id": uuid::Uuid::new_v4()}))
        .send()
        .await
        .unwrap();

    problem(import, 415).await;
    names_field(session, 422, "user_id").await;
    t.stop().await;
}

#[tokio::test]
async fn no_error_answer_leaks_sql_or_internals() {
    let t = TestStack::start().await;
    let (token, _) = t.register("prober").await;
    let probes = [
        ("GET", "/gyms?q=%27%3B%20DROP%20TABLE%20gyms%3B--"),
        ("GET", "/users/me/sessions?cursor=%27%20OR%201%3D1"),
        ("POST", "/sessions"),
        ("GET", "/gyms/00000000-0000-0000-0000-000000000000"),
    ];

    for (method, path) in probes {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = t
            .http
            .request(method, t.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(r#"{"started_at": "not a time'"}"#)
            .send()
            .await
            .unwrap();

        let text = response.text().await.unwrap().to_lowercase();
        for leak in [
            "sqlx",
            "select ",
            "postgres",
            "panicked",
            "src/",
            "syntax error",
        ] {
            assert!(!text.contains(leak), "{path} shows {leak}: {text}");
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn a_json_body_just_under_1_mib_is_read_and_judged_on_its_fields() {
    let t = TestStack::start().await;
    let (token, _) = t.register("justunder").await;
    let name = "x".repeat(1024 * 1024 - 64);

    let response = t
        .http
        .post(t.url("/gyms"))
        .bearer_auth(&token)
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();

    names_field(response, 422, "name").await;
    t.stop().await;
}

#[tokio::test]
async fn the_same_username_registered_twice_at_once_gives_one_account_and_one_409() {
    let t = TestStack::start().await;

    let (first, second) = tokio::join!(
        register(&t, "race1@example.com", "racer", "long enough"),
        register(&t, "race2@example.com", "RACER", "long enough"),
    );

    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    let loser = if first.status() == 409 { first } else { second };
    problem(loser, 409).await;
    t.stop().await;
}

#[tokio::test]
async fn a_session_ended_twice_at_once_ends_once_and_the_other_gets_409() {
    let t = TestStack::start().await;
    let (token, _) = t.register("racing").await;
    let session = new_session(&t, &token, json!({"started_at": "2026-11-03T10:00:00Z"})).await;
    let id = session["id"].as_str().unwrap();
    let end = |at: &'static str| {
        t.http
            .post(t.url(&format!("/sessions/{id}/end")))
            .bearer_auth(&token)
            .json(&json!({"ended_at": at}))
            .send()
    };

    let (first, second) = tokio::join!(end("2026-11-03T11:00:00Z"), end("2026-11-03T12:00:00Z"));

    let (first, second) = (first.unwrap(), second.unwrap());
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let winner: Value = if first.status() == 200 {
        first.json().await.unwrap()
    } else {
        second.json().await.unwrap()
    };
    let shown: Value = t
        .http
        .get(t.url(&format!("/sessions/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown["ended_at"], winner["ended_at"],
        "the winner's end stays"
    );
    t.stop().await;
}
