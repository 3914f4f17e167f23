//! Files of the Helm chart that must agree with the crate: the CRD, the release it runs and
//! the pod security settings it shares with the stacks' own pods.

// Fixture helpers outside #[test] functions: a broken fixture should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_yaml::Value;

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn read_yaml(relative: &str) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(repo_path(relative)).unwrap()).unwrap()
}

#[test]
fn the_charts_crd_is_the_committed_crd_byte_for_byte() {
    let committed = std::fs::read(repo_path("crds/clmbstack.yaml")).unwrap();

    let in_chart = std::fs::read(repo_path("charts/clmb-operator/crds/clmbstack.yaml")).unwrap();

    assert!(
        in_chart == committed,
        "charts/clmb-operator/crds/clmbstack.yaml differs from crds/clmbstack.yaml; \
         run: cp crds/clmbstack.yaml charts/clmb-operator/crds/"
    );
}

#[test]
fn the_chart_ships_no_other_crd() {
    let mut names: Vec<String> = std::fs::read_dir(repo_path("charts/clmb-operator/crds"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();

    assert_eq!(names, ["clmbstack.yaml"]);
}

#[test]
fn the_chart_runs_the_operator_release_it_was_cut_from() {
    let chart = read_yaml("charts/clmb-operator/Chart.yaml");

    let app_version = chart["appVersion"].as_str().unwrap();

    assert_eq!(app_version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn the_operator_pod_runs_with_the_security_settings_it_gives_stack_pods() {
    let values = read_yaml("charts/clmb-operator/values.yaml");
    let example = std::fs::read_to_string(repo_path("crds/examples/prod.yaml")).unwrap();
    let rendered = clmb_operator::render::render(&example).unwrap();
    let deployment = serde_yaml::Deserializer::from_str(&rendered)
        .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    let pod = &deployment["spec"]["template"]["spec"];

    assert_eq!(values["podSecurityContext"], pod["securityContext"]);
    assert_eq!(
        values["securityContext"],
        pod["containers"][0]["securityContext"]
    );
}
