//! `render` output and the RBAC list it must stay inside.

// Fixture helpers outside #[test] functions: a broken fixture should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use clmb_operator::rbac::{ChildKind, RBAC_RULES, allows, rules_yaml};
use clmb_operator::render::render;
use serde::Deserialize;
use serde_json::Value;

fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crds/examples")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|d| Value::deserialize(d).unwrap())
        .collect()
}

#[test]
fn render_prints_every_object_of_a_stack_as_multi_document_yaml() {
    let output = render(&example("prod.yaml")).unwrap();

    let docs = documents(&output);
    let count = |kind: &str| docs.iter().filter(|d| d["kind"] == kind).count();

    assert_eq!(count("ServiceAccount"), 4);
    assert_eq!(count("Deployment"), 4);
    assert_eq!(count("Service"), 4);
    assert_eq!(count("NetworkPolicy"), 4);
    assert_eq!(count("Job"), 3);
    assert_eq!(count("HorizontalPodAutoscaler"), 2);
    assert_eq!(count("PodDisruptionBudget"), 3);
    assert_eq!(count("Secret"), 1);
    assert_eq!(docs.len(), 25);
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["namespace"] == "climbing")
    );
}

#[test]
fn render_keeps_key_material_and_made_up_owners_out_of_its_output() {
    let output = render(&example("prod.yaml")).unwrap();

    let docs = documents(&output);
    let secret = docs.iter().find(|d| d["kind"] == "Secret").unwrap();

    assert!(secret.get("data").is_none());
    assert!(
        docs.iter()
            .all(|d| d["metadata"].get("ownerReferences").is_none())
    );
}

#[test]
fn render_of_a_stack_with_its_own_signing_key_and_manual_migrations_makes_no_secret_or_job() {
    let output = render(&example("staging.yaml")).unwrap();

    let docs = documents(&output);

    assert!(
        docs.iter()
            .all(|d| d["kind"] != "Secret" && d["kind"] != "Job")
    );
    let users = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "staging-users")
        .unwrap();
    let pod = &users["spec"]["template"]["spec"];
    assert_eq!(pod["imagePullSecrets"][0]["name"], "registry-credentials");
    assert_eq!(
        pod["volumes"][1]["secret"]["secretName"],
        "staging-signing-key"
    );
}

#[test]
fn render_rejects_a_stack_with_an_invalid_version() {
    let broken = example("prod.yaml").replace("\"0.4.0\"", "\"latest\"");

    let error = render(&broken).unwrap_err();

    assert!(error.to_string().contains("failed to validate"), "{error}");
}

#[test]
fn every_kind_the_operator_writes_is_granted_by_the_rbac_rules() {
    let docs = documents(&render(&example("prod.yaml")).unwrap());
    let mut kinds: Vec<ChildKind> = docs
        .iter()
        .map(|d| ChildKind::from_kind(d["kind"].as_str().unwrap()).unwrap())
        .collect();
    kinds.extend(ChildKind::ALL);

    for kind in kinds {
        let resource = kind.api_resource();
        for verb in ["get", "list", "watch", "create", "patch"] {
            assert!(
                allows(&resource.group, &resource.plural, verb),
                "{verb} {}",
                resource.plural
            );
        }
    }
}

#[test]
fn the_rbac_rules_cover_the_stack_its_status_events_and_the_lease() {
    for (group, resource, verbs) in [
        ("clmb.dev", "clmbstacks", &["get", "list", "watch"][..]),
        ("clmb.dev", "clmbstacks/status", &["patch"][..]),
        ("events.k8s.io", "events", &["create", "patch"][..]),
        (
            "coordination.k8s.io",
            "leases",
            &["get", "create", "update"][..],
        ),
    ] {
        for verb in verbs {
            assert!(allows(group, resource, verb), "{verb} {group}/{resource}");
        }
    }
    assert!(
        !allows("", "secrets", "delete"),
        "the operator never deletes a Secret"
    );
}

#[test]
fn the_rbac_command_prints_each_rule_once() {
    let printed: Vec<Value> = serde_yaml::from_str(&rules_yaml().unwrap()).unwrap();

    assert_eq!(printed.len(), RBAC_RULES.len());
    for (rule, printed) in RBAC_RULES.iter().zip(&printed) {
        assert_eq!(printed["apiGroups"][0], rule.api_group);
        assert_eq!(printed["resources"][0], rule.resource);
        assert_eq!(printed["verbs"].as_array().unwrap().len(), rule.verbs.len());
    }
}
