//! The OpenAPI document the gateway serves: OpenAPI 3.1, every call of api.md's tables
//! in it, and sound on its own (every `$ref` resolves, every operation has responses,
//! every path parameter is declared). The test also writes the document to
//! `target/openapi.json`, where `.ci/openapi_check.py` validates it against the
//! OpenAPI 3.1 schema. `/docs` is a browsable page.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use clmb_tests::TestStack;
use serde_json::Value;

/// Every call in api.md's tables, under `/api/v1`, with its parameters as api.md names
/// them (the document may name them differently; only their places must match).
const CONTRACT: &[(&str, &str)] = &[
    ("post", "/auth/register"),
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/logout"),
    ("get", "/users/{user_id}"),
    ("patch", "/users/me"),
    ("delete", "/users/me"),
    ("get", "/users/me/export"),
    ("get", "/gyms"),
    ("post", "/gyms"),
    ("get", "/gyms/{gym_id}"),
    ("patch", "/gyms/{gym_id}"),
    ("delete", "/gyms/{gym_id}"),
    ("post", "/gyms/{gym_id}/managers"),
    ("delete", "/gyms/{gym_id}/managers/{user_id}"),
    ("get", "/grade-systems"),
    ("get", "/gyms/{gym_id}/routes"),
    ("post", "/gyms/{gym_id}/routes"),
    ("get", "/routes/{route_id}"),
    ("patch", "/routes/{route_id}"),
    ("delete", "/routes/{route_id}"),
    ("post", "/sessions"),
    ("get", "/sessions/{session_id}"),
    ("patch", "/sessions/{session_id}"),
    ("post", "/sessions/{session_id}/end"),
    ("delete", "/sessions/{session_id}"),
    ("get", "/users/{user_id}/sessions"),
    ("post", "/sessions/{session_id}/climbs"),
    ("patch", "/climbs/{climb_id}"),
    ("delete", "/climbs/{climb_id}"),
    ("get", "/users/{user_id}/overview"),
    ("get", "/sessions/{session_id}/detail"),
    ("get", "/users/{user_id}/stats"),
    ("post", "/imports/{source}"),
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A path with every `{name}` replaced by `{}`.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

async fn fetch_document(t: &TestStack) -> Value {
    let response = t.http.get(t.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.unwrap()
}

/// Every `$ref` string anywhere in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => out.push(target),
                    _ => refs(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
        _ => {}
    }
}

/// Follows a local `$ref` once, so parameters given by reference count too.
fn resolved<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => document.pointer(pointer).unwrap_or(&Value::Null),
        None => value,
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_holds_every_call_of_the_contract() {
    let t = TestStack::start().await;

    let document = fetch_document(&t).await;

    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1"), "openapi {version}");
    assert!(document["info"]["title"].is_string());
    assert!(document["info"]["version"].is_string());
    let paths = document["paths"].as_object().unwrap();
    let offered: HashSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| ((*m).to_owned(), shape(path)))
        })
        .collect();
    let missing: Vec<String> = CONTRACT
        .iter()
        .filter(|(method, path)| {
            !offered.contains(&((*method).to_owned(), shape(&format!("/api/v1{path}"))))
        })
        .map(|(method, path)| format!("{} /api/v1{path}", method.to_uppercase()))
        .collect();
    assert!(
        missing.is_empty(),
        "calls of api.md missing from the document: {missing:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn the_document_is_sound_and_is_written_for_the_schema_check() {
    let t = TestStack::start().await;

    let document = fetch_document(&t).await;

    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| format!("{}/../target", env!("CARGO_MANIFEST_DIR")));
    std::fs::create_dir_all(&target).unwrap();
    let dumped = format!("{target}/openapi.json");
    std::fs::write(&dumped, serde_json::to_vec_pretty(&document).unwrap()).unwrap();

    let mut problems = Vec::new();
    let mut all_refs = Vec::new();
    refs(&document, &mut all_refs);
    for target in all_refs {
        let resolves = target
            .strip_prefix('#')
            .is_some_and(|pointer| document.pointer(pointer).is_some());
        if !resolves {
            problems.push(format!(
                "$ref {target} does not resolve inside the document"
            ));
        }
    }
    let mut operation_ids = HashSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let call = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"].as_object();
            if responses.is_none_or(serde_json::Map::is_empty) {
                problems.push(format!("{call} has no responses"));
            }
            // OpenAPI 3.1 requires a description on every Response object.
            for (status, response) in responses.into_iter().flatten() {
                if !resolved(&document, response)["description"].is_string() {
                    problems.push(format!("{call}: response {status} has no description"));
                }
            }
            if let Some(id) = operation["operationId"].as_str()
                && !operation_ids.insert(id.to_owned())
            {
                problems.push(format!("{call}: operationId {id} is used twice"));
            }
            let own = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let declared: HashSet<String> = shared
                .iter()
                .chain(own.iter())
                .map(|p| resolved(&document, p))
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            for name in path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            {
                if !declared.contains(name) {
                    problems.push(format!("{call}: path parameter {name} is not declared"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(std::fs::metadata(&dumped).unwrap().len() > 1000);
    t.stop().await;
}

#[tokio::test]
async fn the_docs_page_answers_html() {
    let t = TestStack::start().await;

    let response = t
        .http
        .get(format!("http://{}/docs", t.stack().gateway))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.unwrap().to_lowercase();
    assert!(page.contains("<html"), "an HTML page");
    t.stop().await;
}
