//! Phase tests from YAML: the objects a stack gets and the upgrade state machine, step by
//! step, through a pure simulation of the cluster (no client, no mock).

// Fixture helpers outside #[test] functions: a broken fixture should fail the test loudly.
#![allow(clippy::unwrap_used)]

mod support;

use clmb_operator::crd::{DatabaseState, Phase, UpgradeState};
use clmb_operator::observe::ObjectKey;
use clmb_operator::rbac::ChildKind;
use serde_json::{Value, json};
use support::sim::{PROD, Sim, secret};

const COMPONENTS: [&str; 4] = ["users", "gyms", "sessions", "gateway"];

fn installed() -> Sim {
    let mut sim = Sim::new(PROD);
    let last = sim.converge();
    assert_eq!(last.status.phase, Some(Phase::Ready));
    sim
}

fn object(sim: &Sim, kind: ChildKind, name: &str) -> Value {
    sim.children
        .get(kind, name)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind:?} {name}"))
}

fn env_of(container: &Value) -> Vec<(String, Value)> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let value = e
                .get("value")
                .cloned()
                .unwrap_or_else(|| e["valueFrom"].clone());
            (e["name"].as_str().unwrap().to_owned(), value)
        })
        .collect()
}

#[test]
fn a_converged_stack_has_every_object_of_the_spec_and_nothing_else() {
    let sim = installed();

    let mut names: Vec<(ChildKind, String)> = sim
        .children
        .objects
        .keys()
        .map(|k| (k.kind, k.name.clone()))
        .collect();
    names.sort();

    let mut expected = vec![(ChildKind::Secret, "prod-signing-key".to_owned())];
    for c in COMPONENTS {
        let name = format!("prod-{c}");
        expected.push((ChildKind::ServiceAccount, name.clone()));
        expected.push((ChildKind::Deployment, name.clone()));
        expected.push((ChildKind::Service, name.clone()));
        expected.push((ChildKind::NetworkPolicy, name.clone()));
    }
    for c in ["users", "gyms", "sessions"] {
        expected.push((ChildKind::Job, format!("prod-{c}-migrate-0.4.0")));
    }
    // Autoscaled: gateway and users. More than one replica possible: all but gyms.
    for c in ["gateway", "users"] {
        expected.push((ChildKind::HorizontalPodAutoscaler, format!("prod-{c}")));
    }
    for c in ["gateway", "users", "sessions"] {
        expected.push((ChildKind::PodDisruptionBudget, format!("prod-{c}")));
    }
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn every_object_carries_the_stack_labels_and_an_owner_reference() {
    let sim = installed();

    for (key, value) in &sim.children.objects {
        let labels = &value["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/name"], "clmb", "{key:?}");
        assert_eq!(labels["app.kubernetes.io/instance"], "prod", "{key:?}");
        assert_eq!(labels["app.kubernetes.io/version"], "0.4.0", "{key:?}");
        assert_eq!(
            labels["app.kubernetes.io/managed-by"], "clmb-operator",
            "{key:?}"
        );
        if key.kind != ChildKind::Secret {
            assert!(labels["app.kubernetes.io/component"].is_string(), "{key:?}");
        }
        let owner = &value["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "ClmbStack", "{key:?}");
        assert_eq!(
            owner["uid"], "6f1c3f0e-0000-4000-8000-000000000001",
            "{key:?}"
        );
        assert_eq!(owner["controller"], true, "{key:?}");
    }
}

#[test]
fn deployments_run_the_one_image_with_probes_security_and_no_unavailable_pods() {
    let sim = installed();

    for c in COMPONENTS {
        let d = object(&sim, ChildKind::Deployment, &format!("prod-{c}"));
        let pod = &d["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(container["image"], "ghcr.io/example/clmb:0.4.0");
        assert_eq!(container["args"], json!(["clmb", c]));
        assert_eq!(
            container["ports"],
            json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}])
        );
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/livez");
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert_eq!(
            container["securityContext"],
            json!({
                "runAsNonRoot": true,
                "allowPrivilegeEscalation": false,
                "readOnlyRootFilesystem": true,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            })
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(pod["serviceAccountName"], format!("prod-{c}"));
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
        let mounts = container["volumeMounts"].as_array().unwrap();
        assert!(mounts.iter().any(|m| m["mountPath"] == "/tmp"));
        assert!(
            mounts
                .iter()
                .any(|m| m["mountPath"] == "/etc/clmb/keys" && m["readOnly"] == true)
        );
    }
    let sa = object(&sim, ChildKind::ServiceAccount, "prod-users");
    assert_eq!(sa["automountServiceAccountToken"], false);
}

#[test]
fn autoscaled_components_leave_replicas_to_their_hpa() {
    let sim = installed();

    let gateway = object(&sim, ChildKind::Deployment, "prod-gateway");
    let sessions = object(&sim, ChildKind::Deployment, "prod-sessions");
    let hpa = object(&sim, ChildKind::HorizontalPodAutoscaler, "prod-gateway");

    assert!(gateway["spec"].get("replicas").is_none());
    assert_eq!(sessions["spec"]["replicas"], 2);
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(hpa["spec"]["maxReplicas"], 10);
    assert_eq!(
        hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        70
    );
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "prod-gateway");
    let pdb = object(&sim, ChildKind::PodDisruptionBudget, "prod-sessions");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
}

#[test]
fn containers_get_the_env_contract_and_only_users_reads_the_private_key() {
    let sim = installed();

    for c in COMPONENTS {
        let d = object(&sim, ChildKind::Deployment, &format!("prod-{c}"));
        let pod = &d["spec"]["template"]["spec"];
        let env = env_of(&pod["containers"][0]);
        let get = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert_eq!(get("CLMB_LISTEN"), Some(json!("0.0.0.0:8080")));
        assert_eq!(get("CLMB_USERS_URL"), Some(json!("http://prod-users:80")));
        assert_eq!(get("CLMB_GYMS_URL"), Some(json!("http://prod-gyms:80")));
        assert_eq!(
            get("CLMB_SESSIONS_URL"),
            Some(json!("http://prod-sessions:80"))
        );
        assert_eq!(
            get("CLMB_JWT_PUBLIC_KEY_FILE"),
            Some(json!("/etc/clmb/keys/public.pem"))
        );
        assert_eq!(get("CLMB_LOG_FORMAT"), Some(json!("json")));
        let keys = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "signing-key")
            .unwrap();
        let items: Vec<&str> = keys["secret"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap())
            .collect();
        if c == "users" {
            assert_eq!(
                get("CLMB_JWT_PRIVATE_KEY_FILE"),
                Some(json!("/etc/clmb/keys/private.pem"))
            );
            assert_eq!(items, ["public.pem", "private.pem"]);
        } else {
            assert_eq!(get("CLMB_JWT_PRIVATE_KEY_FILE"), None, "{c}");
            assert_eq!(items, ["public.pem"], "{c}");
        }
        if c == "gateway" {
            assert_eq!(get("CLMB_DATABASE_URL"), None);
        } else {
            assert_eq!(
                get("CLMB_DATABASE_URL"),
                Some(
                    json!({"secretKeyRef": {"name": format!("{c}-db"), "key": "url", "optional": false}})
                )
            );
        }
    }
}

#[test]
fn services_listen_on_port_80_and_the_gateway_takes_its_type_from_the_spec() {
    let sim = installed();

    let users = object(&sim, ChildKind::Service, "prod-users");
    let gateway = object(&sim, ChildKind::Service, "prod-gateway");

    assert_eq!(users["spec"]["type"], "ClusterIP");
    assert_eq!(users["spec"]["ports"][0]["port"], 80);
    assert_eq!(users["spec"]["ports"][0]["targetPort"], "http");
    assert_eq!(gateway["spec"]["type"], "LoadBalancer");
    assert_eq!(
        gateway["metadata"]["annotations"]["example.com/lb"],
        "internal"
    );
}

#[test]
fn network_policies_admit_the_gateway_and_only_the_services_that_really_call() {
    let sim = installed();
    let callers = |c: &str| -> Option<Vec<String>> {
        let np = object(&sim, ChildKind::NetworkPolicy, &format!("prod-{c}"));
        assert_eq!(np["spec"]["ingress"][0]["ports"][0]["port"], 8080);
        np["spec"]["ingress"][0].get("from").map(|from| {
            from.as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    p["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        })
    };

    assert_eq!(callers("gateway"), None, "the gateway accepts every source");
    assert_eq!(
        callers("users"),
        Some(vec!["gateway".to_owned(), "sessions".to_owned()])
    );
    assert_eq!(
        callers("gyms"),
        Some(vec![
            "gateway".to_owned(),
            "sessions".to_owned(),
            "users".to_owned()
        ]),
        "users tells gyms of a deleted account, so that it leaves the gyms' managers"
    );
    assert_eq!(
        callers("sessions"),
        Some(vec!["gateway".to_owned(), "users".to_owned()])
    );
}

#[test]
fn migration_jobs_run_the_service_migrations_against_its_database() {
    let sim = installed();

    let job = object(&sim, ChildKind::Job, "prod-sessions-migrate-0.4.0");
    let container = &job["spec"]["template"]["spec"]["containers"][0];

    assert_eq!(container["args"], json!(["clmb", "migrate", "sessions"]));
    assert_eq!(container["image"], "ghcr.io/example/clmb:0.4.0");
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    let env = env_of(container);
    assert_eq!(env[0].0, "CLMB_DATABASE_URL");
}

#[test]
fn install_migrates_and_rolls_each_service_in_turn_then_the_gateway() {
    let mut sim = Sim::new(PROD);
    let mut order = Vec::new();

    for _ in 0..12 {
        let step = sim.reconcile();
        for w in &step.writes {
            if matches!(w.kind, ChildKind::Job | ChildKind::Deployment) {
                order.push(w.name.clone());
            }
        }
        if step.status.phase == Some(Phase::Ready) {
            break;
        }
        assert_eq!(
            step.status.version, None,
            "the version moves only at the end"
        );
        sim.complete_jobs();
        sim.finish_rollouts();
    }

    assert_eq!(
        order,
        [
            "prod-users-migrate-0.4.0",
            "prod-users",
            "prod-gyms-migrate-0.4.0",
            "prod-gyms",
            "prod-sessions-migrate-0.4.0",
            "prod-sessions",
            "prod-gateway",
        ]
    );
    let status = sim.stack.status.clone().unwrap();
    assert_eq!(status.version.as_deref(), Some("0.4.0"));
    assert_eq!(status.ready.as_deref(), Some("4/4"));
}

#[test]
fn a_second_reconcile_with_nothing_changed_plans_no_writes() {
    let mut sim = installed();
    let before = sim.stack.status.clone();

    let step = sim.reconcile();

    assert!(step.writes.is_empty(), "{:?}", step.writes);
    assert_eq!(
        Some(step.status),
        before,
        "an unchanged status needs no patch"
    );
    assert!(step.events.is_empty());
}

#[test]
fn an_upgrade_migrates_and_rolls_each_service_then_the_gateway_then_moves_the_version() {
    let mut sim = installed();
    sim.edit_spec(|s| s["version"] = json!("0.5.0"));
    let mut trail = Vec::new();

    let first = sim.reconcile();
    assert_eq!(
        first.event_reasons(),
        ["UpgradeStarted", "MigrationStarted"]
    );
    let mut step = first;
    loop {
        let upgrade = step.status.upgrade.clone();
        let tags: Vec<String> = COMPONENTS
            .iter()
            .map(|c| sim.image_tag(c).unwrap())
            .collect();
        match upgrade {
            Some(u) => {
                assert_eq!(step.status.phase, Some(Phase::Upgrading));
                assert_eq!(step.status.version.as_deref(), Some("0.4.0"));
                assert_eq!(u.from_version.as_deref(), Some("0.4.0"));
                trail.push((u.component.unwrap(), u.state, tags));
            }
            None => break,
        }
        sim.complete_jobs();
        sim.finish_rollouts();
        step = sim.reconcile();
    }

    let t = |c: &str, s: UpgradeState, tags: [&str; 4]| {
        (
            c.to_owned(),
            s,
            tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>(),
        )
    };
    let (old, new) = ("0.4.0", "0.5.0");
    assert_eq!(
        trail,
        [
            t("users", UpgradeState::Migrating, [old, old, old, old]),
            t("users", UpgradeState::Rolling, [new, old, old, old]),
            t("gyms", UpgradeState::Migrating, [new, old, old, old]),
            t("gyms", UpgradeState::Rolling, [new, new, old, old]),
            t("sessions", UpgradeState::Migrating, [new, new, old, old]),
            t("sessions", UpgradeState::Rolling, [new, new, new, old]),
            t("gateway", UpgradeState::Rolling, [new, new, new, new]),
        ]
    );
    assert_eq!(step.status.phase, Some(Phase::Ready));
    assert_eq!(step.status.version.as_deref(), Some("0.5.0"));
    assert!(step.event_reasons().contains(&"UpgradeCompleted"));
}

/// Where an upgrade breaks: a service's migration Job or a component's rollout.
#[derive(Clone, Copy, Debug)]
enum Break {
    Migration(&'static str),
    Rollout(&'static str),
}

const EVERY_STEP: [Break; 7] = [
    Break::Migration("users"),
    Break::Rollout("users"),
    Break::Migration("gyms"),
    Break::Rollout("gyms"),
    Break::Migration("sessions"),
    Break::Rollout("sessions"),
    Break::Rollout("gateway"),
];

/// Upgrades to 0.5.0 and breaks it at `at`; returns the reconcile that saw the failure.
fn upgrade_and_break(sim: &mut Sim, at: Break) -> support::sim::Step {
    sim.edit_spec(|s| s["version"] = json!("0.5.0"));
    for _ in 0..10 {
        let step = sim.reconcile();
        let upgrade = step.status.upgrade.clone().unwrap();
        let here = (upgrade.component.as_deref().unwrap(), upgrade.state);
        match (at, here) {
            (Break::Migration(c), (h, UpgradeState::Migrating)) if c == h => {
                sim.fail_job(&format!("prod-{c}-migrate-0.5.0"));
                return sim.reconcile();
            }
            (Break::Rollout(c), (h, UpgradeState::Rolling)) if c == h => {
                sim.miss_deadline(c);
                return sim.reconcile();
            }
            _ => {
                sim.complete_jobs();
                sim.finish_rollouts();
            }
        }
    }
    panic!("never reached {at:?}");
}

#[test]
fn a_failure_at_any_step_stops_the_upgrade_degrades_and_rolls_back_what_was_rolled() {
    for at in EVERY_STEP {
        let mut sim = installed();

        let failed = upgrade_and_break(&mut sim, at);

        assert_eq!(failed.status.phase, Some(Phase::Degraded), "{at:?}");
        assert_eq!(failed.status.version.as_deref(), Some("0.4.0"), "{at:?}");
        let upgrade = failed.status.upgrade.clone().unwrap();
        assert_eq!(upgrade.state, UpgradeState::Failed, "{at:?}");
        let (component, reason) = match at {
            Break::Migration(c) => (c, "MigrationFailed"),
            Break::Rollout(c) => (c, "ProgressDeadlineExceeded"),
        };
        assert_eq!(upgrade.component.as_deref(), Some(component), "{at:?}");
        assert_eq!(upgrade.reason.as_deref(), Some(reason), "{at:?}");
        assert_eq!(
            failed.condition("Degraded"),
            ("True".to_owned(), reason.to_owned()),
            "{at:?}"
        );
        assert_eq!(failed.condition("Ready").0, "False", "{at:?}");
        assert!(failed.event_reasons().contains(&reason), "{at:?}");
        let rolled_before = !matches!(at, Break::Migration("users"));
        assert_eq!(
            failed.event_reasons().contains(&"RollingBack"),
            rolled_before,
            "{at:?}"
        );
        for c in COMPONENTS {
            assert_eq!(sim.image_tag(c).as_deref(), Some("0.4.0"), "{at:?}: {c}");
        }

        // The stop holds: no step resumes, nothing is written again, nothing is announced again.
        sim.complete_jobs();
        sim.finish_rollouts();
        sim.reconcile();
        let again = sim.reconcile();
        assert_eq!(again.status.phase, Some(Phase::Degraded), "{at:?}");
        assert!(again.writes.is_empty(), "{at:?}: {:?}", again.writes);
        assert!(again.events.is_empty(), "{at:?}");
    }
}

#[test]
fn without_rollback_on_failure_rolled_components_stay_on_the_new_version() {
    let mut sim = installed();
    sim.edit_spec(|s| s["upgrade"]["rollbackOnFailure"] = json!(false));
    sim.converge();

    let failed = upgrade_and_break(&mut sim, Break::Rollout("sessions"));

    assert_eq!(failed.status.phase, Some(Phase::Degraded));
    let tags: Vec<Option<String>> = COMPONENTS.iter().map(|c| sim.image_tag(c)).collect();
    let v = |s: &str| Some(s.to_owned());
    assert_eq!(tags, [v("0.5.0"), v("0.5.0"), v("0.5.0"), v("0.4.0")]);
    assert!(!failed.event_reasons().contains(&"RollingBack"));
}

#[test]
fn a_failed_migration_is_retried_once_its_job_is_deleted() {
    let mut sim = installed();
    upgrade_and_break(&mut sim, Break::Migration("gyms"));

    sim.delete_job("prod-gyms-migrate-0.5.0");
    let retry = sim.reconcile();

    // users was rolled back with the failure, so the walk starts over from users.
    assert_eq!(retry.status.phase, Some(Phase::Upgrading));
    assert!(retry.wrote(ChildKind::Deployment, "prod-users"));
    let done = sim.converge();
    assert_eq!(done.status.version.as_deref(), Some("0.5.0"));
    assert!(sim.jobs().contains(&"prod-gyms-migrate-0.5.0".to_owned()));
    assert_eq!(
        done.status.components["gyms"].migration,
        Some(clmb_operator::crd::MigrationState::Succeeded)
    );
}

#[test]
fn a_new_version_after_a_failure_starts_a_new_upgrade() {
    let mut sim = installed();
    upgrade_and_break(&mut sim, Break::Rollout("users"));

    sim.edit_spec(|s| s["version"] = json!("0.5.1"));
    let done = sim.converge();

    assert_eq!(done.status.phase, Some(Phase::Ready));
    assert_eq!(done.status.version.as_deref(), Some("0.5.1"));
    assert_eq!(done.status.upgrade, None);
}

#[test]
fn pause_freezes_every_write_and_says_so_in_status_until_unpaused() {
    let mut sim = installed();
    sim.edit_spec(|s| s["version"] = json!("0.5.0"));
    let started = sim.reconcile();
    assert!(started.wrote(ChildKind::Job, "prod-users-migrate-0.5.0"));

    sim.edit_spec(|s| s["paused"] = json!(true));
    sim.complete_jobs();
    let paused = sim.reconcile();
    let still = sim.reconcile();

    assert!(paused.writes.is_empty() && still.writes.is_empty());
    assert_eq!(paused.status.phase, Some(Phase::Paused));
    assert_eq!(
        paused.condition("Progressing"),
        ("False".to_owned(), "Paused".to_owned())
    );
    assert_eq!(
        paused
            .status
            .upgrade
            .as_ref()
            .map(|u| u.to_version.as_str()),
        Some("0.5.0")
    );
    assert!(paused.event_reasons().contains(&"Paused"));
    assert_eq!(sim.image_tag("users").as_deref(), Some("0.4.0"));

    sim.edit_spec(|s| s["paused"] = json!(false));
    let resumed = sim.reconcile();
    assert!(resumed.wrote(ChildKind::Deployment, "prod-users"));
    assert_eq!(sim.image_tag("users").as_deref(), Some("0.5.0"));
}

#[test]
fn a_missing_database_secret_leaves_the_service_undeployed_until_it_appears() {
    let mut sim = Sim::new(PROD);
    sim.remove_secret("users-db");

    let first = sim.reconcile();
    let settled = sim.converge();

    assert!(first.event_reasons().contains(&"SecretMissing"));
    assert!(!sim.has_deployment("users"));
    assert!(
        sim.children
            .objects
            .keys()
            .all(|k| !k.name.starts_with("prod-users")),
        "no users object"
    );
    assert!(sim.has_deployment("gateway") && sim.has_deployment("gyms"));
    assert_eq!(settled.status.phase, Some(Phase::Pending));
    assert_eq!(
        settled.status.components["users"].database,
        Some(DatabaseState::SecretMissing)
    );
    assert_eq!(
        settled.condition("DatabasesBound"),
        ("False".to_owned(), "SecretMissing".to_owned())
    );
    let message = &settled
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "DatabasesBound")
        .unwrap()
        .message;
    assert!(message.contains("users-db"), "{message}");
    assert!(settled.writes.is_empty());

    sim.put_secret(secret("users-db", &[("url", "postgres://users")]));
    let found = sim.reconcile();
    assert!(found.event_reasons().contains(&"SecretFound"));
    assert!(found.wrote(ChildKind::Job, "prod-users-migrate-0.4.0"));
    let done = sim.converge();
    assert_eq!(done.status.phase, Some(Phase::Ready));
    assert_eq!(
        done.condition("DatabasesBound"),
        ("True".to_owned(), "AllSecretsPresent".to_owned())
    );
}

#[test]
fn a_secret_without_the_referenced_key_is_reported_as_key_missing() {
    let mut sim = Sim::new(PROD);
    sim.put_secret(secret("gyms-db", &[("uri", "postgres://gyms")]));

    let settled = sim.converge();

    assert!(!sim.has_deployment("gyms"));
    assert_eq!(
        settled.status.components["gyms"].database,
        Some(DatabaseState::KeyMissing)
    );
    assert_eq!(settled.condition("DatabasesBound").1, "KeyMissing");
}

#[test]
fn rotating_a_database_secret_rolls_only_the_pods_that_read_it() {
    let mut sim = installed();
    let hash = |sim: &Sim, c: &str| {
        object(sim, ChildKind::Deployment, &format!("prod-{c}"))["spec"]["template"]["metadata"]["annotations"]
            ["clmb.dev/secret-hash"]
            .clone()
    };
    let before: Vec<Value> = COMPONENTS.iter().map(|c| hash(&sim, c)).collect();

    sim.put_secret(secret(
        "sessions-db",
        &[("url", "postgres://sessions-rotated")],
    ));
    let step = sim.reconcile();

    let written: Vec<&str> = step.writes.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(written, ["prod-sessions"]);
    let after: Vec<Value> = COMPONENTS.iter().map(|c| hash(&sim, c)).collect();
    assert_ne!(before[2], after[2]);
    assert_eq!(
        (&before[0], &before[1], &before[3]),
        (&after[0], &after[1], &after[3])
    );
}

#[test]
fn the_signing_key_is_generated_once_as_pem_and_kept() {
    let mut sim = Sim::new(PROD);

    let first = sim.reconcile();
    let secret = first
        .writes
        .iter()
        .find(|w| w.kind == ChildKind::Secret)
        .unwrap()
        .value
        .clone();
    sim.converge();
    let later = sim.reconcile();

    let decode = |key: &str| {
        use base64::Engine;
        let text = secret["data"][key].as_str().unwrap();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap(),
        )
        .unwrap()
    };
    assert!(decode("private.pem").starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(decode("public.pem").starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(!later.wrote(ChildKind::Secret, "prod-signing-key"));
    assert_eq!(
        object(&sim, ChildKind::Secret, "prod-signing-key")["data"],
        secret["data"]
    );
}

#[test]
fn status_and_every_condition_carry_the_generation_they_describe() {
    let mut sim = installed();
    sim.edit_spec(|s| s["version"] = json!("0.5.0"));

    let step = sim.reconcile();

    assert_eq!(step.status.observed_generation, Some(2));
    assert_eq!(step.status.conditions.len(), 4);
    for c in &step.status.conditions {
        assert_eq!(c.observed_generation, Some(2), "{}", c.type_);
    }
    assert_eq!(step.condition("Ready").0, "False");
    assert_eq!(
        step.condition("Progressing"),
        ("True".to_owned(), "Migrating".to_owned())
    );
}

#[test]
fn manual_migrations_roll_services_without_jobs() {
    let mut sim = installed();
    sim.edit_spec(|s| {
        s["upgrade"]["migrations"] = json!("Manual");
        s["version"] = json!("0.5.0");
    });

    let done = sim.converge();

    assert_eq!(done.status.version.as_deref(), Some("0.5.0"));
    assert!(
        sim.jobs().iter().all(|j| j.ends_with("0.4.0")),
        "{:?}",
        sim.jobs()
    );
}

#[test]
fn an_hpa_the_spec_drops_is_deleted_once_after_the_fixed_replicas_are_written_not_while_paused() {
    let mut sim = installed();
    sim.edit_spec(|s| {
        s["paused"] = json!(true);
        s["gateway"].as_object_mut().unwrap().remove("autoscaling");
        s["gateway"]["replicas"] = json!(3);
    });

    let paused = sim.reconcile();
    assert!(paused.deleted.is_empty(), "{:?}", paused.deleted);
    assert!(
        sim.children
            .get(ChildKind::HorizontalPodAutoscaler, "prod-gateway")
            .is_some()
    );

    sim.edit_spec(|s| s["paused"] = json!(false));
    let resumed = sim.reconcile();

    // Spec changes other than the version apply at once: the Deployment takes its fixed
    // replicas in the same pass that removes the HPA, so nothing scales it to the minimum.
    assert_eq!(
        resumed.deleted,
        [ObjectKey {
            kind: ChildKind::HorizontalPodAutoscaler,
            name: "prod-gateway".to_owned()
        }]
    );
    assert!(resumed.wrote(ChildKind::Deployment, "prod-gateway"));
    let deployment = object(&sim, ChildKind::Deployment, "prod-gateway");
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert!(
        sim.children
            .get(ChildKind::HorizontalPodAutoscaler, "prod-users")
            .is_some()
    );
    let again = sim.reconcile();
    assert!(again.deleted.is_empty() && again.writes.is_empty());
}

#[test]
fn extra_public_keys_in_the_signing_secret_are_mounted_and_accepted_by_every_component() {
    let mut sim = installed();
    let mut signing: k8s_openapi::api::core::v1::Secret =
        serde_json::from_value(object(&sim, ChildKind::Secret, "prod-signing-key")).unwrap();
    let data = signing.data.as_mut().unwrap();
    let current = data["public.pem"].clone();
    data.insert("previous-public.pem".to_owned(), current);
    data.insert(
        "not-a-key.txt".to_owned(),
        k8s_openapi::ByteString(b"ignored".to_vec()),
    );
    sim.put_secret(signing);

    let step = sim.reconcile();

    for c in COMPONENTS {
        let name = format!("prod-{c}");
        assert!(step.wrote(ChildKind::Deployment, &name), "{c} rolls");
        let pod = object(&sim, ChildKind::Deployment, &name)["spec"]["template"]["spec"].clone();
        let env = pod["containers"][0]["env"].as_array().unwrap().clone();
        let keys_env = env
            .iter()
            .find(|e| e["name"] == "CLMB_JWT_PUBLIC_KEY_FILE")
            .unwrap();
        assert_eq!(
            keys_env["value"], "/etc/clmb/keys/public.pem,/etc/clmb/keys/previous-public.pem",
            "{c}"
        );
        let volume = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "signing-key")
            .unwrap()
            .clone();
        let items: Vec<String> = volume["secret"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            items.contains(&"previous-public.pem".to_owned()),
            "{c}: {items:?}"
        );
        assert!(
            !items.contains(&"not-a-key.txt".to_owned()),
            "{c}: {items:?}"
        );
    }
    assert!(sim.reconcile().writes.is_empty(), "nothing more to change");
}
