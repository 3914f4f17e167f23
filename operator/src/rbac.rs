//! The single list of API permissions the operator uses, and the kinds it writes.
//!
//! The Helm chart's ClusterRole is checked against [`RBAC_RULES`] by a test, and the mocked
//! API tests check every request the operator makes against it, so a new call cannot ship
//! without its permission.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::core::ApiResource;
use serde::Serialize;

/// One ClusterRole rule: an API group, a resource (or `resource/subresource`) and verbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RbacRule {
    pub api_group: &'static str,
    pub resource: &'static str,
    pub verbs: &'static [&'static str],
}

/// Server-side apply creates objects that do not exist yet, so writes need `create` and `patch`.
const APPLY: &[&str] = &["get", "list", "watch", "create", "patch"];
/// Kinds a component only sometimes has are also deleted when it no longer does.
const APPLY_AND_DELETE: &[&str] = &["get", "list", "watch", "create", "patch", "delete"];

pub const RBAC_RULES: &[RbacRule] = &[
    RbacRule {
        api_group: "clmb.dev",
        resource: "clmbstacks",
        verbs: &["get", "list", "watch"],
    },
    RbacRule {
        api_group: "clmb.dev",
        resource: "clmbstacks/status",
        verbs: &["get", "patch"],
    },
    RbacRule {
        api_group: "apps",
        resource: "deployments",
        verbs: APPLY,
    },
    RbacRule {
        api_group: "",
        resource: "services",
        verbs: APPLY,
    },
    RbacRule {
        api_group: "",
        resource: "serviceaccounts",
        verbs: APPLY,
    },
    // Referenced database Secrets are read and watched; only the signing key is written.
    RbacRule {
        api_group: "",
        resource: "secrets",
        verbs: APPLY,
    },
    // A component loses its HPA when autoscaling is removed, its PDB when it can no longer
    // have more than one replica.
    RbacRule {
        api_group: "autoscaling",
        resource: "horizontalpodautoscalers",
        verbs: APPLY_AND_DELETE,
    },
    RbacRule {
        api_group: "policy",
        resource: "poddisruptionbudgets",
        verbs: APPLY_AND_DELETE,
    },
    RbacRule {
        api_group: "networking.k8s.io",
        resource: "networkpolicies",
        verbs: APPLY,
    },
    RbacRule {
        api_group: "batch",
        resource: "jobs",
        verbs: APPLY,
    },
    // The event recorder creates an Event, then patches it into a series when it repeats.
    RbacRule {
        api_group: "events.k8s.io",
        resource: "events",
        verbs: &["create", "patch"],
    },
    RbacRule {
        api_group: "coordination.k8s.io",
        resource: "leases",
        verbs: &["get", "create", "update"],
    },
];

/// Whether [`RBAC_RULES`] grant `verb` on `resource` in `api_group`.
pub fn allows(api_group: &str, resource: &str, verb: &str) -> bool {
    RBAC_RULES
        .iter()
        .any(|r| r.api_group == api_group && r.resource == resource && r.verbs.contains(&verb))
}

/// Kinds the operator creates for a stack, in the order it applies them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChildKind {
    ServiceAccount,
    Secret,
    Job,
    Deployment,
    Service,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
    NetworkPolicy,
}

impl ChildKind {
    pub const ALL: [ChildKind; 8] = [
        ChildKind::ServiceAccount,
        ChildKind::Secret,
        ChildKind::Job,
        ChildKind::Deployment,
        ChildKind::Service,
        ChildKind::HorizontalPodAutoscaler,
        ChildKind::PodDisruptionBudget,
        ChildKind::NetworkPolicy,
    ];

    pub fn api_resource(self) -> ApiResource {
        match self {
            Self::ServiceAccount => ApiResource::erase::<ServiceAccount>(&()),
            Self::Secret => ApiResource::erase::<Secret>(&()),
            Self::Job => ApiResource::erase::<Job>(&()),
            Self::Deployment => ApiResource::erase::<Deployment>(&()),
            Self::Service => ApiResource::erase::<Service>(&()),
            Self::HorizontalPodAutoscaler => ApiResource::erase::<HorizontalPodAutoscaler>(&()),
            Self::PodDisruptionBudget => ApiResource::erase::<PodDisruptionBudget>(&()),
            Self::NetworkPolicy => ApiResource::erase::<NetworkPolicy>(&()),
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Self::ServiceAccount => "ServiceAccount",
            Self::Secret => "Secret",
            Self::Job => "Job",
            Self::Deployment => "Deployment",
            Self::Service => "Service",
            Self::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Self::PodDisruptionBudget => "PodDisruptionBudget",
            Self::NetworkPolicy => "NetworkPolicy",
        }
    }

    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.kind() == kind)
    }
}

#[derive(Serialize)]
struct YamlRule<'a> {
    #[serde(rename = "apiGroups")]
    api_groups: [&'a str; 1],
    resources: [&'a str; 1],
    verbs: &'a [&'a str],
}

/// The rules as the `rules:` list of a ClusterRole, for `clmb-operator rbac` and the chart.
pub fn rules_yaml() -> Result<String, serde_yaml::Error> {
    let rules: Vec<YamlRule<'_>> = RBAC_RULES
        .iter()
        .map(|r| YamlRule {
            api_groups: [r.api_group],
            resources: [r.resource],
            verbs: r.verbs,
        })
        .collect();
    serde_yaml::to_string(&rules)
}
