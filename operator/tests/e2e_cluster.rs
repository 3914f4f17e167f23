//! End to end against a real cluster; runs only when `CLMB_E2E_KUBECONFIG` names a kubeconfig.
//!
//! With kind: `kind create cluster --name clmb && kind get kubeconfig --name clmb > /tmp/kc &&
//! CLMB_E2E_KUBECONFIG=/tmp/kc cargo test -p clmb-operator --test e2e_cluster -- --nocapture`
//! (k3d: `k3d cluster create clmb && k3d kubeconfig get clmb > /tmp/kc`). No clmb image is
//! needed: the test checks what the operator creates and reports, not that clmb runs.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use clmb_operator::crd::ClmbStack;
use clmb_operator::metrics::Metrics;
use clmb_operator::reconcile::Context;
use clmb_operator::retry::RetryPolicy;
use clmb_operator::run::run_controller;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::events::{Recorder, Reporter};
use kube::{Client, CustomResourceExt};
use serde_json::json;

async fn client() -> Option<Client> {
    let Ok(path) = std::env::var("CLMB_E2E_KUBECONFIG") else {
        eprintln!(
            "skipped: set CLMB_E2E_KUBECONFIG to a kubeconfig (e.g. `kind get kubeconfig --name clmb > /tmp/kc`) to run"
        );
        return None;
    };
    let kubeconfig = Kubeconfig::read_from(path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Some(Client::try_from(config).unwrap())
}

/// Polls until `check` passes, or fails the test after a minute.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..120 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_stack_applied_to_a_real_cluster_gets_its_first_step_and_a_status() {
    let Some(client) = client().await else { return };
    let ssa = PatchParams::apply("clmb-e2e").force();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch("clmbstacks.clmb.dev", &ssa, &Patch::Apply(ClmbStack::crd()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ns = format!("clmb-e2e-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    for db in ["users-db", "gyms-db", "sessions-db"] {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": db}, "stringData": {"url": "postgres://db"}});
        secrets
            .patch(db, &ssa, &Patch::Apply(secret))
            .await
            .unwrap();
    }
    let stacks: Api<ClmbStack> = Api::namespaced(client.clone(), &ns);
    let stack = json!({
        "apiVersion": "clmb.dev/v1alpha1", "kind": "ClmbStack", "metadata": {"name": "prod"},
        "spec": {
            "version": "0.4.0", "image": {"repository": "ghcr.io/example/clmb"},
            "services": {
                "users": {"database": {"secretRef": {"name": "users-db", "key": "url"}}},
                "gyms": {"database": {"secretRef": {"name": "gyms-db", "key": "url"}}},
                "sessions": {"database": {"secretRef": {"name": "sessions-db", "key": "url"}}},
            },
        },
    });
    stacks
        .patch("prod", &ssa, &Patch::Apply(stack))
        .await
        .unwrap();

    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "clmb-operator".into(),
            instance: None,
        },
    );
    let ctx = Arc::new(Context::new(
        client.clone(),
        recorder,
        Arc::new(Metrics::default()),
        RetryPolicy::default(),
    ));
    let controller = tokio::spawn({
        let (client, ns) = (client.clone(), ns.clone());
        async move { run_controller(client, Some(&ns), ctx).await }
    });

    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    eventually("the users migration Job", || async {
        jobs.get_opt("prod-users-migrate-0.4.0")
            .await
            .unwrap()
            .is_some()
    })
    .await;
    eventually("the signing key Secret", || async {
        secrets.get_opt("prod-signing-key").await.unwrap().is_some()
    })
    .await;
    eventually("the users ServiceAccount", || async {
        accounts.get_opt("prod-users").await.unwrap().is_some()
    })
    .await;
    eventually("a status for generation 1", || async {
        let status = stacks.get("prod").await.unwrap().status.unwrap_or_default();
        status.observed_generation == Some(1)
            && status
                .conditions
                .iter()
                .all(|c| c.observed_generation == Some(1))
    })
    .await;
    stacks
        .patch(
            "prod",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"paused": true}})),
        )
        .await
        .unwrap();
    eventually("the Paused phase", || async {
        stacks
            .get("prod")
            .await
            .unwrap()
            .status
            .and_then(|s| s.phase)
            == Some(clmb_operator::crd::Phase::Paused)
    })
    .await;

    controller.abort();
    namespaces
        .delete(&ns, &DeleteParams::default())
        .await
        .unwrap();
}
