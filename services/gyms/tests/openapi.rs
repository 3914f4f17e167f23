//! The OpenAPI document the gateway merges into the public one.

#![allow(clippy::unwrap_used)]

use serde_json::Value;

fn document() -> Value {
    serde_json::to_value(clmb_gyms::openapi()).unwrap()
}

#[test]
fn every_public_path_is_documented_with_its_methods_and_no_internal_one_is() {
    let doc = document();

    let paths = doc["paths"].as_object().unwrap();
    let mut listed: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{method} {path}"))
        })
        .filter(|entry| !entry.starts_with("parameters "))
        .collect();
    listed.sort();

    assert_eq!(
        listed,
        [
            "delete /api/v1/gyms/{gym_id}",
            "delete /api/v1/gyms/{gym_id}/managers/{user_id}",
            "delete /api/v1/routes/{route_id}",
            "get /api/v1/grade-systems",
            "get /api/v1/gyms",
            "get /api/v1/gyms/{gym_id}",
            "get /api/v1/gyms/{gym_id}/routes",
            "get /api/v1/routes/{route_id}",
            "patch /api/v1/gyms/{gym_id}",
            "patch /api/v1/routes/{route_id}",
            "post /api/v1/gyms",
            "post /api/v1/gyms/{gym_id}/managers",
            "post /api/v1/gyms/{gym_id}/routes",
        ]
    );
}

#[test]
fn the_bodies_and_the_bearer_scheme_are_in_the_components() {
    let doc = document();

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Gym",
        "Route",
        "CreateGym",
        "UpdateGym",
        "CreateRoute",
        "UpdateRoute",
        "Problem",
    ] {
        assert!(
            schemas.contains_key(name),
            "{name} missing: {:?}",
            schemas.keys()
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let search = &doc["paths"]["/api/v1/gyms"]["get"];
    assert!(
        search["description"]
            .as_str()
            .unwrap()
            .contains("nearest first")
    );
}
