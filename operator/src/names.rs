//! Components, object names and labels: the vocabulary every phase shares.

use std::collections::BTreeMap;
use std::fmt;

/// Field manager of every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "clmb-operator";
pub const APP_NAME: &str = "clmb";
pub const MANAGED_BY: &str = "clmb-operator";

pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
pub const LABEL_VERSION: &str = "app.kubernetes.io/version";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Hash of the referenced Secret data on the pod template: a rotation changes it and rolls pods.
pub const ANNOTATION_SECRET_HASH: &str = "clmb.dev/secret-hash";

/// Every component listens here inside its container.
pub const CONTAINER_PORT: i32 = 8080;
/// Port of the ClusterIP Service in front of every service.
pub const SERVICE_PORT: i32 = 80;

/// A part of the stack that runs as its own Deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    Users,
    Gyms,
    Sessions,
    Gateway,
}

impl Component {
    /// Upgrade order: every service first, the gateway last so it never calls an older API.
    pub const UPGRADE_ORDER: [Component; 4] = [
        Component::Users,
        Component::Gyms,
        Component::Sessions,
        Component::Gateway,
    ];
    pub const SERVICES: [Component; 3] = [Component::Users, Component::Gyms, Component::Sessions];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Gyms => "gyms",
            Self::Sessions => "sessions",
            Self::Gateway => "gateway",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::UPGRADE_ORDER.into_iter().find(|c| c.as_str() == name)
    }

    pub fn has_database(self) -> bool {
        self != Self::Gateway
    }

    /// Who may open connections to this component.
    ///
    /// `None` means anyone (the gateway is the public edge). For services the list is the real
    /// call graph: sessions reads route snapshots from gyms and asks users for privacy checks;
    /// users tells gyms and sessions when an account is deleted (gyms drops the account from
    /// gym managers). A new call between services needs a line here, or the NetworkPolicy
    /// drops it.
    pub fn allowed_callers(self) -> Option<&'static [Component]> {
        match self {
            Self::Gateway => None,
            Self::Users => Some(&[Component::Gateway, Component::Sessions]),
            Self::Gyms => Some(&[Component::Gateway, Component::Sessions, Component::Users]),
            Self::Sessions => Some(&[Component::Gateway, Component::Users]),
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Name of a component's Deployment, Service, HPA, PDB, NetworkPolicy and ServiceAccount.
pub fn component_name(stack: &str, component: Component) -> String {
    format!("{stack}-{component}")
}

/// In-cluster URL of a component, as handed to the others in `CLMB_<COMPONENT>_URL`.
pub fn component_url(stack: &str, component: Component) -> String {
    format!("http://{}:{SERVICE_PORT}", component_name(stack, component))
}

pub fn signing_key_secret_name(stack: &str) -> String {
    format!("{stack}-signing-key")
}

/// `<stack>-<service>-migrate-<version>`, with the version made a valid name segment.
pub fn migration_job_name(stack: &str, component: Component, version: &str) -> String {
    format!("{stack}-{component}-migrate-{}", name_segment(version))
}

/// Lowercases and replaces what a DNS label cannot hold (`+` of build metadata, `_`).
pub fn name_segment(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Label values allow `[A-Za-z0-9_.-]`, so a build suffix `+abc` becomes `_abc`.
pub fn label_value(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Labels that pick a component's pods; they never change, so a Deployment's selector stays valid.
pub fn selector_labels(stack: &str, component: Component) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_NAME.to_owned(), APP_NAME.to_owned()),
        (LABEL_INSTANCE.to_owned(), stack.to_owned()),
        (LABEL_COMPONENT.to_owned(), component.as_str().to_owned()),
    ])
}

/// Every label a child carries.
pub fn labels(
    stack: &str,
    component: Option<Component>,
    version: &str,
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (LABEL_NAME.to_owned(), APP_NAME.to_owned()),
        (LABEL_INSTANCE.to_owned(), stack.to_owned()),
        (LABEL_VERSION.to_owned(), label_value(version)),
        (LABEL_MANAGED_BY.to_owned(), MANAGED_BY.to_owned()),
    ]);
    if let Some(component) = component {
        labels.insert(LABEL_COMPONENT.to_owned(), component.as_str().to_owned());
    }
    labels
}

/// Selects every child of one stack, for the observe phase's list calls.
pub fn children_selector(stack: &str) -> String {
    format!("{LABEL_INSTANCE}={stack},{LABEL_MANAGED_BY}={MANAGED_BY}")
}
