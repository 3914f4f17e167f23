//! The committed CRD, its examples and the schema's validation rules.

// Fixture helpers outside #[test] functions: a broken fixture should fail the test loudly.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use clmb_operator::crd::{ClmbStack, crd_yaml};
use kube::CustomResourceExt;
use serde_json::{Value, json};
use support::schema::{validate, validate_object};

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn crd_schema() -> Value {
    let crd = serde_json::to_value(ClmbStack::crd()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

fn examples() -> Vec<(PathBuf, Value)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(repo_path("crds/examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            found.push((path, serde_yaml::from_str(&text).unwrap()));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn prod_spec() -> Value {
    let (_, prod) = examples()
        .into_iter()
        .find(|(p, _)| p.ends_with("prod.yaml"))
        .unwrap();
    prod
}

#[test]
fn the_committed_crd_equals_what_the_crd_command_prints() {
    let committed = std::fs::read_to_string(repo_path("crds/clmbstack.yaml")).unwrap();

    let generated = crd_yaml().unwrap();

    assert!(
        committed == generated,
        "crds/clmbstack.yaml is stale: run `cargo run -p clmb-operator -- crd > crds/clmbstack.yaml`"
    );
}

#[test]
fn the_crd_has_status_subresource_short_name_and_printer_columns() {
    let crd = serde_json::to_value(ClmbStack::crd()).unwrap();
    let version = &crd["spec"]["versions"][0];

    let columns: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();

    assert_eq!(columns, ["Version", "Ready", "Phase", "Age"]);
    assert_eq!(version["subresources"]["status"], json!({}));
    assert_eq!(crd["spec"]["names"]["shortNames"], json!(["clmb"]));
    assert_eq!(crd["spec"]["scope"], "Namespaced");
    assert_eq!(crd["spec"]["group"], "clmb.dev");
}

#[test]
fn there_are_examples_and_every_one_is_valid_against_the_crd_schema() {
    let schema = crd_schema();
    let examples = examples();

    assert!(
        examples.len() >= 2,
        "expected example manifests in crds/examples"
    );
    for (path, example) in examples {
        let errors = validate_object(&schema, &example);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        let _: ClmbStack = serde_json::from_value(example).unwrap();
    }
}

#[test]
fn autoscaling_with_min_above_max_is_rejected_by_the_cel_rule() {
    let mut stack = prod_spec();
    stack["spec"]["gateway"]["autoscaling"] = json!({"minReplicas": 5, "maxReplicas": 2});

    let errors = validate_object(&crd_schema(), &stack);

    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("self.minReplicas <= self.maxReplicas"),
        "{errors:#?}"
    );
}

/// Breaks one field of a valid stack.
type Mutation = Box<dyn Fn(&mut Value)>;

#[test]
fn the_schema_rejects_bad_versions_ranges_enums_and_missing_fields() {
    let schema = crd_schema();
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "version",
            Box::new(|s| s["spec"]["version"] = json!("latest")),
        ),
        (
            "replicas",
            Box::new(|s| s["spec"]["services"]["gyms"]["replicas"] = json!(-1)),
        ),
        (
            "minReplicas",
            Box::new(|s| s["spec"]["gateway"]["autoscaling"]["minReplicas"] = json!(0)),
        ),
        (
            "migrations",
            Box::new(|s| s["spec"]["upgrade"]["migrations"] = json!("Sometimes")),
        ),
        (
            "pullPolicy",
            Box::new(|s| s["spec"]["image"]["pullPolicy"] = json!("Sometimes")),
        ),
        (
            "secretRef",
            Box::new(|s| {
                s["spec"]["services"]["users"]["database"]
                    .as_object_mut()
                    .unwrap()
                    .remove("secretRef");
            }),
        ),
        (
            "image",
            Box::new(|s| {
                s["spec"].as_object_mut().unwrap().remove("image");
            }),
        ),
    ];

    for (field, mutate) in cases {
        let mut stack = prod_spec();
        mutate(&mut stack);
        let errors = validate_object(&schema, &stack);
        assert!(!errors.is_empty(), "a bad {field} was accepted");
        assert!(
            errors.iter().any(|e| e.contains(field)),
            "{field}: {errors:#?}"
        );
    }
}

#[test]
fn the_validator_flags_unknown_fields_so_typos_in_examples_are_caught() {
    let schema = crd_schema();
    let mut stack = prod_spec();
    stack["spec"]["gatway"] = json!({});

    let errors = validate(&schema, &json!({"spec": stack["spec"]}));

    assert!(errors.iter().any(|e| e.contains("gatway")), "{errors:#?}");
}
