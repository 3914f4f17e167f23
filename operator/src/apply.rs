//! Phase 5, apply: server-side apply of the desired objects, skipping what already matches.

use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use crate::build::DesiredObject;
use crate::names::FIELD_MANAGER;
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
}

impl ApplyError {
    pub fn category(&self) -> &'static str {
        match self {
            Self::ApplyObject { .. } => "apply_object",
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
            Self::ApplyObject { .. } => false,
        }
    }
}

/// Proof that the desired objects were applied: the status phase takes one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub written: Vec<ObjectKey>,
    pub unchanged: usize,
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
    retry: RetryPolicy,
) -> Result<Applied, ApplyError> {
    let writes = plan_writes(desired, existing);
    let mut applied = Applied {
        written: Vec::new(),
        unchanged: desired.len() - writes.len(),
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
