//! The `ClmbStack` custom resource: spec, status and the CRD generated from them.
//!
//! Validation that `kubectl apply` must enforce lives here as schema attributes, so the
//! API server rejects bad input before the operator ever sees it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, CustomResourceExt, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Looks like a semantic version: `MAJOR.MINOR.PATCH` with optional pre-release and build.
pub const VERSION_PATTERN: &str =
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$";

/// A whole clmb backend: the gateway and the users, gyms and sessions services.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "clmb.dev",
    version = "v1alpha1",
    kind = "ClmbStack",
    plural = "clmbstacks",
    shortname = "clmb",
    namespaced,
    status = "ClmbStackStatus",
    doc = "A clmb backend: gateway and services, bound to external PostgreSQL databases",
    // Raw JSON keeps clippy from reading four `printcolumn(...)` as duplicated attributes.
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".status.version"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.ready"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ClmbStackSpec {
    /// Release of every component; also the image tag.
    #[schemars(regex(pattern = VERSION_PATTERN), length(max = 40))]
    pub version: String,
    pub image: ImageSpec,
    #[serde(default)]
    pub gateway: GatewaySpec,
    pub services: ServicesSpec,
    #[serde(default)]
    pub auth: AuthSpec,
    #[serde(default)]
    pub upgrade: UpgradeSpec,
    /// Freezes every change to the stack's objects while true.
    #[serde(default)]
    pub paused: bool,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    /// Image repository without tag, e.g. `ghcr.io/example/clmb`.
    #[schemars(length(min = 1))]
    pub repository: String,
    #[serde(default)]
    pub pull_policy: PullPolicy,
    #[serde(default)]
    pub pull_secrets: Vec<String>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum PullPolicy {
    Always,
    #[default]
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }
}

/// Settings shared by every component.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpec {
    /// Replicas when `autoscaling` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    #[serde(flatten)]
    pub workload: WorkloadSpec,
    #[serde(default)]
    pub service: GatewayServiceSpec,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayServiceSpec {
    #[serde(default, rename = "type")]
    pub type_: ServiceType,
    #[serde(default = "default_service_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl Default for GatewayServiceSpec {
    fn default() -> Self {
        Self {
            type_: ServiceType::default(),
            port: default_service_port(),
            annotations: BTreeMap::new(),
        }
    }
}

fn default_service_port() -> i32 {
    80
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClusterIP => "ClusterIP",
            Self::NodePort => "NodePort",
            Self::LoadBalancer => "LoadBalancer",
        }
    }
}

/// Horizontal autoscaling on CPU; the CEL rule keeps the bounds ordered at admission.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.minReplicas <= self.maxReplicas")
    .message("minReplicas must not exceed maxReplicas"))]
pub struct AutoscalingSpec {
    #[schemars(range(min = 1))]
    pub min_replicas: i32,
    #[schemars(range(min = 1))]
    pub max_replicas: i32,
    #[serde(rename = "targetCPUUtilization", default = "default_cpu_target")]
    #[schemars(range(min = 1, max = 100))]
    pub target_cpu_utilization: i32,
}

fn default_cpu_target() -> i32 {
    80
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServicesSpec {
    pub users: ServiceSpec,
    pub gyms: ServiceSpec,
    pub sessions: ServiceSpec,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(flatten)]
    pub workload: WorkloadSpec,
    pub database: DatabaseSpec,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseSpec {
    /// Secret in the stack's namespace holding a `postgres://` URL.
    pub secret_ref: SecretKeyRef,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// Secret with `private.pem` and `public.pem`; generated by the operator when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key_secret_ref: Option<SecretNameRef>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct SecretNameRef {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeSpec {
    #[serde(default)]
    pub migrations: MigrationMode,
    #[serde(default = "default_true")]
    pub rollback_on_failure: bool,
}

impl Default for UpgradeSpec {
    fn default() -> Self {
        Self {
            migrations: MigrationMode::Auto,
            rollback_on_failure: true,
        }
    }
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum MigrationMode {
    /// The operator runs a migration Job before rolling each service.
    #[default]
    Auto,
    /// A human runs migrations; the operator rolls services without Jobs.
    Manual,
}

/// What the operator last saw and did; written only by the operator.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClmbStackStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The version that actually runs everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `ready/total`, for the printer column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    #[serde(default)]
    pub ready_components: i32,
    #[serde(default)]
    pub total_components: i32,
    #[serde(default)]
    pub components: BTreeMap<String, ComponentStatus>,
    /// Progress of the current upgrade, so it survives operator restarts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeStatus>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

#[derive(
    Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
pub enum Phase {
    Pending,
    Progressing,
    Upgrading,
    Ready,
    Degraded,
    Paused,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Pending,
        Phase::Progressing,
        Phase::Upgrading,
        Phase::Ready,
        Phase::Degraded,
        Phase::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Progressing => "Progressing",
            Self::Upgrading => "Upgrading",
            Self::Ready => "Ready",
            Self::Degraded => "Degraded",
            Self::Paused => "Paused",
        }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default)]
    pub desired_replicas: i32,
    #[serde(default)]
    pub ready_replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationState>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum DatabaseState {
    Bound,
    SecretMissing,
    KeyMissing,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum MigrationState {
    Running,
    Succeeded,
    Failed,
}

/// A recorded upgrade: where it goes and, once it failed, why it stopped.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_version: Option<String>,
    pub to_version: String,
    pub state: UpgradeState,
    /// Component the upgrade is working on, or failed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum UpgradeState {
    Migrating,
    Rolling,
    /// Stopped on a failure; nothing moves until `spec.version` changes.
    Failed,
}

/// The CRD as YAML, exactly what `clmb-operator crd` prints and `crds/clmbstack.yaml` holds.
pub fn crd_yaml() -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(&ClmbStack::crd())
}
