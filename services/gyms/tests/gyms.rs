//! Gyms over real HTTP and a real database: create, search, page, authorise, manage.

// Helpers outside `#[test]` functions too: here a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{App, field};

#[tokio::test]
async fn a_signed_in_user_creates_a_gym_and_becomes_its_first_manager() {
    let app = App::start().await;
    let (user, token) = app.user();

    let answer = app
        .post(
            "/api/v1/gyms",
            &token,
            json!({
                "name": "Boulderwelt München Ost",
                "city": "München",
                "country": "DE",
                "latitude": 48.1351,
                "longitude": 11.582,
                "website": "https://boulderwelt.example",
            }),
        )
        .await;

    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let gym = &answer.body;
    let id = gym["id"].as_str().unwrap();
    assert_eq!(
        answer.location.as_deref(),
        Some(format!("/api/v1/gyms/{id}").as_str())
    );
    assert_eq!(gym["slug"], "boulderwelt-munchen-ost");
    assert_eq!(gym["managers"], json!([user.to_string()]));
    assert_eq!(
        gym["grade_systems"],
        json!({"boulder": "v_scale", "rope": "yds"})
    );
    assert_eq!(gym["address"], json!(null));
    assert!(gym["created_at"].as_str().unwrap().ends_with('Z'));
    let fetched = app.get(&format!("/api/v1/gyms/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(&fetched.body, gym);
}

#[tokio::test]
async fn creating_a_gym_without_a_token_is_401_and_creates_nothing() {
    let app = App::start().await;

    let answer = app
        .send(
            Method::POST,
            "/api/v1/gyms",
            None,
            Some(json!({"name": "X"})),
        )
        .await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.is_problem(), "{}", answer.content_type);
    assert_eq!(app.get("/api/v1/gyms").await.body["items"], json!([]));
}

#[tokio::test]
async fn a_name_clash_gets_a_numbered_slug_and_an_explicit_clash_is_409() {
    let app = App::start().await;
    let (_, token) = app.user();

    let first = app.create_named_gym(&token, "The Arch").await;
    let second = app.create_named_gym(&token, "The ARCH!").await;
    let third = app.create_named_gym(&token, "the arch").await;
    let explicit = app
        .post(
            "/api/v1/gyms",
            &token,
            json!({"name": "Other", "slug": "the-arch-2"}),
        )
        .await;
    let own = app
        .create_gym(&token, json!({"name": "Other", "slug": "arch-climbing"}))
        .await;

    assert_eq!(first["slug"], "the-arch");
    assert_eq!(second["slug"], "the-arch-2");
    assert_eq!(third["slug"], "the-arch-3");
    assert_eq!(explicit.status, StatusCode::CONFLICT);
    assert!(explicit.is_problem());
    assert_eq!(own["slug"], "arch-climbing");
    assert_eq!(app.all_pages("/api/v1/gyms").await.len(), 4);
}

#[tokio::test]
async fn every_invalid_gym_field_is_named_in_one_422_and_nothing_is_written() {
    let app = App::start().await;
    let (_, token) = app.user();

    let answer = app
        .post(
            "/api/v1/gyms",
            &token,
            json!({
                "name": "   ",
                "slug": "Not A Slug",
                "country": "Switzerland",
                "latitude": 95.0,
                "email": "not-an-address",
                "website": "boulders.example",
                "phone": "call us",
                "grade_systems": {"boulder": "yds", "rope": "font"},
            }),
        )
        .await;

    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.is_problem());
    let mut fields = answer.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "country",
            "email",
            "grade_systems.boulder",
            "grade_systems.rope",
            "latitude",
            "longitude",
            "name",
            "phone",
            "slug",
            "website"
        ]
    );
    assert!(
        answer
            .error_message("grade_systems.boulder")
            .contains("v_scale, font")
    );
    assert_eq!(app.get("/api/v1/gyms").await.body["items"], json!([]));
}

#[tokio::test]
async fn a_missing_name_an_unknown_field_and_a_read_only_field_are_422() {
    let app = App::start().await;
    let (_, token) = app.user();

    let missing = app
        .post("/api/v1/gyms", &token, json!({"city": "Bern"}))
        .await;
    let read_only = app
        .post("/api/v1/gyms", &token, json!({"name": "X", "managers": []}))
        .await;
    let lower_country = app
        .post(
            "/api/v1/gyms",
            &token,
            json!({"name": "X", "country": "ch"}),
        )
        .await;

    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.error_fields(), ["name"]);
    assert_eq!(read_only.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(read_only.error_fields(), ["managers"]);
    assert_eq!(lower_country.error_fields(), ["country"]);
}

#[tokio::test]
async fn searching_by_name_ignores_case_and_accents() {
    let app = App::start().await;
    let (_, token) = app.user();
    app.create_gym(
        &token,
        json!({"name": "Kletterhalle Zürich", "city": "Zürich", "country": "CH"}),
    )
    .await;
    app.create_gym(
        &token,
        json!({"name": "ZURICH Boulders", "city": "Zurich", "country": "CH"}),
    )
    .await;
    app.create_gym(
        &token,
        json!({"name": "Bern Block", "city": "Bern", "country": "CH"}),
    )
    .await;
    app.create_gym(
        &token,
        json!({"name": "Zurich Wall", "city": "Zurich", "country": "US"}),
    )
    .await;

    let plain = app.all_pages("/api/v1/gyms?q=zurich").await;
    let accented = app.all_pages("/api/v1/gyms?q=Z%C3%9CR").await;
    let in_city = app.all_pages("/api/v1/gyms?city=zurich&country=ch").await;
    let wildcard = app.all_pages("/api/v1/gyms?q=%25").await;

    assert_eq!(
        field(&plain, "name"),
        ["Kletterhalle Zürich", "ZURICH Boulders", "Zurich Wall"]
    );
    assert_eq!(field(&accented, "name"), field(&plain, "name"));
    assert_eq!(
        field(&in_city, "name"),
        ["Kletterhalle Zürich", "ZURICH Boulders"]
    );
    assert!(wildcard.is_empty(), "`%` must match literally");
}

#[tokio::test]
async fn near_lists_gyms_within_the_radius_nearest_first() {
    let app = App::start().await;
    let (_, token) = app.user();
    for (name, lat, lng) in [
        ("Bern", 46.948, 7.4474),
        ("Winterthur", 47.4988, 8.7237),
        ("Zurich", 47.3769, 8.5417),
    ] {
        app.create_gym(
            &token,
            json!({"name": name, "latitude": lat, "longitude": lng}),
        )
        .await;
    }
    app.create_named_gym(&token, "Nowhere").await;

    let default_radius = app.all_pages("/api/v1/gyms?near=47.37,8.54").await;
    let wide = app
        .all_pages("/api/v1/gyms?near=47.37,8.54&radius_km=150&limit=1")
        .await;
    let bad = app.get("/api/v1/gyms?near=47.37").await;
    let radius_alone = app.get("/api/v1/gyms?radius_km=5").await;

    assert_eq!(field(&default_radius, "name"), ["Zurich", "Winterthur"]);
    assert_eq!(field(&wide, "name"), ["Zurich", "Winterthur", "Bern"]);
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.error_fields(), ["near"]);
    assert_eq!(radius_alone.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn paging_neither_repeats_nor_skips_while_gyms_are_added() {
    let app = App::start().await;
    let (_, token) = app.user();
    for name in [
        "Delta", "Alpha", "Echo", "Charlie", "Bravo", "Foxtrot", "Golf",
    ] {
        app.create_named_gym(&token, name).await;
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut added = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/gyms?limit=3&cursor={c}"),
            None => "/api/v1/gyms?limit=3".to_owned(),
        };
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(
            field(page.body["items"].as_array().unwrap(), "name")
                .into_iter()
                .map(str::to_owned),
        );
        // Between pages a gym lands before the position reached and one after it.
        added += 1;
        app.create_named_gym(&token, &format!("Aaa {added}")).await;
        app.create_named_gym(&token, &format!("Zulu {added}")).await;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "repeated: {seen:?}");
    for name in [
        "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Zulu 1",
    ] {
        assert!(seen.contains(&name.to_owned()), "{name} skipped: {seen:?}");
    }
    assert!(!seen.iter().any(|name| name.starts_with("Aaa")), "{seen:?}");
}

#[tokio::test]
async fn a_bad_limit_or_an_edited_cursor_is_400() {
    let app = App::start().await;

    let limit = app.get("/api/v1/gyms?limit=101").await;
    let cursor = app.get("/api/v1/gyms?cursor=bm90LWEtY3Vyc29y").await;

    assert_eq!(limit.status, StatusCode::BAD_REQUEST);
    assert_eq!(limit.error_fields(), ["limit"]);
    assert_eq!(cursor.status, StatusCode::BAD_REQUEST);
    assert_eq!(cursor.error_fields(), ["cursor"]);
    assert!(cursor.is_problem());
}

#[tokio::test]
async fn only_managers_change_or_delete_a_gym_and_a_refused_call_changes_nothing() {
    let app = App::start().await;
    let (_, owner) = app.user();
    let (_, stranger) = app.user();
    let gym = app.create_named_gym(&owner, "Crux").await;
    let path = format!("/api/v1/gyms/{}", gym["id"].as_str().unwrap());

    let by_stranger = app
        .patch(&path, &stranger, json!({"name": "Hijacked"}))
        .await;
    let anonymous = app
        .send(
            Method::PATCH,
            &path,
            None,
            Some(json!({"name": "Hijacked"})),
        )
        .await;
    let delete_by_stranger = app.delete(&path, &stranger).await;
    let unknown = app
        .patch(
            "/api/v1/gyms/0190b6a4-0000-7000-8000-000000000000",
            &owner,
            json!({"name": "X"}),
        )
        .await;
    let bad_token = app.patch(&path, "not-a-token", json!({"name": "X"})).await;
    let after_refusals = app.get(&path).await;

    assert_eq!(by_stranger.status, StatusCode::FORBIDDEN);
    assert!(by_stranger.is_problem());
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(delete_by_stranger.status, StatusCode::FORBIDDEN);
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after_refusals.body, gym);

    let by_owner = app
        .patch(
            &path,
            &owner,
            json!({"name": "Crux Centre", "city": "Leeds"}),
        )
        .await;
    assert_eq!(by_owner.status, StatusCode::OK);
    assert_eq!(by_owner.body["name"], "Crux Centre");
    assert_eq!(by_owner.body["slug"], "crux", "a new name keeps the slug");
    assert_eq!(
        app.delete(&path, &owner).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_patch_clears_with_null_and_is_checked_as_a_whole() {
    let app = App::start().await;
    let (_, token) = app.user();
    let gym = app
        .create_gym(
            &token,
            json!({"name": "Crux", "city": "Leeds", "latitude": 53.8, "longitude": -1.55}),
        )
        .await;
    let path = format!("/api/v1/gyms/{}", gym["id"].as_str().unwrap());

    let cleared = app.patch(&path, &token, json!({"city": null})).await;
    let half_coordinates = app.patch(&path, &token, json!({"longitude": null})).await;
    let null_name = app
        .patch(&path, &token, json!({"name": null, "country": "UK"}))
        .await;
    let systems = app
        .patch(&path, &token, json!({"grade_systems": {"boulder": "font"}}))
        .await;

    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["city"], json!(null));
    assert_eq!(cleared.body["latitude"], json!(53.8));
    assert_eq!(half_coordinates.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(half_coordinates.error_fields(), ["longitude"]);
    let mut fields = null_name.error_fields();
    fields.sort();
    assert_eq!(fields, ["country", "name"]);
    assert_eq!(
        systems.body["grade_systems"],
        json!({"boulder": "font", "rope": "yds"})
    );
}

#[tokio::test]
async fn a_gym_always_keeps_at_least_one_manager() {
    let app = App::start().await;
    let (owner_id, owner) = app.user();
    let (helper_id, helper) = app.user();
    let (_, stranger) = app.user();
    let gym = app.create_named_gym(&owner, "Crux").await;
    let managers = format!("/api/v1/gyms/{}/managers", gym["id"].as_str().unwrap());

    let added = app
        .post(&managers, &owner, json!({"user_id": helper_id}))
        .await;
    let again = app
        .post(&managers, &owner, json!({"user_id": helper_id}))
        .await;
    let by_stranger = app
        .post(&managers, &stranger, json!({"user_id": helper_id}))
        .await;
    let stranger_removes = app
        .delete(&format!("{managers}/{owner_id}"), &stranger)
        .await;
    let helper_removes_owner = app.delete(&format!("{managers}/{owner_id}"), &helper).await;
    let last_leaves = app.delete(&format!("{managers}/me"), &helper).await;
    let owner_now = app
        .patch(
            &format!("/api/v1/gyms/{}", gym["id"].as_str().unwrap()),
            &owner,
            json!({"city": "X"}),
        )
        .await;
    let after = app
        .get(&format!("/api/v1/gyms/{}", gym["id"].as_str().unwrap()))
        .await;

    assert_eq!(added.status, StatusCode::CREATED);
    assert_eq!(added.body["managers"], json!([owner_id, helper_id]));
    assert_eq!(added.location, Some(format!("{managers}/{helper_id}")));
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(by_stranger.status, StatusCode::FORBIDDEN);
    assert_eq!(stranger_removes.status, StatusCode::FORBIDDEN);
    assert_eq!(helper_removes_owner.status, StatusCode::NO_CONTENT);
    assert_eq!(last_leaves.status, StatusCode::CONFLICT);
    assert!(last_leaves.is_problem());
    assert_eq!(owner_now.status, StatusCode::FORBIDDEN);
    assert_eq!(after.body["managers"], json!([helper_id]));
}

#[tokio::test]
async fn deleting_an_account_removes_it_from_every_gym_it_managed() {
    let app = App::start().await;
    let (leaver_id, leaver) = app.user();
    let (stayer_id, stayer) = app.user();
    let shared = app.create_named_gym(&stayer, "Shared").await;
    let own = app.create_named_gym(&leaver, "Own").await;
    let shared_path = format!("/api/v1/gyms/{}", shared["id"].as_str().unwrap());
    app.post(
        &format!("{shared_path}/managers"),
        &stayer,
        json!({"user_id": leaver_id}),
    )
    .await;
    let internal = format!("/internal/users/{leaver_id}");

    let by_user = app.delete(&internal, &leaver).await;
    let anonymous = app.send(Method::DELETE, &internal, None, None).await;
    let first = app.delete(&internal, &app.service_token()).await;
    let repeated = app.delete(&internal, &app.service_token()).await;

    assert_eq!(by_user.status, StatusCode::FORBIDDEN);
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(first.status, StatusCode::NO_CONTENT);
    assert_eq!(repeated.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&shared_path).await.body["managers"],
        json!([stayer_id])
    );
    let orphan = app
        .get(&format!("/api/v1/gyms/{}", own["id"].as_str().unwrap()))
        .await;
    assert_eq!(orphan.status, StatusCode::OK);
    assert_eq!(orphan.body["managers"], json!([]));
}

#[tokio::test]
async fn the_service_answers_health_metrics_and_problem_json_for_unknown_paths() {
    let app = App::start().await;

    let livez = app
        .http
        .get(format!("{}/livez", app.base))
        .send()
        .await
        .unwrap();
    let readyz = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    let unknown = app.get("/api/v1/nothing-here").await;
    let bad_id = app.get("/api/v1/gyms/not-a-uuid").await;

    assert_eq!(livez.status(), StatusCode::OK);
    assert_eq!(readyz.status(), StatusCode::OK);
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.is_problem());
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_id.error_fields(), ["gym_id"]);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_and_broken_json_is_400() {
    let app = App::start().await;
    let (_, token) = app.user();
    let url = format!("{}/api/v1/gyms", app.base);

    let as_text = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .body("name=Crux")
        .send()
        .await
        .unwrap();
    let broken = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();

    assert_eq!(as_text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    let content_type = broken.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("application/problem+json"));
    assert_eq!(app.get("/api/v1/gyms").await.body["items"], json!([]));
}
