//! Phase 4, build: the desired objects for a validated stack and a plan. Pure: no client.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    HTTPGetAction, KeyToPath, LocalObjectReference, PodSecurityContext, PodSpec, PodTemplateSpec,
    Probe, SeccompProfile, Secret, SecretKeySelector, SecretVolumeSource, SecurityContext, Service,
    ServiceAccount, ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Resource;
use serde::Serialize;
use serde_json::Value;

use crate::crd::ClmbStack;
use crate::keys::{KeyPair, PRIVATE_KEY, PUBLIC_KEY};
use crate::machine::{ANNOTATION_VERSION, Plan};
use crate::names::{
    ANNOTATION_SECRET_HASH, CONTAINER_PORT, Component, SERVICE_PORT, component_name, component_url,
    labels, migration_job_name, selector_labels,
};
use crate::rbac::ChildKind;
use crate::validate::{DatabaseBinding, ValidatedStack};

/// Where the signing key Secret is mounted; the env vars below point into it.
pub const KEYS_DIR: &str = "/etc/clmb/keys";
/// The non-root user the clmb image runs as.
const RUN_AS: i64 = 65532;
/// How long a rollout may go without progress before the upgrade is called failed.
pub const PROGRESS_DEADLINE_SECONDS: i32 = 600;
/// A migration that runs longer than this is treated as failed.
const MIGRATION_DEADLINE_SECONDS: i64 = 1800;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("failed to serialize {kind:?} {name:?}")]
    SerializeObject {
        kind: ChildKind,
        name: String,
        source: serde_json::Error,
    },
}

impl BuildError {
    pub fn category(&self) -> &'static str {
        match self {
            Self::SerializeObject { .. } => "build_serialize",
        }
    }
}

/// One object the operator wants to exist, ready for server-side apply.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredObject {
    pub kind: ChildKind,
    pub name: String,
    pub value: Value,
}

pub struct BuildInput<'a> {
    pub stack: &'a ValidatedStack,
    pub plan: &'a Plan,
    /// A freshly generated key pair, when the operator's own signing key Secret is absent.
    pub new_signing_key: Option<&'a KeyPair>,
}

pub fn build(input: &BuildInput<'_>) -> Result<Vec<DesiredObject>, BuildError> {
    let s = input.stack;
    let mut out = Vec::new();
    if input.plan.frozen {
        return Ok(out);
    }
    if s.signing_key.generated
        && matches!(s.signing_key.state, crate::validate::KeyState::ToGenerate)
    {
        push(
            &mut out,
            ChildKind::Secret,
            &signing_key_secret(s, input.new_signing_key),
        )?;
    }
    for (component, version) in &input.plan.migrations {
        push(
            &mut out,
            ChildKind::Job,
            &migration_job(s, *component, version),
        )?;
        // The Job's pod runs as the service's account, which must exist before its first step.
        if !input.plan.targets.contains_key(component) {
            push(
                &mut out,
                ChildKind::ServiceAccount,
                &service_account(s, *component, version),
            )?;
        }
    }
    for component in Component::UPGRADE_ORDER {
        let Some(version) = input.plan.targets.get(&component) else {
            continue;
        };
        if !s.deployable(component) {
            continue;
        }
        push(
            &mut out,
            ChildKind::ServiceAccount,
            &service_account(s, component, version),
        )?;
        push(
            &mut out,
            ChildKind::Deployment,
            &deployment(s, component, version),
        )?;
        push(
            &mut out,
            ChildKind::Service,
            &service(s, component, version),
        )?;
        if let Some(hpa) = autoscaler(s, component, version) {
            push(&mut out, ChildKind::HorizontalPodAutoscaler, &hpa)?;
        }
        if let Some(pdb) = disruption_budget(s, component, version) {
            push(&mut out, ChildKind::PodDisruptionBudget, &pdb)?;
        }
        push(
            &mut out,
            ChildKind::NetworkPolicy,
            &network_policy(s, component, version),
        )?;
    }
    // Dependencies first: accounts and Secrets before the pods that use them.
    out.sort_by_key(|o| o.kind);
    Ok(out)
}

fn push<T: Serialize + Resource>(
    out: &mut Vec<DesiredObject>,
    kind: ChildKind,
    object: &T,
) -> Result<(), BuildError> {
    let name = object.meta().name.clone().unwrap_or_default();
    let value = serde_json::to_value(object).map_err(|source| BuildError::SerializeObject {
        kind,
        name: name.clone(),
        source,
    })?;
    out.push(DesiredObject { kind, name, value });
    Ok(())
}

fn meta(
    s: &ValidatedStack,
    name: String,
    component: Option<Component>,
    version: &str,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(s.namespace.clone()),
        labels: Some(labels(&s.name, component, version)),
        owner_references: owner_reference(s).map(|o| vec![o]),
        ..ObjectMeta::default()
    }
}

/// Owner reference to the stack, so deleting it removes every child.
///
/// Without a uid (rendering a file that was never applied) there is none: a made-up uid
/// would have the garbage collector delete whatever is applied from the rendered output.
fn owner_reference(s: &ValidatedStack) -> Option<OwnerReference> {
    Some(OwnerReference {
        api_version: ClmbStack::api_version(&()).into_owned(),
        kind: ClmbStack::kind(&()).into_owned(),
        name: s.name.clone(),
        uid: s.uid.clone()?,
        controller: Some(true),
        block_owner_deletion: Some(true),
    })
}

fn selector(s: &ValidatedStack, component: Component) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(&s.name, component)),
        ..LabelSelector::default()
    }
}

fn service_account(s: &ValidatedStack, c: Component, version: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(s, component_name(&s.name, c), Some(c), version),
        // clmb never talks to the Kubernetes API; a mounted token would only be a liability.
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

fn signing_key_secret(s: &ValidatedStack, key: Option<&KeyPair>) -> Secret {
    let data = key.map(|k| {
        BTreeMap::from([
            (
                PRIVATE_KEY.to_owned(),
                ByteString(k.private_pem.clone().into_bytes()),
            ),
            (
                PUBLIC_KEY.to_owned(),
                ByteString(k.public_pem.clone().into_bytes()),
            ),
        ])
    });
    Secret {
        metadata: meta(s, s.signing_key.secret.clone(), None, &s.spec.version),
        type_: Some("Opaque".to_owned()),
        data,
        ..Secret::default()
    }
}

/// The environment contract of the `clmb` binary.
fn env(s: &ValidatedStack, c: Component) -> Vec<EnvVar> {
    let mut env = Vec::new();
    if let Some(DatabaseBinding::Bound { secret, key, .. }) = s.databases.get(&c) {
        env.push(EnvVar {
            name: "CLMB_DATABASE_URL".to_owned(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.clone(),
                    key: key.clone(),
                    optional: Some(false),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        });
    }
    let value = |name: &str, value: String| EnvVar {
        name: name.to_owned(),
        value: Some(value),
        ..EnvVar::default()
    };
    env.push(value("CLMB_LISTEN", format!("0.0.0.0:{CONTAINER_PORT}")));
    // Every component gets every URL: the config is shared, the NetworkPolicy decides who may call.
    env.push(value(
        "CLMB_USERS_URL",
        component_url(&s.name, Component::Users),
    ));
    env.push(value(
        "CLMB_GYMS_URL",
        component_url(&s.name, Component::Gyms),
    ));
    env.push(value(
        "CLMB_SESSIONS_URL",
        component_url(&s.name, Component::Sessions),
    ));
    let public_keys = std::iter::once(PUBLIC_KEY)
        .chain(s.signing_key.extra_public_keys.iter().map(String::as_str))
        .map(|key| format!("{KEYS_DIR}/{key}"))
        .collect::<Vec<_>>()
        .join(",");
    env.push(value("CLMB_JWT_PUBLIC_KEY_FILE", public_keys));
    if c == Component::Users {
        // Only users issues tokens, so only users can read the private key.
        env.push(value(
            "CLMB_JWT_PRIVATE_KEY_FILE",
            format!("{KEYS_DIR}/{PRIVATE_KEY}"),
        ));
    }
    env.push(value("CLMB_LOG_FORMAT", "json".to_owned()));
    env
}

fn pod_security() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS),
        run_as_group: Some(RUN_AS),
        fs_group: Some(RUN_AS),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

fn container_security() -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            ..Capabilities::default()
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..SeccompProfile::default()
        }),
        ..SecurityContext::default()
    }
}

fn tmp_volume() -> (Volume, VolumeMount) {
    // The root filesystem is read-only; /tmp is the one writable place.
    let volume = Volume {
        name: "tmp".to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    };
    let mount = VolumeMount {
        name: "tmp".to_owned(),
        mount_path: "/tmp".to_owned(),
        ..VolumeMount::default()
    };
    (volume, mount)
}

fn keys_volume(s: &ValidatedStack, c: Component) -> (Volume, VolumeMount) {
    let mut items: Vec<KeyToPath> = std::iter::once(PUBLIC_KEY)
        .chain(s.signing_key.extra_public_keys.iter().map(String::as_str))
        .map(|key| KeyToPath {
            key: key.to_owned(),
            path: key.to_owned(),
            mode: None,
        })
        .collect();
    if c == Component::Users {
        items.push(KeyToPath {
            key: PRIVATE_KEY.to_owned(),
            path: PRIVATE_KEY.to_owned(),
            mode: None,
        });
    }
    let volume = Volume {
        name: "signing-key".to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(s.signing_key.secret.clone()),
            items: Some(items),
            default_mode: Some(0o440),
            optional: Some(false),
        }),
        ..Volume::default()
    };
    let mount = VolumeMount {
        name: "signing-key".to_owned(),
        mount_path: KEYS_DIR.to_owned(),
        read_only: Some(true),
        ..VolumeMount::default()
    };
    (volume, mount)
}

fn image(s: &ValidatedStack, version: &str) -> String {
    format!("{}:{version}", s.spec.image.repository)
}

fn pull_secrets(s: &ValidatedStack) -> Option<Vec<LocalObjectReference>> {
    let secrets = &s.spec.image.pull_secrets;
    (!secrets.is_empty()).then(|| {
        secrets
            .iter()
            .map(|n| LocalObjectReference { name: n.clone() })
            .collect()
    })
}

fn probe(path: &str, period: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String("http".to_owned()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(3),
        ..Probe::default()
    }
}

fn deployment(s: &ValidatedStack, c: Component, version: &str) -> Deployment {
    let workload = s.workload(c);
    let name = component_name(&s.name, c);
    let (tmp, tmp_mount) = tmp_volume();
    let (keys, keys_mount) = keys_volume(s, c);
    let mut annotations = BTreeMap::from([(ANNOTATION_VERSION.to_owned(), version.to_owned())]);
    if let Some(hash) = s.secret_hash(c) {
        annotations.insert(ANNOTATION_SECRET_HASH.to_owned(), hash);
    }
    let container = Container {
        name: c.as_str().to_owned(),
        image: Some(image(s, version)),
        image_pull_policy: Some(s.spec.image.pull_policy.as_str().to_owned()),
        args: Some(vec!["clmb".to_owned(), c.as_str().to_owned()]),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_owned()),
            container_port: CONTAINER_PORT,
            protocol: Some("TCP".to_owned()),
            ..ContainerPort::default()
        }]),
        env: Some(env(s, c)),
        liveness_probe: Some(probe("/livez", 10)),
        readiness_probe: Some(probe("/readyz", 5)),
        resources: workload.resources.clone(),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![tmp_mount, keys_mount]),
        ..Container::default()
    };
    Deployment {
        metadata: meta(s, name.clone(), Some(c), version),
        spec: Some(DeploymentSpec {
            // With an HPA the replica count is the autoscaler's; applying one would fight it.
            replicas: match workload.autoscaling {
                Some(_) => None,
                None => Some(workload.replicas.unwrap_or(1)),
            },
            selector: selector(s, c),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".to_owned()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_unavailable: Some(IntOrString::Int(0)),
                    max_surge: Some(IntOrString::Int(1)),
                }),
            }),
            progress_deadline_seconds: Some(PROGRESS_DEADLINE_SECONDS),
            revision_history_limit: Some(5),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(&s.name, Some(c), version)),
                    annotations: Some(annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(name),
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security()),
                    image_pull_secrets: pull_secrets(s),
                    containers: vec![container],
                    volumes: Some(vec![tmp, keys]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn service(s: &ValidatedStack, c: Component, version: &str) -> Service {
    let mut metadata = meta(s, component_name(&s.name, c), Some(c), version);
    let (type_, port) = match c {
        Component::Gateway => {
            let spec = &s.spec.gateway.service;
            if !spec.annotations.is_empty() {
                metadata.annotations = Some(spec.annotations.clone());
            }
            (spec.type_.as_str(), spec.port)
        }
        _ => ("ClusterIP", SERVICE_PORT),
    };
    Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some(type_.to_owned()),
            selector: Some(selector_labels(&s.name, c)),
            ports: Some(vec![ServicePort {
                name: Some("http".to_owned()),
                port,
                target_port: Some(IntOrString::String("http".to_owned())),
                protocol: Some("TCP".to_owned()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn autoscaler(s: &ValidatedStack, c: Component, version: &str) -> Option<HorizontalPodAutoscaler> {
    let a = s.workload(c).autoscaling.as_ref()?;
    let name = component_name(&s.name, c);
    Some(HorizontalPodAutoscaler {
        metadata: meta(s, name.clone(), Some(c), version),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".to_owned()),
                kind: "Deployment".to_owned(),
                name,
            },
            min_replicas: Some(a.min_replicas),
            max_replicas: a.max_replicas,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".to_owned(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".to_owned(),
                    target: MetricTarget {
                        type_: "Utilization".to_owned(),
                        average_utilization: Some(a.target_cpu_utilization),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    })
}

/// Only when more than one replica can exist: a budget on a single pod would block node drains.
fn disruption_budget(
    s: &ValidatedStack,
    c: Component,
    version: &str,
) -> Option<PodDisruptionBudget> {
    let workload = s.workload(c);
    let most = match &workload.autoscaling {
        Some(a) => a.max_replicas,
        None => workload.replicas.unwrap_or(1),
    };
    (most > 1).then(|| PodDisruptionBudget {
        metadata: meta(s, component_name(&s.name, c), Some(c), version),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(selector(s, c)),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    })
}

fn network_policy(s: &ValidatedStack, c: Component, version: &str) -> NetworkPolicy {
    let from = c.allowed_callers().map(|callers| {
        callers
            .iter()
            .map(|caller| NetworkPolicyPeer {
                pod_selector: Some(selector(s, *caller)),
                ..NetworkPolicyPeer::default()
            })
            .collect()
    });
    NetworkPolicy {
        metadata: meta(s, component_name(&s.name, c), Some(c), version),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(s, c)),
            policy_types: Some(vec!["Ingress".to_owned()]),
            // No `from` at all on the gateway: it accepts every source.
            ingress: Some(vec![NetworkPolicyIngressRule {
                from,
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::Int(CONTAINER_PORT)),
                    protocol: Some("TCP".to_owned()),
                    ..NetworkPolicyPort::default()
                }]),
            }]),
            ..NetworkPolicySpec::default()
        }),
    }
}

fn migration_job(s: &ValidatedStack, c: Component, version: &str) -> Job {
    let (tmp, tmp_mount) = tmp_volume();
    let env = env(s, c)
        .into_iter()
        .filter(|e| matches!(e.name.as_str(), "CLMB_DATABASE_URL" | "CLMB_LOG_FORMAT"))
        .collect();
    let container = Container {
        name: "migrate".to_owned(),
        image: Some(image(s, version)),
        image_pull_policy: Some(s.spec.image.pull_policy.as_str().to_owned()),
        args: Some(vec![
            "clmb".to_owned(),
            "migrate".to_owned(),
            c.as_str().to_owned(),
        ]),
        env: Some(env),
        resources: s.workload(c).resources.clone(),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![tmp_mount]),
        ..Container::default()
    };
    let mut pod_labels = labels(&s.name, Some(c), version);
    pod_labels.insert("clmb.dev/role".to_owned(), "migration".to_owned());
    Job {
        metadata: meta(s, migration_job_name(&s.name, c, version), Some(c), version),
        spec: Some(JobSpec {
            backoff_limit: Some(2),
            active_deadline_seconds: Some(MIGRATION_DEADLINE_SECONDS),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".to_owned()),
                    service_account_name: Some(component_name(&s.name, c)),
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security()),
                    image_pull_secrets: pull_secrets(s),
                    containers: vec![container],
                    volumes: Some(vec![tmp]),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}
