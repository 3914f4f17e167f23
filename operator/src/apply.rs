//! Phase 5, apply: server-side apply of the desired objects, skipping what already matches,
//! then deletion of the optional objects a component no longer has.

use std::collections::BTreeSet;

use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use crate::build::DesiredObject;
use crate::names::{Component, FIELD_MANAGER, LABEL_COMPONENT};
use crate::observe::{Children, ObjectKey};
use crate::rbac::ChildKind;
use crate::retry::{RetryPolicy, with_retry};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("failed to apply {kind:?} {name:?}")]
    ApplyObject {
        kind: ChildKind,
        name: String,
        source: kube::Error,
    },
    #[error("failed to delete {kind:?} {name:?}, which the stack no longer has")]
    DeleteObject {
        kind: ChildKind,
        name: String,
        source: kube::Error,
    },
}

impl ApplyError {
    pub fn category(&self) -> &'static str {
        match self {
            Self::ApplyObject { .. } => "apply_object",
            Self::DeleteObject { .. } => "delete_object",
        }
    }

    /// The API server refused the object itself: retrying the same object cannot help.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::ApplyObject {
                source: kube::Error::Api(status),
                ..
            } => {
                matches!(status.code, 400 | 422)
            }
            Self::ApplyObject { .. } | Self::DeleteObject { .. } => false,
        }
    }
}

/// Proof that the desired objects were applied: the status phase takes one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub written: Vec<ObjectKey>,
    pub unchanged: usize,
    pub deleted: Vec<ObjectKey>,
}

/// Kinds a component has only under some specs: an HPA only with `autoscaling`, a PDB only
/// when more than one replica is possible. Everything else it always has.
const OPTIONAL_KINDS: [ChildKind; 2] = [
    ChildKind::HorizontalPodAutoscaler,
    ChildKind::PodDisruptionBudget,
];

/// The optional objects that exist for a component built this reconcile but are no longer
/// desired: an HPA left from removed autoscaling would go on scaling a Deployment whose spec
/// now fixes `replicas`. Components not built this time (waiting in an upgrade, or a stack
/// that is paused) keep whatever they have.
pub fn plan_deletes(
    desired: &[DesiredObject],
    existing: &Children,
    built: &BTreeSet<Component>,
) -> Vec<ObjectKey> {
    existing
        .objects
        .iter()
        .filter(|(key, _)| OPTIONAL_KINDS.contains(&key.kind))
        .filter(|(_, object)| {
            object
                .pointer("/metadata/labels")
                .and_then(|labels| labels.get(LABEL_COMPONENT))
                .and_then(Value::as_str)
                .and_then(Component::from_name)
                .is_some_and(|component| built.contains(&component))
        })
        .filter(|(key, _)| {
            !desired
                .iter()
                .any(|d| d.kind == key.kind && d.name == key.name)
        })
        .map(|(key, _)| key.clone())
        .collect()
}

/// The objects that differ from what the cluster has; a second pass with nothing changed
/// plans no writes.
pub fn plan_writes<'a>(
    desired: &'a [DesiredObject],
    existing: &Children,
) -> Vec<&'a DesiredObject> {
    desired
        .iter()
        .filter(|d| {
            existing
                .get(d.kind, &d.name)
                .is_none_or(|e| !is_subset(&d.value, e))
        })
        .collect()
}

/// Whether every field we set has that value in `actual`; the server may add defaults and
/// other managers' fields, which are not drift.
pub fn is_subset(wanted: &Value, actual: &Value) -> bool {
    match (wanted, actual) {
        (Value::Object(w), Value::Object(a)) => w
            .iter()
            .all(|(k, wv)| a.get(k).is_some_and(|av| is_subset(wv, av))),
        (Value::Array(w), Value::Array(a)) => {
            w.len() == a.len() && w.iter().zip(a).all(|(wv, av)| is_subset(wv, av))
        }
        _ => wanted == actual,
    }
}

pub async fn apply(
    client: &Client,
    namespace: &str,
    desired: &[DesiredObject],
    existing: &Children,
    built: &BTreeSet<Component>,
    retry: RetryPolicy,
) -> Result<Applied, ApplyError> {
    let writes = plan_writes(desired, existing);
    let mut applied = Applied {
        written: Vec::new(),
        unchanged: desired.len() - writes.len(),
        deleted: Vec::new(),
    };
    // Force: the operator owns these fields; a conflicting manager is drift to undo.
    let params = PatchParams::apply(FIELD_MANAGER).force();
    for object in writes {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &object.kind.api_resource());
        let patch = Patch::Apply(&object.value);
        with_retry(retry, || api.patch(&object.name, &params, &patch))
            .await
            .map_err(|source| ApplyError::ApplyObject {
                kind: object.kind,
                name: object.name.clone(),
                source,
            })?;
        applied.written.push(ObjectKey {
            kind: object.kind,
            name: object.name.clone(),
        });
    }

    let delete_params = DeleteParams::default();
    for key in plan_deletes(desired, existing, built) {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &key.kind.api_resource());
        let deleted = with_retry(retry, || api.delete(&key.name, &delete_params)).await;
        match deleted {
            Ok(_) => {}
            // Gone already (a human, or an earlier pass): what was wanted.
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(ApplyError::DeleteObject {
                    kind: key.kind,
                    name: key.name,
                    source,
                });
            }
        }
        applied.deleted.push(key);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_added_by_the_server_are_not_drift() {
        let wanted = json!({"spec": {"ports": [{"port": 80}]}});
        let actual =
            json!({"spec": {"ports": [{"port": 80, "protocol": "TCP"}], "clusterIP": "10.0.0.1"}});

        assert!(is_subset(&wanted, &actual));
    }

    #[test]
    fn a_changed_or_missing_field_is_drift() {
        let wanted = json!({"spec": {"replicas": 2, "paused": false}});

        assert!(!is_subset(
            &wanted,
            &json!({"spec": {"replicas": 3, "paused": false}})
        ));
        assert!(!is_subset(&wanted, &json!({"spec": {"replicas": 2}})));
    }

    #[test]
    fn a_list_with_an_extra_item_is_drift() {
        let wanted = json!({"args": ["clmb", "users"]});

        assert!(!is_subset(
            &wanted,
            &json!({"args": ["clmb", "users", "--debug"]})
        ));
    }
}
