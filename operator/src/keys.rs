//! The JWT signing key pair the operator generates when the stack names none.
//!
//! Generation is the one step of a reconcile that needs randomness, so it runs in the driver
//! and hands the finished PEM text to the pure build phase.

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};

pub const PRIVATE_KEY: &str = "private.pem";
pub const PUBLIC_KEY: &str = "public.pem";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("failed to draw random bytes for the signing key")]
    DrawRandomness { source: getrandom::Error },
    #[error("failed to encode the signing key as PEM")]
    EncodePem { source: ed25519_dalek::pkcs8::Error },
    #[error("failed to encode the verifying key as PEM")]
    EncodePublicPem {
        source: ed25519_dalek::pkcs8::spki::Error,
    },
}

impl KeyError {
    pub fn category(&self) -> &'static str {
        match self {
            Self::DrawRandomness { .. } => "keys_randomness",
            Self::EncodePem { .. } | Self::EncodePublicPem { .. } => "keys_encode",
        }
    }
}

/// An Ed25519 key pair as PKCS#8 / SPKI PEM text.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

// Never print the private key, not even in a debug log.
impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("private_pem", &"<redacted>")
            .field("public_pem", &self.public_pem)
            .finish()
    }
}

pub fn generate() -> Result<KeyPair, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|source| KeyError::DrawRandomness { source })?;
    from_seed(&seed)
}

pub fn from_seed(seed: &[u8; 32]) -> Result<KeyPair, KeyError> {
    let key = SigningKey::from_bytes(seed);
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|source| KeyError::EncodePem { source })?
        .to_string();
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|source| KeyError::EncodePublicPem { source })?;
    Ok(KeyPair {
        private_pem,
        public_pem,
    })
}
