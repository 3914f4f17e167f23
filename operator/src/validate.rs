//! Phase 2, validate: check the stack and resolve what it references. Pure: no client.
//!
//! The CRD schema already rejects most bad input at admission; this phase re-checks what the
//! operator relies on (an older CRD may be installed) and what the schema cannot see, such as
//! names that would grow past Kubernetes' limits.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use crate::crd::{
    ClmbStack, ClmbStackSpec, ClmbStackStatus, DatabaseState, ServiceSpec, WorkloadSpec,
};
use crate::keys::{PRIVATE_KEY, PUBLIC_KEY};
use crate::names::{Component, migration_job_name, signing_key_secret_name};
use crate::observe::Observed;

/// Job names become a pod label value, which Kubernetes caps at 63 characters.
const MAX_JOB_NAME: usize = 63;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValidateError {
    #[error("failed to read the stack's namespace: the object has none")]
    MissingNamespace,
    #[error("failed to accept version {version:?}: it does not look like a semantic version")]
    ParseVersion { version: String },
    #[error(
        "failed to accept {component} autoscaling: minReplicas {min} exceeds maxReplicas {max}"
    )]
    CheckAutoscaling {
        component: Component,
        min: i32,
        max: i32,
    },
    #[error("failed to accept {component} replicas {replicas}: must not be negative")]
    CheckReplicas { component: Component, replicas: i32 },
    #[error("failed to name object {name:?}: longer than {MAX_JOB_NAME} characters")]
    CheckNameLength { name: String },
}

impl ValidateError {
    pub fn category(&self) -> &'static str {
        match self {
            Self::MissingNamespace => "validate_namespace",
            Self::ParseVersion { .. } => "validate_version",
            Self::CheckAutoscaling { .. } => "validate_autoscaling",
            Self::CheckReplicas { .. } => "validate_replicas",
            Self::CheckNameLength { .. } => "validate_name_length",
        }
    }

    /// A short PascalCase reason for the status condition and the Event.
    pub fn reason(&self) -> &'static str {
        "InvalidSpec"
    }
}

/// Whether a service's database Secret (and key) exist, and a fingerprint of its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseBinding {
    /// `hash` is `None` only when rendering without a cluster, where no Secret can be read.
    Bound {
        secret: String,
        key: String,
        hash: Option<String>,
    },
    SecretMissing {
        secret: String,
    },
    KeyMissing {
        secret: String,
        key: String,
    },
}

impl DatabaseBinding {
    pub fn state(&self) -> DatabaseState {
        match self {
            Self::Bound { .. } => DatabaseState::Bound,
            Self::SecretMissing { .. } => DatabaseState::SecretMissing,
            Self::KeyMissing { .. } => DatabaseState::KeyMissing,
        }
    }

    pub fn is_bound(&self) -> bool {
        matches!(self, Self::Bound { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Bound { secret, .. } => format!("Secret {secret} is bound"),
            Self::SecretMissing { secret } => format!("Secret {secret} is missing"),
            Self::KeyMissing { secret, key } => format!("Secret {secret} has no key {key}"),
        }
    }
}

/// Where the JWT signing key pair comes from and whether it is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningKey {
    pub secret: String,
    /// The operator makes and owns this Secret (no `auth.signingKeySecretRef`).
    pub generated: bool,
    pub state: KeyState,
    /// Further public keys in the Secret (`next-public.pem`, `previous-public.pem`: any
    /// key ending in `-public.pem`), accepted beside `public.pem` so the key pair can be
    /// rotated without rejecting tokens (docs/deploy.md).
    pub extra_public_keys: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Both PEM keys are there; `hash` fingerprints them (`None` when rendering offline).
    Present { hash: Option<String> },
    /// The operator's own Secret does not exist yet: it will be generated.
    ToGenerate,
    /// A Secret the user named is missing or lacks one of the PEM keys.
    Missing,
}

/// A stack that passed validation, with every reference resolved.
#[derive(Clone, Debug)]
pub struct ValidatedStack {
    pub name: String,
    pub namespace: String,
    /// `None` when rendering a manifest that was never applied; owner references need it.
    pub uid: Option<String>,
    pub generation: i64,
    pub spec: ClmbStackSpec,
    pub previous: ClmbStackStatus,
    pub databases: BTreeMap<Component, DatabaseBinding>,
    pub signing_key: SigningKey,
}

impl ValidatedStack {
    pub fn workload(&self, component: Component) -> &WorkloadSpec {
        match component {
            Component::Gateway => &self.spec.gateway.workload,
            service => &self.service_spec(service).workload,
        }
    }

    fn service_spec(&self, component: Component) -> &ServiceSpec {
        service_spec(&self.spec, component)
    }

    /// Whether the component can run: its database is bound and the signing key is usable.
    pub fn deployable(&self, component: Component) -> bool {
        let key_ok = !matches!(self.signing_key.state, KeyState::Missing);
        let db_ok = self
            .databases
            .get(&component)
            .is_none_or(DatabaseBinding::is_bound);
        key_ok && db_ok
    }

    /// Fingerprint of every Secret value the component's pods read, for the pod template.
    pub fn secret_hash(&self, component: Component) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(DatabaseBinding::Bound { hash, .. }) = self.databases.get(&component) {
            parts.push(hash.clone()?);
        }
        if let KeyState::Present { hash } = &self.signing_key.state {
            parts.push(hash.clone()?);
        }
        Some(fingerprint(parts.join(",").as_bytes()))
    }
}

fn service_spec(spec: &ClmbStackSpec, component: Component) -> &ServiceSpec {
    match component {
        Component::Users => &spec.services.users,
        Component::Gyms => &spec.services.gyms,
        // The gateway has no ServiceSpec; callers only ask for services.
        Component::Sessions | Component::Gateway => &spec.services.sessions,
    }
}

/// The same test as [`crate::crd::VERSION_PATTERN`], written out so the crate needs no regex engine.
pub fn looks_like_semver(version: &str) -> bool {
    let version = version.strip_prefix('v').unwrap_or(version);
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let numbers_ok = numbers.len() == 3
        && numbers.iter().all(|n| {
            !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
                && (n.len() == 1 || !n.starts_with('0'))
        });
    let tail_ok = |t: Option<&str>| {
        t.is_none_or(|t| {
            !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
    };
    numbers_ok && tail_ok(pre) && tail_ok(build)
}

pub fn validate(observed: &Observed) -> Result<ValidatedStack, ValidateError> {
    let stack = &observed.stack;
    let namespace = stack.namespace().ok_or(ValidateError::MissingNamespace)?;
    let mut validated = validate_spec(stack, namespace)?;
    for component in Component::SERVICES {
        let binding = bind_database(&validated.spec, component, &observed.secrets);
        validated.databases.insert(component, binding);
    }
    validated.signing_key.state = match observed.secrets.get(&validated.signing_key.secret) {
        Some(secret) => match key_fingerprint(secret) {
            Some(hash) => KeyState::Present { hash: Some(hash) },
            None => KeyState::Missing,
        },
        None if validated.signing_key.generated => KeyState::ToGenerate,
        None => KeyState::Missing,
    };
    if let Some(data) = observed
        .secrets
        .get(&validated.signing_key.secret)
        .and_then(|secret| secret.data.as_ref())
    {
        // BTreeMap keys: already sorted, so the rendered list is stable.
        validated.signing_key.extra_public_keys = data
            .keys()
            .filter(|key| key.ends_with(EXTRA_PUBLIC_KEY_SUFFIX))
            .cloned()
            .collect();
    }
    Ok(validated)
}

/// Secret keys ending so are further public keys that tokens may be signed with.
pub const EXTRA_PUBLIC_KEY_SUFFIX: &str = "-public.pem";

/// Validation without a cluster, for `render`: every Secret is assumed present.
pub fn validate_offline(stack: &ClmbStack) -> Result<ValidatedStack, ValidateError> {
    let namespace = stack.namespace().unwrap_or_else(|| "default".to_owned());
    let mut validated = validate_spec(stack, namespace)?;
    for component in Component::SERVICES {
        let secret_ref = &service_spec(&validated.spec, component).database.secret_ref;
        validated.databases.insert(
            component,
            DatabaseBinding::Bound {
                secret: secret_ref.name.clone(),
                key: secret_ref.key.clone(),
                hash: None,
            },
        );
    }
    validated.signing_key.state = if validated.signing_key.generated {
        KeyState::ToGenerate
    } else {
        KeyState::Present { hash: None }
    };
    Ok(validated)
}

fn validate_spec(stack: &ClmbStack, namespace: String) -> Result<ValidatedStack, ValidateError> {
    let spec = &stack.spec;
    if !looks_like_semver(&spec.version) {
        return Err(ValidateError::ParseVersion {
            version: spec.version.clone(),
        });
    }
    let name = stack.name_any();
    for component in Component::UPGRADE_ORDER {
        let workload = match component {
            Component::Gateway => &spec.gateway.workload,
            service => &service_spec(spec, service).workload,
        };
        if let Some(replicas) = workload.replicas
            && replicas < 0
        {
            return Err(ValidateError::CheckReplicas {
                component,
                replicas,
            });
        }
        if let Some(a) = &workload.autoscaling
            && (a.min_replicas < 1 || a.min_replicas > a.max_replicas)
        {
            return Err(ValidateError::CheckAutoscaling {
                component,
                min: a.min_replicas,
                max: a.max_replicas,
            });
        }
        if component.has_database() {
            let job = migration_job_name(&name, component, &spec.version);
            if job.len() > MAX_JOB_NAME {
                return Err(ValidateError::CheckNameLength { name: job });
            }
        }
    }
    let signing_key = match &spec.auth.signing_key_secret_ref {
        Some(r) => SigningKey {
            secret: r.name.clone(),
            generated: false,
            state: KeyState::Missing,
            extra_public_keys: Vec::new(),
        },
        None => SigningKey {
            secret: signing_key_secret_name(&name),
            generated: true,
            state: KeyState::ToGenerate,
            extra_public_keys: Vec::new(),
        },
    };
    Ok(ValidatedStack {
        name,
        namespace,
        uid: stack.metadata.uid.clone(),
        generation: stack.metadata.generation.unwrap_or_default(),
        spec: spec.clone(),
        previous: stack.status.clone().unwrap_or_default(),
        databases: BTreeMap::new(),
        signing_key,
    })
}

fn bind_database(
    spec: &ClmbStackSpec,
    component: Component,
    secrets: &BTreeMap<String, Secret>,
) -> DatabaseBinding {
    let secret_ref = &service_spec(spec, component).database.secret_ref;
    let secret = secret_ref.name.clone();
    let Some(found) = secrets.get(&secret) else {
        return DatabaseBinding::SecretMissing { secret };
    };
    match found.data.as_ref().and_then(|d| d.get(&secret_ref.key)) {
        Some(value) => DatabaseBinding::Bound {
            secret,
            key: secret_ref.key.clone(),
            hash: Some(fingerprint(&value.0)),
        },
        None => DatabaseBinding::KeyMissing {
            secret,
            key: secret_ref.key.clone(),
        },
    }
}

fn key_fingerprint(secret: &Secret) -> Option<String> {
    let data = secret.data.as_ref()?;
    let private = data.get(PRIVATE_KEY)?;
    let public = data.get(PUBLIC_KEY)?;
    let mut joined = private.0.clone();
    joined.extend_from_slice(&public.0);
    // A changed extra public key must roll the pods too: they read keys once, at start.
    for (key, value) in data
        .iter()
        .filter(|(k, _)| k.ends_with(EXTRA_PUBLIC_KEY_SUFFIX))
    {
        joined.extend_from_slice(key.as_bytes());
        joined.extend_from_slice(&value.0);
    }
    Some(fingerprint(&joined))
}

/// A short, stable digest: enough to notice a change, useless to recover the value.
pub fn fingerprint(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semantic_versions_with_prerelease_and_build_are_accepted() {
        for v in [
            "0.4.0",
            "1.2.3",
            "v2.0.10",
            "0.5.0-rc.1",
            "1.0.0+build.7",
            "1.0.0-alpha+001",
        ] {
            assert!(looks_like_semver(v), "{v}");
        }
    }

    #[test]
    fn tags_that_are_not_semantic_versions_are_rejected() {
        for v in [
            "latest", "1.2", "01.2.3", "1.2.3-", "1.2.3+", "1.2.3 ", "", "1.2.x",
        ] {
            assert!(!looks_like_semver(v), "{v:?}");
        }
    }

    #[test]
    fn the_schema_pattern_and_the_code_agree_on_the_version_format() {
        // The CRD pattern is the admission check, this function the operator's own.
        assert!(crate::crd::VERSION_PATTERN.starts_with("^v?"));
        assert!(looks_like_semver("v1.0.0") && looks_like_semver("1.0.0"));
    }
}
