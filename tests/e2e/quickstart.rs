//! The README's quickstart, through the gateway: register, set up a gym with routes, log
//! a session, import every real logbook export, and read the overview.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use clmb_tests::{TestStack, fixture};
use serde_json::{Value, json};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

#[tokio::test]
async fn a_climber_registers_logs_a_gym_session_and_reads_the_overview() {
    let t = TestStack::start().await;
    let (token, user_id) = t.register("ada").await;
    let auth = |r: reqwest::RequestBuilder| r.bearer_auth(&token);

    // A gym with two routes, one per family.
    let gym = auth(t.http.post(t.url("/gyms")))
        .json(&json!({"name": "Café Bloc", "city": "Lyon", "country": "FR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(gym.status(), 201);
    let gym = json_of(gym).await;
    let gym_id = gym["id"].as_str().unwrap().to_owned();
    assert_eq!(gym["managers"], json!([user_id]));

    let found = json_of(t.http.get(t.url("/gyms?q=cafe")).send().await.unwrap()).await;
    assert_eq!(
        found["items"][0]["id"],
        json!(gym_id),
        "search ignores accents and case"
    );

    let boulder = auth(t.http.post(t.url(&format!("/gyms/{gym_id}/routes"))))
        .json(&json!({"discipline": "boulder", "grade": "v 5", "colour": "blue"}))
        .send()
        .await
        .unwrap();
    assert_eq!(boulder.status(), 201);
    let boulder = json_of(boulder).await;
    assert_eq!(boulder["grade"], "V5");
    let rope = auth(t.http.post(t.url(&format!("/gyms/{gym_id}/routes"))))
        .json(&json!({"discipline": "sport", "grade": "5.10a", "name": "Arête"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rope.status(), 201);

    // A session at that gym: one climb on the boulder, one free-form.
    let session = auth(t.http.post(t.url("/sessions")))
        .json(&json!({"gym_id": gym_id, "started_at": "2024-06-01T18:00:00+02:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 201);
    let session = json_of(session).await;
    let session_id = session["id"].as_str().unwrap().to_owned();
    assert_eq!(session["gym_name"], "Café Bloc");
    assert_eq!(session["local_date"], "2024-06-01");

    let on_route = auth(
        t.http
            .post(t.url(&format!("/sessions/{session_id}/climbs"))),
    )
    .json(&json!({"route_id": boulder["id"], "attempt_type": "flash"}))
    .send()
    .await
    .unwrap();
    assert_eq!(on_route.status(), 201);
    let on_route = json_of(on_route).await;
    assert_eq!(
        (on_route["grade"].clone(), on_route["success"].clone()),
        (json!("V5"), json!(true))
    );
    assert_eq!(on_route["gym_name"], "Café Bloc");

    let free = auth(
        t.http
            .post(t.url(&format!("/sessions/{session_id}/climbs"))),
    )
    .json(
        &json!({"discipline": "boulder", "grade": "6C+", "attempt_type": "attempt", "attempts": 4}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(free.status(), 201);
    let free = json_of(free).await;
    assert_eq!(
        (free["grade_system"].clone(), free["success"].clone()),
        (json!("font"), json!(false))
    );

    // Regrading the route later leaves the logged climb as it was.
    let regrade = auth(
        t.http
            .patch(t.url(&format!("/routes/{}", boulder["id"].as_str().unwrap()))),
    )
    .json(&json!({"grade": "V6"}))
    .send()
    .await
    .unwrap();
    assert_eq!(regrade.status(), 200);

    let ended = auth(t.http.post(t.url(&format!("/sessions/{session_id}/end"))))
        .json(&json!({"ended_at": "2024-06-01T19:30:00+02:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    assert_eq!(json_of(ended).await["duration_minutes"], 90);

    let shown = json_of(
        auth(t.http.get(t.url(&format!("/sessions/{session_id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(shown["climb_count"], 2);
    assert_eq!(
        shown["climbs"][0]["grade"], "V5",
        "the snapshot keeps the grade at logging time"
    );

    let listed = json_of(
        auth(t.http.get(t.url("/users/me/sessions")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let overview = auth(t.http.get(t.url("/users/me/overview")))
        .send()
        .await
        .unwrap();
    assert_eq!(overview.status(), 200);
    let overview = json_of(overview).await;
    assert_eq!(overview["partial"], false);
    assert_eq!(overview["stats"]["climbs"], 2);
    assert_eq!(overview["stats"]["sends"], 1);
    assert_eq!(overview["stats"]["max_boulder_grade"], "V5");
    assert_eq!(overview["recent_sessions"][0]["gym"]["name"], "Café Bloc");

    t.stop().await;
}

/// Each real export: (source, file, ascents it holds, rows that must be rejected).
const FIXTURES: &[(&str, &str, u64, u64)] = &[
    (
        "mountain-project",
        "mountain-project/sport-trad-clean.csv",
        74,
        0,
    ),
    (
        "mountain-project",
        "mountain-project/boulders-crlf-ice.csv",
        266,
        1,
    ),
    (
        "mountain-project",
        "mountain-project/alpine-aid-multipitch.csv",
        725,
        8,
    ),
    (
        "mountain-project",
        "mountain-project/boulders-no-style.csv",
        75,
        0,
    ),
    ("thecrag", "thecrag/sample.csv", 3, 0),
    ("8a", "8a/sample.csv", 9, 0),
];

async fn import(t: &TestStack, token: &str, source: &str, file: &str) -> Value {
    let response = t
        .http
        .post(t.url(&format!("/imports/{source}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(fixture(file))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "import of {file}");
    json_of(response).await
}

#[tokio::test]
async fn every_fixture_imports_once_and_a_second_import_creates_nothing() {
    let t = TestStack::start().await;
    let (token, _) = t.register("importer").await;

    let mut total_climbs = 0;
    for (source, file, ascents, rejected) in FIXTURES {
        let first = import(&t, &token, source, file).await;
        assert_eq!(
            first["climbs_created"], *ascents,
            "{file}: every ascent becomes a climb"
        );
        assert_eq!(first["duplicates_skipped"], 0, "{file}");
        let reasons = first["rows_rejected"].as_array().unwrap();
        assert_eq!(
            reasons.len() as u64,
            *rejected,
            "{file}: rejected rows {reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .all(|r| r["line"].as_u64().unwrap() > 1
                    && !r["reason"].as_str().unwrap().is_empty())
        );
        assert!(first["sessions_created"].as_u64().unwrap() > 0, "{file}");
        total_climbs += ascents;

        let second = import(&t, &token, source, file).await;
        assert_eq!(
            second["climbs_created"], 0,
            "{file}: a second import creates no climb"
        );
        assert_eq!(
            second["sessions_created"], 0,
            "{file}: a second import creates no session"
        );
        assert_eq!(second["duplicates_skipped"], *ascents, "{file}");
    }

    let overview = json_of(
        t.http
            .get(t.url("/users/me/overview"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(overview["stats"]["climbs"], total_climbs);
    assert_eq!(overview["recent_sessions"].as_array().unwrap().len(), 5);
    assert_eq!(overview["partial"], false);

    // The ice route of the CRLF file is rejected with a reason naming ice.
    let crlf = import(
        &t,
        &token,
        "mountain-project",
        "mountain-project/boulders-crlf-ice.csv",
    )
    .await;
    let reason = crlf["rows_rejected"][0]["reason"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(reason.contains("ice"), "{reason}");

    t.stop().await;
}

#[tokio::test]
async fn an_imported_date_stays_the_climbers_calendar_date_in_any_time_zone() {
    let t = TestStack::start().await;
    let (token, _) = t.register("kiwi").await;
    let patched = t
        .http
        .patch(t.url("/users/me"))
        .bearer_auth(&token)
        .json(&json!({"timezone": "Pacific/Auckland"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);

    import(&t, &token, "thecrag", "thecrag/sample.csv").await;
    import(&t, &token, "8a", "8a/sample.csv").await;

    let sessions = json_of(
        t.http
            .get(t.url("/users/me/sessions?limit=100"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let dates: Vec<&str> = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["local_date"].as_str().unwrap())
        .collect();
    assert!(
        dates.contains(&"2023-04-21"),
        "theCrag's 2023-04-21T00:00:00Z stays 21 April: {dates:?}"
    );
    assert!(
        dates.contains(&"2019-08-30"),
        "8a's 2019-08-30 0:00:00 stays 30 August: {dates:?}"
    );

    t.stop().await;
}
