//! The reconcile driver: each phase in order, and the controller's error policy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType as KubeEventType, Recorder};
use kube::{Client, Resource, ResourceExt};

use crate::apply::{ApplyError, apply};
use crate::build::{BuildError, BuildInput, build};
use crate::crd::ClmbStack;
use crate::keys::{self, KeyError};
use crate::machine::{self, EventType, PlannedEvent, machine_input};
use crate::metrics::Metrics;
use crate::observe::{ObserveError, observe};
use crate::retry::RetryPolicy;
use crate::status::{self, StatusError};
use crate::validate::{KeyState, ValidateError, validate};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to observe the cluster")]
    Observe(#[from] ObserveError),
    #[error("failed to validate the stack")]
    Validate(#[from] ValidateError),
    #[error("failed to generate the signing key")]
    Keys(#[from] KeyError),
    #[error("failed to build the desired objects")]
    Build(#[from] BuildError),
    #[error("failed to apply the desired objects")]
    Apply(#[from] ApplyError),
    #[error("failed to report status")]
    Status(#[from] StatusError),
}

impl Error {
    pub fn category(&self) -> &'static str {
        match self {
            Self::Observe(e) => e.category(),
            Self::Validate(e) => e.category(),
            Self::Keys(e) => e.category(),
            Self::Build(e) => e.category(),
            Self::Apply(e) => e.category(),
            Self::Status(e) => e.category(),
        }
    }

    /// Permanent errors come from the stack itself: only a change to it can fix them.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Validate(_) => true,
            Self::Observe(e) => e.is_permanent(),
            Self::Apply(e) => e.is_permanent(),
            Self::Keys(_) | Self::Build(_) | Self::Status(_) => false,
        }
    }
}

pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    pub retry: RetryPolicy,
    /// Consecutive transient failures per stack, for the requeue backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    pub fn new(
        client: Client,
        recorder: Recorder,
        metrics: Arc<Metrics>,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            client,
            recorder,
            metrics,
            retry,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn failures(&self, key: &str, update: impl FnOnce(&mut u32)) -> u32 {
        let Ok(mut map) = self.failures.lock() else {
            return 0;
        };
        let entry = map.entry(key.to_owned()).or_default();
        update(entry);
        let value = *entry;
        if value == 0 {
            map.remove(key);
        }
        value
    }
}

/// Look again soon while a Job or rollout is under way; the watches usually come first.
const WAIT_REQUEUE: Duration = Duration::from_secs(30);
/// Periodic drift check on an idle stack.
const IDLE_REQUEUE: Duration = Duration::from_secs(300);

fn stack_key(stack: &ClmbStack) -> String {
    format!(
        "{}/{}",
        stack.namespace().unwrap_or_default(),
        stack.name_any()
    )
}

#[tracing::instrument(skip_all, fields(stack.namespace = stack.namespace(), stack.name = stack.name_any()))]
pub async fn reconcile(stack: Arc<ClmbStack>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile_started();
    let key = stack_key(&stack);
    if stack.meta().deletion_timestamp.is_some() {
        // Owner references remove the children; nothing for the operator to do.
        ctx.metrics.set_phase(&key, None);
        return Ok(Action::await_change());
    }
    match run_phases(&stack, &ctx).await {
        Ok(action) => {
            ctx.failures(&key, |n| *n = 0);
            Ok(action)
        }
        Err(error) => {
            let event = PlannedEvent {
                type_: EventType::Warning,
                reason: if error.is_permanent() {
                    "InvalidSpec"
                } else {
                    "ReconcileFailed"
                },
                action: "Reconcile",
                note: error_chain(&error),
            };
            publish(&ctx, &stack, &[event]).await;
            Err(error)
        }
    }
}

async fn run_phases(stack: &ClmbStack, ctx: &Context) -> Result<Action, Error> {
    let now = Time(k8s_openapi::jiff::Timestamp::now());

    // Observe
    let observed = observe(&ctx.client, stack, ctx.retry).await?;

    // Validate
    let validated = match validate(&observed) {
        Ok(validated) => validated,
        Err(error) => {
            let previous = stack.status.clone().unwrap_or_default();
            let generation = stack.metadata.generation.unwrap_or_default();
            let next = status::invalid(
                &previous,
                generation,
                error.reason(),
                error.to_string(),
                &now,
            );
            if next != previous {
                status::patch(&ctx.client, stack, &next, ctx.retry).await?;
            }
            ctx.metrics.set_phase(&stack_key(stack), next.phase);
            return Err(error.into());
        }
    };

    // Plan
    let input = machine_input(&validated, &observed.children);
    let plan = machine::plan(&input);

    // Generate the signing key, the one impure input of build
    let new_key = match validated.signing_key.state {
        KeyState::ToGenerate if !plan.frozen => Some(keys::generate()?),
        _ => None,
    };

    // Build
    let desired = build(&BuildInput {
        stack: &validated,
        plan: &plan,
        new_signing_key: new_key.as_ref(),
    })?;

    // Apply
    let built = plan.targets.keys().copied().collect();
    let applied = apply(
        &ctx.client,
        &validated.namespace,
        &desired,
        &observed.children,
        &built,
        ctx.retry,
    )
    .await?;

    // Status
    let next = status::compute(
        &validated,
        &observed.children,
        &input,
        &plan,
        &applied,
        &now,
    );
    let mut events = plan.events.clone();
    events.extend(status::status_events(
        &validated.previous,
        &next,
        &validated,
    ));
    if next != validated.previous {
        status::patch(&ctx.client, stack, &next, ctx.retry).await?;
    }
    ctx.metrics.set_phase(&stack_key(stack), next.phase);
    publish(ctx, stack, &events).await;
    tracing::info!(
        phase = next.phase.map(|p| p.as_str()),
        written = applied.written.len(),
        unchanged = applied.unchanged,
        deleted = applied.deleted.len(),
        "reconciled"
    );
    Ok(Action::requeue(if plan.waiting {
        WAIT_REQUEUE
    } else {
        IDLE_REQUEUE
    }))
}

/// Events are for humans; failing to record one never fails the reconcile.
async fn publish(ctx: &Context, stack: &ClmbStack, events: &[PlannedEvent]) {
    let reference = stack.object_ref(&());
    for planned in events {
        let event = Event {
            type_: match planned.type_ {
                EventType::Normal => KubeEventType::Normal,
                EventType::Warning => KubeEventType::Warning,
            },
            reason: planned.reason.to_owned(),
            note: Some(planned.note.clone()),
            action: planned.action.to_owned(),
            secondary: None,
        };
        if let Err(error) = ctx.recorder.publish(&event, &reference).await {
            tracing::warn!(
                reason = planned.reason,
                error = &error as &dyn std::error::Error,
                "failed to publish event"
            );
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Invalid stacks wait for a change; everything else is retried with a doubling delay.
pub fn error_policy(stack: Arc<ClmbStack>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.failed(error.category());
    tracing::warn!(
        category = error.category(),
        permanent = error.is_permanent(),
        error = error as &dyn std::error::Error,
        "reconcile failed"
    );
    if error.is_permanent() {
        return Action::await_change();
    }
    let attempts = ctx.failures(&stack_key(&stack), |n| *n = n.saturating_add(1));
    Action::requeue(backoff(attempts))
}

/// 5 s, 10 s, 20 s … capped at 5 minutes.
pub fn backoff(attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(6);
    Duration::from_secs(5u64 << exponent).min(Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requeue_delay_doubles_per_failure_up_to_five_minutes() {
        let delays: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();

        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn an_invalid_stack_is_a_permanent_error_and_a_failed_apply_is_not() {
        let invalid = Error::from(ValidateError::ParseVersion {
            version: "x".to_owned(),
        });
        let status = kube::core::Status::failure("boom", "InternalError").with_code(500);
        let apply = Error::from(ApplyError::ApplyObject {
            kind: crate::rbac::ChildKind::Deployment,
            name: "prod-users".to_owned(),
            source: kube::Error::Api(Box::new(status)),
        });

        assert!(invalid.is_permanent());
        assert_eq!(invalid.category(), "validate_version");
        assert!(!apply.is_permanent());
        assert_eq!(apply.category(), "apply_object");
    }
}
