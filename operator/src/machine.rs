//! Phase 3, plan: the upgrade state machine. Pure: observed state in, plan out.
//!
//! Changing `spec.version` walks [`Component::UPGRADE_ORDER`]: for each service, run its
//! migration Job and wait for it, roll its Deployment and wait until the new pods are
//! available; the gateway rolls last; `status.version` moves only when everything runs the
//! new version. What the walk cannot see from the cluster — that an upgrade failed and was
//! rolled back — is recorded in `status.upgrade`, so the decision survives a restart.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;

use crate::crd::{MigrationMode, MigrationState, Phase, UpgradeState, UpgradeStatus};
use crate::names::{Component, LABEL_VERSION, component_name, migration_job_name};
use crate::observe::Children;
use crate::validate::ValidatedStack;

pub const REASON_MIGRATION_FAILED: &str = "MigrationFailed";
pub const REASON_DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";

/// How far a Deployment's latest spec has rolled out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rollout {
    Absent,
    Progressing,
    Complete,
    DeadlineExceeded,
}

/// The state of one migration Job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Absent,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_migration(self) -> Option<MigrationState> {
        match self {
            Self::Absent => None,
            Self::Running => Some(MigrationState::Running),
            Self::Succeeded => Some(MigrationState::Succeeded),
            Self::Failed => Some(MigrationState::Failed),
        }
    }
}

/// What the machine needs to know about one component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentObservation {
    /// Version of the Deployment's pod template, `None` when there is no Deployment.
    pub deployed_version: Option<String>,
    pub rollout: Rollout,
    /// Its database Secret and the signing key are there.
    pub deployable: bool,
    /// The migration Job for the target version (always `Absent` for the gateway).
    pub migration: JobState,
}

#[derive(Clone, Debug)]
pub struct MachineInput {
    pub target: String,
    pub paused: bool,
    pub rollback_on_failure: bool,
    pub migrations: MigrationMode,
    /// `status.version`: what ran everywhere when the last upgrade finished.
    pub current_version: Option<String>,
    pub recorded: Option<UpgradeStatus>,
    pub components: BTreeMap<Component, ComponentObservation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

/// An Event a human should see, published on the ClmbStack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedEvent {
    pub type_: EventType,
    pub reason: &'static str,
    pub action: &'static str,
    pub note: String,
}

impl PlannedEvent {
    fn normal(reason: &'static str, action: &'static str, note: String) -> Self {
        Self {
            type_: EventType::Normal,
            reason,
            action,
            note,
        }
    }

    fn warning(reason: &'static str, action: &'static str, note: String) -> Self {
        Self {
            type_: EventType::Warning,
            reason,
            action,
            note,
        }
    }
}

/// The machine's decision for one reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Version to build each component at; absent means leave its objects alone.
    pub targets: BTreeMap<Component, String>,
    /// Migration Jobs to create: (service, version).
    pub migrations: Vec<(Component, String)>,
    /// True when nothing at all may be written but the status (`paused`).
    pub frozen: bool,
    pub phase: Phase,
    /// PascalCase reason for the conditions.
    pub reason: &'static str,
    pub message: String,
    /// `status.version` to record.
    pub version: Option<String>,
    /// `status.upgrade` to record.
    pub upgrade: Option<UpgradeStatus>,
    pub events: Vec<PlannedEvent>,
    /// The reconcile waits on the cluster (a Job, a rollout) and should look again soon.
    pub waiting: bool,
}

/// Where the walk stopped and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Migrating(Component),
    Rolling(Component),
    WaitingForDatabase(Component),
}

pub fn plan(input: &MachineInput) -> Plan {
    if input.paused {
        return paused(input);
    }
    if let Some(recorded) = &input.recorded
        && recorded.state == UpgradeState::Failed
        && recorded.to_version == input.target
        && !retry_requested(input, recorded)
    {
        return failed(input, recorded.clone(), Vec::new());
    }

    let target = &input.target;
    let mut plan = Plan {
        targets: BTreeMap::new(),
        migrations: Vec::new(),
        frozen: false,
        phase: Phase::Ready,
        reason: "AllComponentsReady",
        message: format!("every component runs {target}"),
        version: input.current_version.clone(),
        upgrade: None,
        events: Vec::new(),
        waiting: false,
    };
    let mut stop: Option<Stop> = None;
    let mut blocked: Vec<Component> = Vec::new();

    for component in Component::UPGRADE_ORDER {
        let Some(obs) = input.components.get(&component) else {
            continue;
        };
        if stop.is_some() {
            // Steps after the one in progress keep what they run.
            keep(&mut plan, component, obs);
            continue;
        }
        if !obs.deployable {
            if obs.deployed_version.is_none() {
                // Never deployed: nothing old depends on it, later steps may go on.
                blocked.push(component);
            } else {
                keep(&mut plan, component, obs);
                stop = Some(Stop::WaitingForDatabase(component));
            }
            continue;
        }
        if obs.deployed_version.as_deref() == Some(target.as_str()) {
            plan.targets.insert(component, target.clone());
            match obs.rollout {
                Rollout::Complete => continue,
                Rollout::Absent | Rollout::Progressing => stop = Some(Stop::Rolling(component)),
                Rollout::DeadlineExceeded => {
                    return deadline_exceeded(input, component, plan);
                }
            }
            continue;
        }
        if component.has_database() && input.migrations == MigrationMode::Auto {
            match obs.migration {
                JobState::Absent => {
                    keep(&mut plan, component, obs);
                    plan.migrations.push((component, target.clone()));
                    plan.events.push(PlannedEvent::normal(
                        "MigrationStarted",
                        "Migrate",
                        format!("running {component} migrations for {target}"),
                    ));
                    stop = Some(Stop::Migrating(component));
                    continue;
                }
                JobState::Running => {
                    keep(&mut plan, component, obs);
                    stop = Some(Stop::Migrating(component));
                    continue;
                }
                JobState::Failed => {
                    let note = format!("the {component} migration Job for {target} failed");
                    return fail(input, component, REASON_MIGRATION_FAILED, note);
                }
                JobState::Succeeded => {}
            }
        }
        plan.targets.insert(component, target.clone());
        plan.events.push(PlannedEvent::normal(
            "RolloutStarted",
            "Roll",
            format!("rolling {component} to {target}"),
        ));
        stop = Some(Stop::Rolling(component));
    }

    let upgrading = input
        .current_version
        .as_deref()
        .is_some_and(|v| v != target);
    match stop {
        None if blocked.is_empty() => {
            if upgrading {
                plan.events.push(PlannedEvent::normal(
                    "UpgradeCompleted",
                    "Upgrade",
                    format!("every component runs {target}"),
                ));
            }
            plan.version = Some(target.clone());
        }
        None => {
            plan.phase = Phase::Pending;
            plan.reason = "WaitingForDatabaseSecret";
            plan.message = format!(
                "not deployed until their database Secret exists: {}",
                list(&blocked)
            );
        }
        Some(stop) => {
            plan.waiting = true;
            let (component, state, reason, message) = match stop {
                Stop::Migrating(c) => (
                    c,
                    UpgradeState::Migrating,
                    "Migrating",
                    format!("migrating {c} to {target}"),
                ),
                Stop::Rolling(c) => (
                    c,
                    UpgradeState::Rolling,
                    "RollingOut",
                    format!("rolling {c} to {target}"),
                ),
                Stop::WaitingForDatabase(c) => (
                    c,
                    UpgradeState::Rolling,
                    "DatabaseSecretMissing",
                    format!("{c} waits for its database Secret"),
                ),
            };
            plan.phase = match stop {
                // Something runs but its Secret went away: it needs a human, not patience.
                Stop::WaitingForDatabase(_) => Phase::Degraded,
                _ if upgrading => Phase::Upgrading,
                _ => Phase::Progressing,
            };
            plan.reason = reason;
            plan.message = message;
            if upgrading {
                let upgrade = UpgradeStatus {
                    from_version: input.current_version.clone(),
                    to_version: target.clone(),
                    state,
                    component: Some(component.as_str().to_owned()),
                    reason: None,
                    message: None,
                };
                let started = input
                    .recorded
                    .as_ref()
                    .is_none_or(|r| r.to_version != *target);
                if started {
                    plan.events.insert(
                        0,
                        PlannedEvent::normal(
                            "UpgradeStarted",
                            "Upgrade",
                            format!(
                                "upgrading from {} to {target}",
                                input.current_version.as_deref().unwrap_or("nothing")
                            ),
                        ),
                    );
                }
                plan.upgrade = Some(upgrade);
            }
        }
    }
    plan
}

/// A failed migration is retried once a human deletes its Job; a missed deadline is not.
fn retry_requested(input: &MachineInput, recorded: &UpgradeStatus) -> bool {
    recorded.reason.as_deref() == Some(REASON_MIGRATION_FAILED)
        && recorded
            .component
            .as_deref()
            .and_then(Component::from_name)
            .and_then(|c| input.components.get(&c))
            .is_some_and(|obs| obs.migration == JobState::Absent)
}

fn keep(plan: &mut Plan, component: Component, obs: &ComponentObservation) {
    if let Some(version) = &obs.deployed_version {
        plan.targets.insert(component, version.clone());
    }
}

fn list(components: &[Component]) -> String {
    components
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn paused(input: &MachineInput) -> Plan {
    Plan {
        targets: BTreeMap::new(),
        migrations: Vec::new(),
        frozen: true,
        phase: Phase::Paused,
        reason: "Paused",
        message: "spec.paused is true: no object is changed".to_owned(),
        version: input.current_version.clone(),
        upgrade: input.recorded.clone(),
        events: Vec::new(),
        waiting: false,
    }
}

/// A rollout missed its deadline. Outside an upgrade nothing is recorded: the stack is
/// Degraded for as long as the Deployment says so.
fn deadline_exceeded(input: &MachineInput, component: Component, mut plan: Plan) -> Plan {
    let note = format!("the {component} rollout missed its progress deadline");
    let upgrading = input
        .current_version
        .as_deref()
        .is_some_and(|v| v != input.target);
    if upgrading || input.current_version.is_none() {
        return fail(input, component, REASON_DEADLINE_EXCEEDED, note);
    }
    for c in Component::UPGRADE_ORDER {
        if let Some(obs) = input.components.get(&c)
            && obs.deployable
        {
            plan.targets.insert(c, input.target.clone());
        }
    }
    plan.phase = Phase::Degraded;
    plan.reason = REASON_DEADLINE_EXCEEDED;
    plan.message = note;
    plan.waiting = true;
    plan
}

fn fail(input: &MachineInput, component: Component, reason: &'static str, note: String) -> Plan {
    let recorded = UpgradeStatus {
        from_version: input.current_version.clone(),
        to_version: input.target.clone(),
        state: UpgradeState::Failed,
        component: Some(component.as_str().to_owned()),
        reason: Some(reason.to_owned()),
        message: Some(note.clone()),
    };
    let events = vec![PlannedEvent::warning(reason, "Upgrade", note)];
    failed(input, recorded, events)
}

/// The stopped upgrade: untouched components keep serving, rolled ones go back if asked.
fn failed(input: &MachineInput, recorded: UpgradeStatus, mut events: Vec<PlannedEvent>) -> Plan {
    let mut targets = BTreeMap::new();
    let mut rolled_back = Vec::new();
    for component in Component::UPGRADE_ORDER {
        let Some(obs) = input.components.get(&component) else {
            continue;
        };
        let Some(deployed) = &obs.deployed_version else {
            continue;
        };
        if !obs.deployable {
            continue;
        }
        match &recorded.from_version {
            Some(from)
                if input.rollback_on_failure
                    && deployed == &recorded.to_version
                    && from != deployed =>
            {
                targets.insert(component, from.clone());
                rolled_back.push(component);
            }
            _ => {
                targets.insert(component, deployed.clone());
            }
        }
    }
    // Announce the rollback once, with the failure that caused it.
    if !events.is_empty() && !rolled_back.is_empty() {
        events.push(PlannedEvent::warning(
            "RollingBack",
            "Rollback",
            format!(
                "returning {} to {}",
                list(&rolled_back),
                recorded.from_version.as_deref().unwrap_or_default()
            ),
        ));
    }
    let message = recorded.message.clone().unwrap_or_default();
    let reason = match recorded.reason.as_deref() {
        Some(REASON_MIGRATION_FAILED) => REASON_MIGRATION_FAILED,
        _ => REASON_DEADLINE_EXCEEDED,
    };
    Plan {
        targets,
        migrations: Vec::new(),
        frozen: false,
        phase: Phase::Degraded,
        reason,
        message,
        version: input.current_version.clone(),
        upgrade: Some(recorded),
        events,
        waiting: !rolled_back.is_empty(),
    }
}

/// The plan `render` uses: every component at the spec's version, every migration Job.
pub fn steady(target: &str, migrations: MigrationMode) -> Plan {
    let targets = Component::UPGRADE_ORDER
        .into_iter()
        .map(|c| (c, target.to_owned()))
        .collect();
    let migrations = match migrations {
        MigrationMode::Auto => Component::SERVICES
            .into_iter()
            .map(|c| (c, target.to_owned()))
            .collect(),
        MigrationMode::Manual => Vec::new(),
    };
    Plan {
        targets,
        migrations,
        frozen: false,
        phase: Phase::Ready,
        reason: "AllComponentsReady",
        message: String::new(),
        version: Some(target.to_owned()),
        upgrade: None,
        events: Vec::new(),
        waiting: false,
    }
}

/// The version a Deployment runs, from the label the build phase puts on its pod template.
pub fn deployed_version(deployment: &Deployment) -> Option<String> {
    deployment
        .spec
        .as_ref()?
        .template
        .metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get(ANNOTATION_VERSION)
        .cloned()
        .or_else(|| {
            deployment
                .spec
                .as_ref()?
                .template
                .metadata
                .as_ref()?
                .labels
                .as_ref()?
                .get(LABEL_VERSION)
                .cloned()
        })
}

/// The exact version on the pod template; the label may have had characters replaced.
pub const ANNOTATION_VERSION: &str = "clmb.dev/version";

/// Rollout state the way `kubectl rollout status` judges it.
pub fn rollout(deployment: Option<&Deployment>) -> Rollout {
    let Some(deployment) = deployment else {
        return Rollout::Absent;
    };
    let Some(status) = &deployment.status else {
        return Rollout::Progressing;
    };
    let generation = deployment.metadata.generation.unwrap_or_default();
    if status.observed_generation.unwrap_or_default() < generation {
        return Rollout::Progressing;
    }
    let deadline =
        status.conditions.iter().flatten().any(|c| {
            c.type_ == "Progressing" && c.reason.as_deref() == Some(REASON_DEADLINE_EXCEEDED)
        });
    if deadline {
        return Rollout::DeadlineExceeded;
    }
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or_default();
    let total = status.replicas.unwrap_or_default();
    let available = status.available_replicas.unwrap_or_default();
    if updated < wanted || total > updated || available < updated {
        Rollout::Progressing
    } else {
        Rollout::Complete
    }
}

pub fn job_state(job: Option<&Job>) -> JobState {
    let Some(job) = job else {
        return JobState::Absent;
    };
    let conditions = job.status.as_ref().and_then(|s| s.conditions.as_ref());
    let has = |type_: &str| {
        conditions
            .into_iter()
            .flatten()
            .any(|c| c.type_ == type_ && c.status == "True")
    };
    if has("Complete") {
        JobState::Succeeded
    } else if has("Failed") {
        JobState::Failed
    } else {
        JobState::Running
    }
}

/// What the machine needs, read from the validated stack and the observed children.
pub fn machine_input(stack: &ValidatedStack, children: &Children) -> MachineInput {
    let components = Component::UPGRADE_ORDER
        .into_iter()
        .map(|c| {
            let deployment = children.deployment(&component_name(&stack.name, c));
            let migration = if c.has_database() {
                job_state(
                    children
                        .job(&migration_job_name(&stack.name, c, &stack.spec.version))
                        .as_ref(),
                )
            } else {
                JobState::Absent
            };
            let obs = ComponentObservation {
                deployed_version: deployment.as_ref().and_then(deployed_version),
                rollout: rollout(deployment.as_ref()),
                deployable: stack.deployable(c),
                migration,
            };
            (c, obs)
        })
        .collect();
    MachineInput {
        target: stack.spec.version.clone(),
        paused: stack.spec.paused,
        rollback_on_failure: stack.spec.upgrade.rollback_on_failure,
        migrations: stack.spec.upgrade.migrations,
        current_version: stack.previous.version.clone(),
        recorded: stack.previous.upgrade.clone(),
        components,
    }
}
