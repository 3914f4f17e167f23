//! Phase 6, status: what the stack reports, computed from what was observed and planned.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use crate::apply::Applied;
use crate::crd::{ClmbStack, ClmbStackStatus, ComponentStatus, DatabaseState, Phase};
use crate::machine::{EventType, MachineInput, Plan, PlannedEvent, Rollout};
use crate::names::{Component, FIELD_MANAGER, component_name};
use crate::observe::Children;
use crate::retry::{RetryPolicy, with_retry};
use crate::validate::{DatabaseBinding, ValidatedStack};

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("failed to patch the status of ClmbStack {name:?}")]
    PatchStatus { name: String, source: kube::Error },
}

impl StatusError {
    pub fn category(&self) -> &'static str {
        match self {
            Self::PatchStatus { .. } => "status_patch",
        }
    }
}

/// The status after a successful apply; taking [`Applied`] keeps it from being computed for
/// objects that were never written.
pub fn compute(
    stack: &ValidatedStack,
    children: &Children,
    input: &MachineInput,
    plan: &Plan,
    _applied: &Applied,
    now: &Time,
) -> ClmbStackStatus {
    let mut status = ClmbStackStatus {
        observed_generation: Some(stack.generation),
        phase: Some(plan.phase),
        version: plan.version.clone(),
        total_components: Component::UPGRADE_ORDER.len() as i32,
        upgrade: plan.upgrade.clone(),
        ..ClmbStackStatus::default()
    };
    for c in Component::UPGRADE_ORDER {
        let deployment = children.deployment(&component_name(&stack.name, c));
        let obs = input.components.get(&c);
        let component = ComponentStatus {
            version: obs.and_then(|o| o.deployed_version.clone()),
            desired_replicas: deployment
                .as_ref()
                .and_then(|d| d.spec.as_ref()?.replicas)
                .unwrap_or_default(),
            ready_replicas: deployment
                .as_ref()
                .and_then(|d| d.status.as_ref()?.ready_replicas)
                .unwrap_or_default(),
            database: stack.databases.get(&c).map(DatabaseBinding::state),
            migration: obs.and_then(|o| o.migration.as_migration()),
        };
        if obs.is_some_and(|o| o.rollout == Rollout::Complete) {
            status.ready_components += 1;
        }
        status.components.insert(c.as_str().to_owned(), component);
    }
    status.ready = Some(format!(
        "{}/{}",
        status.ready_components, status.total_components
    ));

    let phase = plan.phase;
    let reason_or = |fallback: &'static str| {
        if plan.reason.is_empty() {
            fallback
        } else {
            plan.reason
        }
    };
    let unbound: Vec<&DatabaseBinding> =
        stack.databases.values().filter(|b| !b.is_bound()).collect();
    let db_reason = match unbound.first().map(|b| b.state()) {
        None => "AllSecretsPresent",
        Some(DatabaseState::KeyMissing) => "KeyMissing",
        Some(_) => "SecretMissing",
    };
    let db_message = if unbound.is_empty() {
        "every database Secret is present".to_owned()
    } else {
        unbound
            .iter()
            .map(|b| b.describe())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let wanted = [
        (
            "Ready",
            phase == Phase::Ready,
            reason_or("AllComponentsReady"),
            plan.message.clone(),
        ),
        (
            "Progressing",
            matches!(phase, Phase::Progressing | Phase::Upgrading),
            match phase {
                Phase::Ready => "UpToDate",
                _ => reason_or("UpToDate"),
            },
            plan.message.clone(),
        ),
        (
            "Degraded",
            phase == Phase::Degraded,
            if phase == Phase::Degraded {
                reason_or("Degraded")
            } else {
                "AsExpected"
            },
            if phase == Phase::Degraded {
                plan.message.clone()
            } else {
                String::new()
            },
        ),
        ("DatabasesBound", unbound.is_empty(), db_reason, db_message),
    ];
    status.conditions = wanted
        .into_iter()
        .map(|(type_, on, reason, message)| {
            condition(
                &stack.previous.conditions,
                type_,
                on,
                reason,
                message,
                stack.generation,
                now,
            )
        })
        .collect();
    status
}

/// The status of a stack that failed validation: Degraded with the reason, the rest kept.
pub fn invalid(
    previous: &ClmbStackStatus,
    generation: i64,
    reason: &str,
    message: String,
    now: &Time,
) -> ClmbStackStatus {
    let mut status = previous.clone();
    status.observed_generation = Some(generation);
    status.phase = Some(Phase::Degraded);
    let wanted = [
        ("Ready", false, reason, message.clone()),
        ("Progressing", false, reason, message.clone()),
        ("Degraded", true, reason, message),
    ];
    let mut conditions: Vec<Condition> = wanted
        .into_iter()
        .map(|(t, on, r, m)| condition(&previous.conditions, t, on, r, m, generation, now))
        .collect();
    conditions.extend(
        previous
            .conditions
            .iter()
            .filter(|c| c.type_ == "DatabasesBound")
            .map(|c| {
                let mut c = c.clone();
                c.observed_generation = Some(generation);
                c
            }),
    );
    status.conditions = conditions;
    status
}

/// A condition keeps its transition time while its status does not change, so an unchanged
/// stack computes an identical status and the patch is skipped.
fn condition(
    previous: &[Condition],
    type_: &str,
    on: bool,
    reason: &str,
    message: String,
    generation: i64,
    now: &Time,
) -> Condition {
    let status = if on { "True" } else { "False" };
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message,
        observed_generation: Some(generation),
        last_transition_time,
    }
}

/// Events that come from comparing the old and new status rather than from the machine.
pub fn status_events(
    previous: &ClmbStackStatus,
    next: &ClmbStackStatus,
    stack: &ValidatedStack,
) -> Vec<PlannedEvent> {
    let mut events = Vec::new();
    for (c, binding) in &stack.databases {
        let before = previous.components.get(c.as_str()).and_then(|s| s.database);
        let now = Some(binding.state());
        if before == now {
            continue;
        }
        match binding {
            DatabaseBinding::Bound { .. } if before.is_some() => events.push(PlannedEvent {
                type_: EventType::Normal,
                reason: "SecretFound",
                action: "BindDatabase",
                note: format!("{c}: {}", binding.describe()),
            }),
            DatabaseBinding::Bound { .. } => {}
            _ => events.push(PlannedEvent {
                type_: EventType::Warning,
                reason: "SecretMissing",
                action: "BindDatabase",
                note: format!("{c} is not deployed: {}", binding.describe()),
            }),
        }
    }
    if previous.phase != next.phase && next.phase == Some(Phase::Paused) {
        events.push(PlannedEvent {
            type_: EventType::Normal,
            reason: "Paused",
            action: "Pause",
            note: "spec.paused is true: changes are frozen".to_owned(),
        });
    }
    events
}

pub async fn patch(
    client: &Client,
    stack: &ClmbStack,
    status: &ClmbStackStatus,
    retry: RetryPolicy,
) -> Result<(), StatusError> {
    let name = stack.name_any();
    let api: Api<ClmbStack> =
        Api::namespaced(client.clone(), &stack.namespace().unwrap_or_default());
    let body = json!({
        "apiVersion": ClmbStack::api_version(&()),
        "kind": ClmbStack::kind(&()),
        "status": status,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let patch = Patch::Apply(&body);
    with_retry(retry, || api.patch_status(&name, &params, &patch))
        .await
        .map(|_| ())
        .map_err(|source| StatusError::PatchStatus {
            name: name.clone(),
            source,
        })
}
