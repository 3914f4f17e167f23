//! Phase 1, observe: read what exists — the stack's children and the Secrets it references.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, ListParams};
use kube::{Client, ResourceExt};
use serde_json::Value;

use crate::crd::ClmbStack;
use crate::names::{children_selector, signing_key_secret_name};
use crate::rbac::ChildKind;
use crate::retry::{RetryPolicy, with_retry};

#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error("failed to read the stack's namespace: the object has none")]
    MissingNamespace,
    #[error("failed to list {kind:?} children of the stack")]
    ListChildren {
        kind: ChildKind,
        source: kube::Error,
    },
    #[error("failed to get Secret {name:?}")]
    GetSecret { name: String, source: kube::Error },
}

impl ObserveError {
    pub fn category(&self) -> &'static str {
        match self {
            Self::MissingNamespace => "observe_missing_namespace",
            Self::ListChildren { .. } => "observe_list_children",
            Self::GetSecret { .. } => "observe_get_secret",
        }
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::MissingNamespace)
    }
}

/// Identifies one child object of a stack.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: ChildKind,
    pub name: String,
}

/// The stack's children as the API server returned them, keyed by kind and name.
#[derive(Clone, Debug, Default)]
pub struct Children {
    pub objects: BTreeMap<ObjectKey, Value>,
}

impl Children {
    pub fn insert(&mut self, kind: ChildKind, value: Value) {
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.objects.insert(
            ObjectKey {
                kind,
                name: name.to_owned(),
            },
            value,
        );
    }

    pub fn get(&self, kind: ChildKind, name: &str) -> Option<&Value> {
        self.objects.get(&ObjectKey {
            kind,
            name: name.to_owned(),
        })
    }

    pub fn deployment(&self, name: &str) -> Option<Deployment> {
        self.get(ChildKind::Deployment, name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    pub fn job(&self, name: &str) -> Option<Job> {
        self.get(ChildKind::Job, name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// Everything the later phases need to know about the cluster, read once per reconcile.
#[derive(Clone, Debug)]
pub struct Observed {
    pub stack: ClmbStack,
    /// Referenced Secrets that exist, by name; a name absent here is a missing Secret.
    pub secrets: BTreeMap<String, Secret>,
    pub children: Children,
}

/// Names of every Secret the stack points at: databases and the signing key.
pub fn referenced_secrets(stack: &ClmbStack) -> BTreeSet<String> {
    let services = &stack.spec.services;
    let mut names: BTreeSet<String> = [&services.users, &services.gyms, &services.sessions]
        .into_iter()
        .map(|s| s.database.secret_ref.name.clone())
        .collect();
    names.insert(match &stack.spec.auth.signing_key_secret_ref {
        Some(r) => r.name.clone(),
        None => signing_key_secret_name(&stack.name_any()),
    });
    names
}

pub async fn observe(
    client: &Client,
    stack: &ClmbStack,
    retry: RetryPolicy,
) -> Result<Observed, ObserveError> {
    let namespace = stack.namespace().ok_or(ObserveError::MissingNamespace)?;

    // Referenced Secrets first: they decide which components can be deployed at all.
    let secret_api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let mut secrets = BTreeMap::new();
    for name in referenced_secrets(stack) {
        let found = with_retry(retry, || secret_api.get_opt(&name))
            .await
            .map_err(|source| ObserveError::GetSecret {
                name: name.clone(),
                source,
            })?;
        if let Some(secret) = found {
            secrets.insert(name, secret);
        }
    }

    // Then every child kind, by the labels the build phase puts on them.
    let selector = children_selector(&stack.name_any());
    let params = ListParams::default().labels(&selector);
    let mut children = Children::default();
    for kind in ChildKind::ALL {
        if kind == ChildKind::Secret {
            continue; // the only owned Secret, the signing key, was read above by name
        }
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &namespace, &kind.api_resource());
        let list = with_retry(retry, || api.list(&params))
            .await
            .map_err(|source| ObserveError::ListChildren { kind, source })?;
        for mut object in list.items {
            // Lists leave apiVersion and kind out of their items; the comparison needs them.
            object.types = Some(kube::core::TypeMeta {
                api_version: kind.api_resource().api_version,
                kind: kind.kind().to_owned(),
            });
            if let Ok(value) = serde_json::to_value(&object) {
                children.insert(kind, value);
            }
        }
    }
    let generated = signing_key_secret_name(&stack.name_any());
    if stack.spec.auth.signing_key_secret_ref.is_none()
        && let Some(secret) = secrets.get(&generated)
        && let Ok(value) = serde_json::to_value(secret)
    {
        children.insert(ChildKind::Secret, value);
    }

    Ok(Observed {
        stack: stack.clone(),
        secrets,
        children,
    })
}
