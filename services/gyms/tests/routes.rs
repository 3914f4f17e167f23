//! Routes over real HTTP and a real database: grades, filters, archiving, permissions.

// Helpers outside `#[test]` functions too: here a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{App, field};

/// Today as the service sees it (UTC), `YYYY-MM-DD`.
fn today() -> String {
    let date = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

async fn gym_with(app: &App, token: &str, body: Value) -> String {
    app.create_gym(token, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn boulders(app: &App, token: &str, gym: &str, grades: &[&str]) {
    for grade in grades {
        app.create_route(token, gym, json!({"discipline": "boulder", "grade": grade}))
            .await;
    }
}

#[tokio::test]
async fn route_grades_are_read_in_any_form_and_stored_canonically() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;

    let mut stored = Vec::new();
    for (discipline, grade) in [
        ("boulder", "v5"),
        ("boulder", "V 4-5"),
        ("boulder", "V-easy"),
        ("boulder", "v4+"),
        ("sport", "5.10a/b"),
        ("top_rope", "5.11"),
        ("trad", "5.10+"),
        ("sport", "5. 12 a"),
    ] {
        let route = app
            .create_route(
                &token,
                &gym,
                json!({"discipline": discipline, "grade": grade}),
            )
            .await;
        stored.push((route["grade"].clone(), route["grade_system"].clone()));
    }

    let labels: Vec<&str> = stored
        .iter()
        .map(|(grade, _)| grade.as_str().unwrap())
        .collect();
    let systems: Vec<&str> = stored
        .iter()
        .map(|(_, system)| system.as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "V5", "V4-5", "VB", "V4+", "5.10a/b", "5.11", "5.10+", "5.12a"
        ]
    );
    assert_eq!(
        systems,
        [
            "v_scale", "v_scale", "v_scale", "v_scale", "yds", "yds", "yds", "yds"
        ]
    );
}

#[tokio::test]
async fn a_created_route_has_every_field_and_a_location() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;

    let answer = app
        .post(
            &format!("/api/v1/gyms/{gym}/routes"),
            &token,
            json!({"discipline": "boulder", "grade": "V3", "name": "Slab", "colour": "Blue",
                   "section": "Cave", "setter": "Ana"}),
        )
        .await;

    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let route = &answer.body;
    let id = route["id"].as_str().unwrap();
    assert_eq!(answer.location, Some(format!("/api/v1/routes/{id}")));
    assert_eq!(route["gym_id"], gym.as_str());
    assert_eq!(route["difficulty"], json!(60.5));
    assert_eq!(route["set_on"], today().as_str());
    assert_eq!(route["stripped_on"], json!(null));
    assert_eq!(route["active"], json!(true));
    let mut keys: Vec<&str> = route
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "active",
            "colour",
            "created_at",
            "difficulty",
            "discipline",
            "grade",
            "grade_system",
            "gym_id",
            "id",
            "name",
            "section",
            "set_on",
            "setter",
            "stripped_on",
            "updated_at"
        ]
    );
    assert_eq!(&app.get(&format!("/api/v1/routes/{id}")).await.body, route);
}

#[tokio::test]
async fn a_grade_of_the_wrong_family_or_with_a_safety_rating_is_422_naming_grade() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;
    let path = format!("/api/v1/gyms/{gym}/routes");

    let rope_on_boulder = app
        .post(
            &path,
            &token,
            json!({"discipline": "boulder", "grade": "5.10a"}),
        )
        .await;
    let boulder_on_rope = app
        .post(&path, &token, json!({"discipline": "sport", "grade": "V3"}))
        .await;
    let font_in_v_gym = app
        .post(
            &path,
            &token,
            json!({"discipline": "boulder", "grade": "6A"}),
        )
        .await;
    let safety = app
        .post(
            &path,
            &token,
            json!({"discipline": "trad", "grade": "5.9 R"}),
        )
        .await;

    for answer in [&rope_on_boulder, &boulder_on_rope, &font_in_v_gym, &safety] {
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{:?}",
            answer.body
        );
        assert!(answer.is_problem());
        assert_eq!(answer.error_fields(), ["grade"]);
    }
    assert!(rope_on_boulder.error_message("grade").contains("V scale"));
    assert!(boulder_on_rope.error_message("grade").contains("YDS"));
    assert_eq!(
        app.all_pages(&format!("{path}?active=all")).await,
        Vec::<Value>::new()
    );
}

#[tokio::test]
async fn a_gym_grading_in_font_and_french_reads_route_grades_in_those_systems() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(
        &app,
        &token,
        json!({"name": "Bloc", "grade_systems": {"boulder": "font", "rope": "french"}}),
    )
    .await;

    let boulder = app
        .create_route(
            &token,
            &gym,
            json!({"discipline": "boulder", "grade": "6a"}),
        )
        .await;
    let sport = app
        .create_route(&token, &gym, json!({"discipline": "sport", "grade": "6a+"}))
        .await;
    let v_grade = app
        .post(
            &format!("/api/v1/gyms/{gym}/routes"),
            &token,
            json!({"discipline": "boulder", "grade": "V3"}),
        )
        .await;

    assert_eq!(
        (boulder["grade"].as_str(), boulder["grade_system"].as_str()),
        (Some("6A"), Some("font"))
    );
    assert_eq!(
        (sport["grade"].as_str(), sport["grade_system"].as_str()),
        (Some("6a+"), Some("french"))
    );
    assert_eq!(v_grade.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v_grade.error_fields(), ["grade"]);
}

#[tokio::test]
async fn grade_filters_compare_difficulty_not_text() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;
    boulders(&app, &token, &gym, &["V10", "V2", "V4+", "V3", "V4"]).await;
    app.create_route(
        &token,
        &gym,
        json!({"discipline": "sport", "grade": "5.12a"}),
    )
    .await;
    let list = format!("/api/v1/gyms/{gym}/routes");

    let from_v3 = app.all_pages(&format!("{list}?min_grade=V3")).await;
    let up_to_v4 = app.all_pages(&format!("{list}?max_grade=v4")).await;
    let between = app
        .all_pages(&format!("{list}?min_grade=V3&max_grade=V4%2B"))
        .await;
    let exact = app.all_pages(&format!("{list}?grade=v4")).await;
    let sport_from = app
        .all_pages(&format!("{list}?discipline=sport&min_grade=5.11"))
        .await;
    let mixed = app
        .get(&format!("{list}?min_grade=V3&max_grade=5.12a"))
        .await;
    let unreadable = app.get(&format!("{list}?min_grade=hard")).await;

    assert_eq!(field(&from_v3, "grade"), ["V3", "V4", "V4+", "V10"]);
    assert_eq!(field(&up_to_v4, "grade"), ["V2", "V3", "V4"]);
    assert_eq!(field(&between, "grade"), ["V3", "V4", "V4+"]);
    assert_eq!(field(&exact, "grade"), ["V4"]);
    assert_eq!(field(&sport_from, "grade"), ["5.12a"]);
    assert_eq!(mixed.status, StatusCode::BAD_REQUEST);
    assert_eq!(mixed.error_fields(), ["max_grade"]);
    assert_eq!(unreadable.status, StatusCode::BAD_REQUEST);
    assert_eq!(unreadable.error_fields(), ["min_grade"]);
}

#[tokio::test]
async fn grade_system_shows_routes_converted_and_filters_on_the_shown_grades() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;
    boulders(&app, &token, &gym, &["V2", "V3", "V4", "V5"]).await;
    app.create_route(
        &token,
        &gym,
        json!({"discipline": "sport", "grade": "5.10a"}),
    )
    .await;
    let list = format!("/api/v1/gyms/{gym}/routes");

    let converted = app.all_pages(&format!("{list}?grade_system=font")).await;
    let shown_6b = app
        .all_pages(&format!("{list}?grade_system=font&grade=6b"))
        .await;
    let from_6a = app
        .all_pages(&format!("{list}?grade_system=font&min_grade=6A"))
        .await;
    let wrong_family = app
        .get(&format!("{list}?grade_system=font&discipline=sport"))
        .await;

    assert_eq!(field(&converted, "grade"), ["5+", "6A", "6B", "6C+"]);
    assert!(
        converted
            .iter()
            .all(|route| route["grade_system"] == "font")
    );
    assert_eq!(
        converted[0]["difficulty"],
        json!(55.0),
        "difficulty is not converted"
    );
    assert_eq!(field(&shown_6b, "grade"), ["6B"]);
    assert_eq!(field(&from_6a, "grade"), ["6A", "6B", "6C+"]);
    assert_eq!(wrong_family.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn routes_filter_by_discipline_section_and_colour() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;
    for (discipline, grade, section, colour) in [
        ("boulder", "V1", "Cave", "Blue"),
        ("boulder", "V2", "Slab", "Blue"),
        ("top_rope", "5.8", "Wall", "Red"),
        ("sport", "5.9", "Wall", "Blue"),
    ] {
        app.create_route(
            &token,
            &gym,
            json!({"discipline": discipline, "grade": grade, "section": section, "colour": colour}),
        )
        .await;
    }
    let list = format!("/api/v1/gyms/{gym}/routes");

    let top_rope = app.all_pages(&format!("{list}?discipline=top_rope")).await;
    let blue = app.all_pages(&format!("{list}?colour=blue")).await;
    let wall = app.all_pages(&format!("{list}?section=WALL")).await;
    let unknown = app.get(&format!("{list}?discipline=aid")).await;

    assert_eq!(field(&top_rope, "grade"), ["5.8"]);
    assert_eq!(
        field(&blue, "grade"),
        ["V1", "5.9", "V2"],
        "by difficulty: 5.9 is below V2"
    );
    assert_eq!(field(&wall, "grade"), ["5.8", "5.9"]);
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.error_fields(), ["discipline"]);
}

#[tokio::test]
async fn archiving_a_route_sets_stripped_on_and_hides_it_from_the_default_list() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;
    let kept = app
        .create_route(
            &token,
            &gym,
            json!({"discipline": "boulder", "grade": "V1"}),
        )
        .await;
    let route = app
        .create_route(
            &token,
            &gym,
            json!({"discipline": "boulder", "grade": "V2", "set_on": "2026-10-01"}),
        )
        .await;
    let path = format!("/api/v1/routes/{}", route["id"].as_str().unwrap());
    let list = format!("/api/v1/gyms/{gym}/routes");

    let archived = app.patch(&path, &token, json!({"active": false})).await;
    let active_list = app.all_pages(&list).await;
    let stripped_list = app.all_pages(&format!("{list}?active=false")).await;
    let every = app.all_pages(&format!("{list}?active=all")).await;
    let dated_on_active = app
        .patch(
            &format!("/api/v1/routes/{}", kept["id"].as_str().unwrap()),
            &token,
            json!({"stripped_on": "2026-11-01"}),
        )
        .await;
    let before_set = app
        .patch(&path, &token, json!({"stripped_on": "2026-09-01"}))
        .await;
    let redated = app
        .patch(&path, &token, json!({"stripped_on": "2026-11-30"}))
        .await;
    let reopened = app.patch(&path, &token, json!({"active": true})).await;

    assert_eq!(archived.status, StatusCode::OK, "{:?}", archived.body);
    assert_eq!(archived.body["active"], json!(false));
    assert_eq!(archived.body["stripped_on"], today().as_str());
    assert_eq!(field(&active_list, "grade"), ["V1"]);
    assert_eq!(field(&stripped_list, "grade"), ["V2"]);
    assert_eq!(field(&every, "grade"), ["V1", "V2"]);
    assert_eq!(dated_on_active.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(dated_on_active.error_fields(), ["stripped_on"]);
    assert_eq!(before_set.error_fields(), ["stripped_on"]);
    assert_eq!(redated.body["stripped_on"], "2026-11-30");
    assert_eq!(reopened.body["active"], json!(true));
    assert_eq!(reopened.body["stripped_on"], json!(null));
}

#[tokio::test]
async fn every_invalid_route_field_is_named_in_one_422() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;

    let answer = app
        .post(
            &format!("/api/v1/gyms/{gym}/routes"),
            &token,
            json!({"discipline": "climbing", "set_on": "03/12/2026", "colour": "x".repeat(51),
                   "setter": "s".repeat(101)}),
        )
        .await;

    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.is_problem());
    let mut fields = answer.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["colour", "discipline", "grade", "set_on", "setter"]
    );
}

#[tokio::test]
async fn changing_the_discipline_to_the_other_family_needs_a_grade_of_that_family() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;
    let route = app
        .create_route(
            &token,
            &gym,
            json!({"discipline": "boulder", "grade": "V3"}),
        )
        .await;
    let path = format!("/api/v1/routes/{}", route["id"].as_str().unwrap());

    let without_grade = app
        .patch(&path, &token, json!({"discipline": "sport"}))
        .await;
    let with_grade = app
        .patch(
            &path,
            &token,
            json!({"discipline": "sport", "grade": "5.10b"}),
        )
        .await;
    let same_family = app
        .patch(
            &path,
            &token,
            json!({"discipline": "trad", "name": "Crack"}),
        )
        .await;

    assert_eq!(without_grade.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(without_grade.error_fields(), ["grade"]);
    assert_eq!(with_grade.status, StatusCode::OK);
    assert_eq!(with_grade.body["grade"], "5.10b");
    assert_eq!(same_family.body["grade"], "5.10b");
    assert_eq!(same_family.body["discipline"], "trad");
}

#[tokio::test]
async fn only_managers_of_the_gym_set_change_or_remove_its_routes() {
    let app = App::start().await;
    let (_, owner) = app.user();
    let (_, stranger) = app.user();
    let gym = gym_with(&app, &owner, json!({"name": "Crux"})).await;
    let other_gym = gym_with(&app, &stranger, json!({"name": "Elsewhere"})).await;
    let route = app
        .create_route(
            &owner,
            &gym,
            json!({"discipline": "boulder", "grade": "V3"}),
        )
        .await;
    let path = format!("/api/v1/routes/{}", route["id"].as_str().unwrap());
    let routes = format!("/api/v1/gyms/{gym}/routes");

    let create = app
        .post(
            &routes,
            &stranger,
            json!({"discipline": "boulder", "grade": "V1"}),
        )
        .await;
    let create_anonymous = app
        .send(
            Method::POST,
            &routes,
            None,
            Some(json!({"discipline": "boulder", "grade": "V1"})),
        )
        .await;
    let update = app.patch(&path, &stranger, json!({"grade": "V9"})).await;
    let remove = app.delete(&path, &stranger).await;
    let remove_anonymous = app.send(Method::DELETE, &path, None, None).await;
    let unknown_gym = app
        .post(
            "/api/v1/gyms/0190b6a4-0000-7000-8000-000000000000/routes",
            &owner,
            json!({"discipline": "boulder", "grade": "V1"}),
        )
        .await;

    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert_eq!(create_anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(update.status, StatusCode::FORBIDDEN);
    assert_eq!(remove.status, StatusCode::FORBIDDEN);
    assert_eq!(remove_anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_gym.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path).await.body, route);
    assert_eq!(app.all_pages(&routes).await.len(), 1);
    assert_eq!(
        app.all_pages(&format!("/api/v1/gyms/{other_gym}/routes"))
            .await
            .len(),
        0
    );

    assert_eq!(
        app.delete(&path, &owner).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete(&path, &owner).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deleting_a_gym_deletes_its_routes() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;
    let route = app
        .create_route(
            &token,
            &gym,
            json!({"discipline": "boulder", "grade": "V3"}),
        )
        .await;

    let deleted = app.delete(&format!("/api/v1/gyms/{gym}"), &token).await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app
        .get(&format!("/api/v1/routes/{}", route["id"].as_str().unwrap()))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/api/v1/gyms/{gym}/routes")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn route_pages_follow_difficulty_then_id_without_repeats_or_gaps() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = gym_with(&app, &token, json!({"name": "Crux"})).await;
    boulders(
        &app,
        &token,
        &gym,
        &["V3", "V1", "V3", "V0", "V3", "V2", "V1"],
    )
    .await;

    let items = app
        .all_pages(&format!("/api/v1/gyms/{gym}/routes?limit=2"))
        .await;

    assert_eq!(
        field(&items, "grade"),
        ["V0", "V1", "V1", "V2", "V3", "V3", "V3"]
    );
    let mut ids = field(&items, "id");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 7);
}

#[tokio::test]
async fn grade_systems_lists_every_built_in_system_with_its_ordered_grades() {
    let app = App::start().await;

    let answer = app.get("/api/v1/grade-systems").await;

    assert_eq!(answer.status, StatusCode::OK);
    let systems = answer.body.as_array().unwrap();
    let names: Vec<&str> = systems
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let families: Vec<&str> = systems
        .iter()
        .map(|s| s["family"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["v_scale", "font", "yds", "french", "uiaa", "ewbank"]
    );
    assert_eq!(
        families,
        ["boulder", "boulder", "rope", "rope", "rope", "rope"]
    );
    for system in systems {
        let grades = system["grades"].as_array().unwrap();
        assert!(grades.len() > 10);
        for (order, pair) in grades.windows(2).enumerate() {
            assert_eq!(pair[0]["difficulty_order"], json!(order));
            assert!(pair[0]["difficulty"].as_f64() < pair[1]["difficulty"].as_f64());
        }
    }
    assert_eq!(
        systems[0]["grades"][0],
        json!({"label": "VB", "difficulty_order": 0, "difficulty": 32.0})
    );
}
