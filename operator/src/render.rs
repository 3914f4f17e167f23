//! `clmb-operator render`: every object a stack would get, without a cluster.

use kube::ResourceExt;
use serde::Deserialize;

use crate::build::{BuildError, BuildInput, build};
use crate::crd::ClmbStack;
use crate::machine::steady;
use crate::validate::{ValidateError, validate_offline};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("failed to parse a ClmbStack from the input")]
    ParseStack { source: serde_yaml::Error },
    #[error("failed to validate ClmbStack {name:?}")]
    ValidateStack { name: String, source: ValidateError },
    #[error("failed to build the objects of ClmbStack {name:?}")]
    BuildObjects { name: String, source: BuildError },
    #[error("failed to write the objects as YAML")]
    WriteYaml { source: serde_yaml::Error },
}

/// Renders every ClmbStack document of `input` as multi-document YAML.
///
/// The stack is taken at its spec's version with every referenced Secret present. The
/// generated signing key Secret is printed without key material: the operator makes the key
/// in the cluster, and a key in rendered output would end up in Git. Owner references need
/// the stack's uid, so they appear only when the input carries `metadata.uid`.
pub fn render(input: &str) -> Result<String, RenderError> {
    let mut out = String::new();
    for document in serde_yaml::Deserializer::from_str(input) {
        let value = serde_yaml::Value::deserialize(document)
            .map_err(|source| RenderError::ParseStack { source })?;
        if value.is_null() {
            continue;
        }
        let stack: ClmbStack =
            serde_yaml::from_value(value).map_err(|source| RenderError::ParseStack { source })?;
        let name = stack.name_any();
        let validated = validate_offline(&stack).map_err(|source| RenderError::ValidateStack {
            name: name.clone(),
            source,
        })?;
        let plan = steady(&validated.spec.version, validated.spec.upgrade.migrations);
        let objects = build(&BuildInput {
            stack: &validated,
            plan: &plan,
            new_signing_key: None,
        })
        .map_err(|source| RenderError::BuildObjects {
            name: name.clone(),
            source,
        })?;
        for object in objects {
            out.push_str("---\n");
            out.push_str(
                &serde_yaml::to_string(&object.value)
                    .map_err(|source| RenderError::WriteYaml { source })?,
            );
        }
    }
    Ok(out)
}
