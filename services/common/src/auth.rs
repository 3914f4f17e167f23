//! Access tokens: Ed25519-signed JWTs. Only the users service holds a private key
//! ([`TokenSigner`]); the gateway and every service verify with public keys
//! ([`TokenVerifier`]). Each key is named by a `kid` derived from the public key, and
//! a verifier accepts several at once, so keys rotate without downtime: publish the new
//! public key everywhere, then switch the signer, then retire the old key.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::{header, request::Parts};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;

const ISSUER: &str = "clmb-users";
const AUDIENCE: &str = "clmb";

/// What a token is for: a climber calling the API, or one clmb service calling another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Service,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub kind: TokenKind,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("failed to read the signing key: {0}")]
    ReadPrivateKey(String),
    #[error("failed to read a public key: {0}")]
    ReadPublicKey(String),
    #[error("failed to generate randomness: {0}")]
    Random(String),
}

/// An Ed25519 key pair in PEM, as stored in the signing-key Secret.
#[derive(Clone)]
pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &key_id(&self.public_pem))
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Self::from_signing_key(&SigningKey::from_bytes(&seed))
    }

    pub fn from_private_pem(private_pem: &str) -> Result<Self, KeyError> {
        let key = SigningKey::from_pkcs8_pem(private_pem)
            .map_err(|e| KeyError::ReadPrivateKey(e.to_string()))?;
        Self::from_signing_key(&key)
    }

    fn from_signing_key(key: &SigningKey) -> Result<Self, KeyError> {
        let private_pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::ReadPrivateKey(e.to_string()))?
            .to_string();
        let public_pem = key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::ReadPublicKey(e.to_string()))?;
        Ok(Self {
            private_pem,
            public_pem,
        })
    }
}

/// A short, stable name for a public key, carried in the JWT `kid` header.
pub fn key_id(public_pem: &str) -> String {
    let digest = Sha256::digest(public_pem.trim().as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

/// Signs access and service tokens. Only the users service builds one.
#[derive(Clone)]
pub struct TokenSigner {
    key: Arc<EncodingKey>,
    kid: String,
    pub access_ttl_secs: i64,
}

impl TokenSigner {
    pub fn new(pair: &KeyPair, access_ttl_secs: i64) -> Result<Self, KeyError> {
        let key = EncodingKey::from_ed_pem(pair.private_pem.as_bytes())
            .map_err(|e| KeyError::ReadPrivateKey(e.to_string()))?;
        Ok(Self {
            key: Arc::new(key),
            kid: key_id(&pair.public_pem),
            access_ttl_secs,
        })
    }

    pub fn sign(&self, subject: &str, kind: TokenKind, ttl_secs: i64) -> Result<String, ApiError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + ttl_secs,
            kind,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(ApiError::internal)
    }

    pub fn access_token(&self, user_id: Uuid) -> Result<String, ApiError> {
        self.sign(
            &user_id.to_string(),
            TokenKind::Access,
            self.access_ttl_secs,
        )
    }

    /// A one-minute token for a call from this service to another.
    pub fn service_token(&self, service: &str) -> Result<String, ApiError> {
        self.sign(&format!("service:{service}"), TokenKind::Service, 60)
    }
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Verifies tokens against every public key it was given.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Arc<HashMap<String, DecodingKey>>,
    validation: Arc<Validation>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kids", &self.keys.keys())
            .finish()
    }
}

impl TokenVerifier {
    pub fn new<'a>(public_pems: impl IntoIterator<Item = &'a str>) -> Result<Self, KeyError> {
        let mut keys = HashMap::new();
        for pem in public_pems {
            let key = DecodingKey::from_ed_pem(pem.as_bytes())
                .map_err(|e| KeyError::ReadPublicKey(e.to_string()))?;
            keys.insert(key_id(pem), key);
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 30;
        Ok(Self {
            keys: Arc::new(keys),
            validation: Arc::new(validation),
        })
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid =
            || ApiError::Unauthorized("the access token is invalid or expired".to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or_else(invalid)?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| invalid())
    }
}

/// The climber a request acts for, from a verified `Authorization: Bearer` token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    /// The raw token, passed on when this service calls another on the climber's behalf.
    pub token: String,
}

/// Either a climber or nobody: for calls that anyone may make but that show more to a
/// signed-in caller.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

/// A call from another clmb service.
#[derive(Debug, Clone)]
pub struct ServiceCaller {
    pub service: String,
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl<S> FromRequestParts<S> for AuthUser
where
    TokenVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| {
            ApiError::Unauthorized("a bearer access token is required".to_owned())
        })?;
        let claims = TokenVerifier::from_ref(state).verify(token)?;
        if claims.kind != TokenKind::Access {
            return Err(ApiError::Unauthorized("not an access token".to_owned()));
        }
        let id = Uuid::parse_str(&claims.sub)
            .map_err(|_| ApiError::Unauthorized("the access token is invalid".to_owned()))?;
        Ok(AuthUser {
            id,
            token: token.to_owned(),
        })
    }
}

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    TokenVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A present but bad token is still an error: silently treating it as anonymous
        // would hide an expired session from the client.
        if bearer(parts).is_none() {
            return Ok(MaybeAuthUser(None));
        }
        AuthUser::from_request_parts(parts, state)
            .await
            .map(|user| MaybeAuthUser(Some(user)))
    }
}

impl<S> FromRequestParts<S> for ServiceCaller
where
    TokenVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)
            .ok_or_else(|| ApiError::Unauthorized("a service token is required".to_owned()))?;
        let claims = TokenVerifier::from_ref(state).verify(token)?;
        match (claims.kind, claims.sub.strip_prefix("service:")) {
            (TokenKind::Service, Some(service)) => Ok(ServiceCaller {
                service: service.to_owned(),
            }),
            _ => Err(ApiError::Forbidden(
                "only clmb services may call this".to_owned(),
            )),
        }
    }
}

/// Resolves a `{user_id}` path segment, where `me` means the caller.
pub fn resolve_user(raw: &str, caller: Option<&AuthUser>) -> Result<Uuid, ApiError> {
    if raw == "me" {
        return caller
            .map(|user| user.id)
            .ok_or_else(|| ApiError::Unauthorized("a bearer access token is required".to_owned()));
    }
    crate::extract::parse_id("user_id", raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_signed_with_one_key_verifies_against_a_set_that_holds_it() {
        let old = KeyPair::generate().unwrap();
        let new = KeyPair::generate().unwrap();
        let signer = TokenSigner::new(&new, 900).unwrap();
        let verifier =
            TokenVerifier::new([old.public_pem.as_str(), new.public_pem.as_str()]).unwrap();
        let user = Uuid::now_v7();

        let claims = verifier
            .verify(&signer.access_token(user).unwrap())
            .unwrap();

        assert_eq!(claims.sub, user.to_string());
        assert_eq!(claims.kind, TokenKind::Access);
    }

    #[test]
    fn a_token_from_an_unknown_key_is_rejected() {
        let signer = TokenSigner::new(&KeyPair::generate().unwrap(), 900).unwrap();
        let other = KeyPair::generate().unwrap();
        let verifier = TokenVerifier::new([other.public_pem.as_str()]).unwrap();

        let result = verifier.verify(&signer.access_token(Uuid::now_v7()).unwrap());

        assert!(matches!(result, Err(ApiError::Unauthorized(_))));
    }

    #[test]
    fn an_expired_token_is_rejected() {
        let pair = KeyPair::generate().unwrap();
        let signer = TokenSigner::new(&pair, 900).unwrap();
        let verifier = TokenVerifier::new([pair.public_pem.as_str()]).unwrap();

        let token = signer.sign("x", TokenKind::Access, -120).unwrap();

        assert!(verifier.verify(&token).is_err());
    }

    #[test]
    fn a_key_pair_reads_back_from_its_private_pem() {
        let pair = KeyPair::generate().unwrap();
        let again = KeyPair::from_private_pem(&pair.private_pem).unwrap();
        assert_eq!(again.public_pem, pair.public_pem);
    }
}
