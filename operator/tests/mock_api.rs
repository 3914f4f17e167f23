//! The controller's API calls through kube's client against an in-memory API server: the
//! requests in order, retries on conflicts and server errors, the error policy, and leader
//! election. Every reconcile runs under a timeout, so a call that never comes back fails.

// Fixture helpers outside #[test] functions: a broken fixture should fail the test loudly.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use clmb_operator::crd::ClmbStack;
use clmb_operator::leader::LeaderElector;
use clmb_operator::metrics::Metrics;
use clmb_operator::rbac::allows;
use clmb_operator::reconcile::{Context, Error, error_policy, reconcile};
use clmb_operator::retry::RetryPolicy;
use http::Method;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use serde_json::{Value, json};
use support::fake_api::{FakeApi, Logged, object_path, rbac_of};
use support::sim::{PROD, secret, stack};

const STACK_PATH: &str = "/apis/clmb.dev/v1alpha1/namespaces/climbing/clmbstacks/prod";
const TIMEOUT: Duration = Duration::from_secs(10);

fn fake_with_prod() -> FakeApi {
    let fake = FakeApi::default();
    fake.put(STACK_PATH, serde_json::to_value(stack(PROD)).unwrap());
    for name in ["users-db", "gyms-db", "sessions-db"] {
        let mut value = serde_json::to_value(secret(name, &[("url", "postgres://db")])).unwrap();
        value["apiVersion"] = json!("v1");
        value["kind"] = json!("Secret");
        fake.put(&object_path("v1", "secrets", "climbing", name), value);
    }
    fake
}

fn context(fake: &FakeApi) -> Arc<Context> {
    let client = fake.client();
    let reporter = Reporter {
        controller: "clmb-operator".to_owned(),
        instance: Some("test".to_owned()),
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let retry = RetryPolicy {
        attempts: 3,
        first_pause: Duration::from_millis(1),
    };
    Arc::new(Context::new(
        client,
        recorder,
        Arc::new(Metrics::default()),
        retry,
    ))
}

/// Reconciles the stack as the fake server holds it now.
async fn reconcile_once(fake: &FakeApi, ctx: &Arc<Context>) -> Result<Action, Error> {
    let stack: ClmbStack = serde_json::from_value(fake.get(STACK_PATH).unwrap()).unwrap();
    tokio::time::timeout(TIMEOUT, reconcile(Arc::new(stack), ctx.clone()))
        .await
        .expect("reconcile did not finish: a request was never answered")
}

fn lines(log: &[Logged]) -> Vec<String> {
    log.iter().map(Logged::line).collect()
}

/// The reads every reconcile starts with: referenced Secrets, then each kind of child.
fn reads() -> Vec<String> {
    let mut expected: Vec<String> = ["gyms-db", "prod-signing-key", "sessions-db", "users-db"]
        .iter()
        .map(|s| format!("GET /api/v1/namespaces/climbing/secrets/{s}"))
        .collect();
    for collection in [
        "/api/v1/namespaces/climbing/serviceaccounts",
        "/apis/batch/v1/namespaces/climbing/jobs",
        "/apis/apps/v1/namespaces/climbing/deployments",
        "/api/v1/namespaces/climbing/services",
        "/apis/autoscaling/v2/namespaces/climbing/horizontalpodautoscalers",
        "/apis/policy/v1/namespaces/climbing/poddisruptionbudgets",
        "/apis/networking.k8s.io/v1/namespaces/climbing/networkpolicies",
    ] {
        expected.push(format!("GET {collection}"));
    }
    expected
}

#[tokio::test]
async fn the_first_reconcile_reads_then_applies_the_first_step_then_reports() {
    let fake = fake_with_prod();
    let ctx = context(&fake);

    let action = reconcile_once(&fake, &ctx).await.unwrap();

    let log = fake.take_log();
    let mut expected = reads();
    expected.extend([
        "PATCH /api/v1/namespaces/climbing/serviceaccounts/prod-users".to_owned(),
        "PATCH /api/v1/namespaces/climbing/secrets/prod-signing-key".to_owned(),
        "PATCH /apis/batch/v1/namespaces/climbing/jobs/prod-users-migrate-0.4.0".to_owned(),
        format!("PATCH {STACK_PATH}/status"),
        "POST /apis/events.k8s.io/v1/namespaces/climbing/events".to_owned(),
    ]);
    assert_eq!(lines(&log), expected);
    for request in log
        .iter()
        .filter(|l| l.method == Method::PATCH && !l.path.ends_with("/status"))
    {
        assert!(
            request.query.contains("fieldManager=clmb-operator"),
            "{request:?}"
        );
        assert!(request.query.contains("force=true"), "{request:?}");
    }
    for request in log
        .iter()
        .filter(|l| l.path.ends_with("serviceaccounts") || l.path.ends_with("jobs"))
    {
        assert!(request.query.contains("labelSelector="), "{request:?}");
    }
    assert_eq!(action, Action::requeue(Duration::from_secs(30)));
    let status = &fake.get(STACK_PATH).unwrap()["status"];
    assert_eq!(status["phase"], "Progressing");
    assert_eq!(status["observedGeneration"], 1);
}

#[tokio::test]
async fn every_request_the_operator_makes_is_granted_by_the_rbac_rules() {
    let fake = fake_with_prod();
    let ctx = context(&fake);
    let mut log = Vec::new();

    for _ in 0..12 {
        reconcile_once(&fake, &ctx).await.unwrap();
        fake.settle();
        log.extend(fake.take_log());
    }

    assert_eq!(fake.get(STACK_PATH).unwrap()["status"]["phase"], "Ready");
    let mut kinds_seen = std::collections::BTreeSet::new();
    for request in &log {
        let (group, resource, verb) = rbac_of(request);
        assert!(
            allows(&group, &resource, &verb),
            "not granted: {verb} {group}/{resource}"
        );
        kinds_seen.insert(resource);
    }
    assert!(kinds_seen.len() >= 10, "{kinds_seen:?}");
}

#[tokio::test]
async fn a_second_reconcile_with_nothing_changed_writes_nothing() {
    let fake = fake_with_prod();
    let ctx = context(&fake);
    for _ in 0..12 {
        reconcile_once(&fake, &ctx).await.unwrap();
        fake.settle();
    }
    fake.take_log();

    reconcile_once(&fake, &ctx).await.unwrap();

    assert_eq!(lines(&fake.take_log()), reads(), "only reads, no write");
}

#[tokio::test]
async fn an_hpa_and_pdb_the_spec_no_longer_asks_for_are_deleted_and_the_rest_kept() {
    let fake = fake_with_prod();
    let ctx = context(&fake);
    for _ in 0..12 {
        reconcile_once(&fake, &ctx).await.unwrap();
        fake.settle();
    }
    let hpa = |name: &str| {
        object_path(
            "autoscaling/v2",
            "horizontalpodautoscalers",
            "climbing",
            name,
        )
    };
    let pdb = |name: &str| object_path("policy/v1", "poddisruptionbudgets", "climbing", name);
    assert!(fake.get(&hpa("prod-users")).is_some());
    assert!(fake.get(&pdb("prod-users")).is_some());
    fake.take_log();

    // Users leaves autoscaling for one fixed replica: no HPA, and no PDB for one pod.
    fake.update(STACK_PATH, |stack| {
        stack["spec"]["services"]["users"]
            .as_object_mut()
            .unwrap()
            .remove("autoscaling");
        stack["spec"]["services"]["users"]["replicas"] = json!(1);
        stack["metadata"]["generation"] = json!(2);
    });
    reconcile_once(&fake, &ctx).await.unwrap();

    let log = fake.take_log();
    let deletes: Vec<String> = log
        .iter()
        .filter(|l| l.method == Method::DELETE)
        .map(Logged::line)
        .collect();
    assert_eq!(
        deletes,
        [
            format!("DELETE {}", hpa("prod-users")),
            format!("DELETE {}", pdb("prod-users")),
        ]
    );
    for request in &log {
        let (group, resource, verb) = rbac_of(request);
        assert!(
            allows(&group, &resource, &verb),
            "not granted: {verb} {group}/{resource}"
        );
    }
    assert!(fake.get(&hpa("prod-users")).is_none());
    assert!(fake.get(&pdb("prod-users")).is_none());
    assert!(
        fake.get(&hpa("prod-gateway")).is_some(),
        "the gateway still autoscales"
    );
    assert!(
        fake.get(&pdb("prod-sessions")).is_some(),
        "sessions still runs two replicas"
    );

    fake.settle();
    reconcile_once(&fake, &ctx).await.unwrap();
    assert!(
        fake.take_log().iter().all(|l| l.method != Method::DELETE),
        "nothing left to delete"
    );
}

#[tokio::test]
async fn conflicts_and_server_errors_on_a_write_are_retried() {
    let fake = fake_with_prod();
    let ctx = context(&fake);
    fake.fail_next(Method::PATCH, "/jobs/prod-users-migrate", 409);
    fake.fail_next(Method::PATCH, "/jobs/prod-users-migrate", 500);

    reconcile_once(&fake, &ctx).await.unwrap();

    let job_patches = fake
        .take_log()
        .iter()
        .filter(|l| l.method == Method::PATCH && l.path.contains("/jobs/"))
        .count();
    assert_eq!(job_patches, 3);
    assert!(
        fake.get("/apis/batch/v1/namespaces/climbing/jobs/prod-users-migrate-0.4.0")
            .is_some()
    );
}

#[tokio::test]
async fn a_server_error_on_a_read_is_retried() {
    let fake = fake_with_prod();
    let ctx = context(&fake);
    fake.fail_next(Method::GET, "/deployments", 503);

    reconcile_once(&fake, &ctx).await.unwrap();

    let lists = fake
        .take_log()
        .iter()
        .filter(|l| l.path.ends_with("/deployments"))
        .count();
    assert_eq!(lists, 2);
}

#[tokio::test]
async fn a_write_that_keeps_failing_is_a_transient_error_requeued_with_backoff() {
    let fake = fake_with_prod();
    let ctx = context(&fake);
    for _ in 0..3 {
        fake.fail_next(Method::PATCH, "/secrets/prod-signing-key", 500);
    }

    let error = reconcile_once(&fake, &ctx).await.unwrap_err();
    let stack: ClmbStack = serde_json::from_value(fake.get(STACK_PATH).unwrap()).unwrap();
    let first = error_policy(Arc::new(stack.clone()), &error, ctx.clone());
    let second = error_policy(Arc::new(stack), &error, ctx.clone());

    assert_eq!(error.category(), "apply_object");
    assert!(!error.is_permanent());
    assert_eq!(first, Action::requeue(Duration::from_secs(5)));
    assert_eq!(second, Action::requeue(Duration::from_secs(10)));
    let log = fake.take_log();
    assert!(
        log.iter()
            .any(|l| l.method == Method::POST && l.path.ends_with("/events")),
        "a Warning Event"
    );
    assert!(
        ctx.metrics
            .encode()
            .unwrap()
            .contains("clmb_operator_reconcile_errors_total{category=\"apply_object\"} 2")
    );
}

#[tokio::test]
async fn an_invalid_stack_reports_degraded_and_waits_for_a_change() {
    let fake = fake_with_prod();
    fake.update(STACK_PATH, |s| s["spec"]["version"] = json!("latest"));
    let ctx = context(&fake);

    let error = reconcile_once(&fake, &ctx).await.unwrap_err();
    let stack: ClmbStack = serde_json::from_value(fake.get(STACK_PATH).unwrap()).unwrap();
    let action = error_policy(Arc::new(stack), &error, ctx.clone());

    assert!(error.is_permanent());
    assert_eq!(action, Action::await_change());
    let status = fake.get(STACK_PATH).unwrap()["status"].clone();
    assert_eq!(status["phase"], "Degraded");
    let degraded: Vec<&Value> = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "Degraded")
        .collect();
    assert_eq!(degraded[0]["reason"], "InvalidSpec");
    assert!(degraded[0]["message"].as_str().unwrap().contains("latest"));
    let log = fake.take_log();
    assert!(
        !log.iter()
            .any(|l| l.method == Method::PATCH && !l.path.ends_with("/status")),
        "nothing applied"
    );
}

#[tokio::test]
async fn a_missing_database_secret_is_reported_and_its_arrival_deploys_the_service() {
    let fake = fake_with_prod();
    fake.remove(&object_path("v1", "secrets", "climbing", "users-db"));
    let ctx = context(&fake);
    for _ in 0..10 {
        reconcile_once(&fake, &ctx).await.unwrap();
        fake.settle();
    }
    let status = fake.get(STACK_PATH).unwrap()["status"].clone();
    assert_eq!(status["phase"], "Pending");
    assert_eq!(status["components"]["users"]["database"], "SecretMissing");
    assert!(fake.paths("/deployments/prod-users").is_empty());

    let mut users_db =
        serde_json::to_value(secret("users-db", &[("url", "postgres://u")])).unwrap();
    users_db["apiVersion"] = json!("v1");
    users_db["kind"] = json!("Secret");
    fake.put(
        &object_path("v1", "secrets", "climbing", "users-db"),
        users_db,
    );
    for _ in 0..4 {
        reconcile_once(&fake, &ctx).await.unwrap();
        fake.settle();
    }

    let status = fake.get(STACK_PATH).unwrap()["status"].clone();
    assert_eq!(status["phase"], "Ready");
    assert_eq!(status["components"]["users"]["database"], "Bound");
    assert_eq!(fake.paths("/deployments/prod-users").len(), 1);
}

fn elector(fake: &FakeApi, identity: &str) -> LeaderElector {
    LeaderElector {
        api: Api::<Lease>::namespaced(fake.client(), "ops"),
        name: "clmb-operator".to_owned(),
        identity: identity.to_owned(),
        lease_duration: Duration::from_secs(1),
        renew_every: Duration::from_millis(100),
    }
}

#[tokio::test]
async fn only_one_replica_leads_and_another_takes_over_an_abandoned_lease() {
    let fake = FakeApi::default();
    let a = elector(&fake, "replica-a");
    let b = elector(&fake, "replica-b");

    tokio::time::timeout(TIMEOUT, a.acquire()).await.unwrap();
    let b_while_a_renews = tokio::time::timeout(Duration::from_millis(1500), async {
        tokio::select! {
            () = b.acquire() => true,
            _ = a.hold() => false,
        }
    })
    .await;
    // a stops renewing here; b gets the lease once it has expired.
    tokio::time::timeout(TIMEOUT, b.acquire()).await.unwrap();

    assert!(
        b_while_a_renews.is_err(),
        "b must not lead while a renews: {b_while_a_renews:?}"
    );
    let lease = fake
        .get("/apis/coordination.k8s.io/v1/namespaces/ops/leases/clmb-operator")
        .unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "replica-b");
    assert_eq!(lease["spec"]["leaseTransitions"], 1);
}
