//! Argon2id password hashes, computed in working memory the service keeps.
//!
//! One hash needs `m_cost` KiB of working memory (19 MiB with the default parameters).
//! Allocated afresh for every sign-in, a block that size goes back to the kernel when
//! freed and is faulted in again, zeroed, by the next hash: on two cores that halved
//! sign-in throughput. So a hash borrows one of a few buffers instead, made on first
//! use and kept; there are never more than hashes allowed to run at once.
//!
//! The stored form is the standard PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`),
//! so hashes made by the `argon2` crate's own `PasswordHasher` verify here and back.

use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::phc::{self, Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("failed to hash a password: {0}")]
    Hash(argon2::Error),
    #[error("failed to encode a password hash: {0}")]
    Encode(phc::Error),
    #[error("failed to encode Argon2id parameters: {0}")]
    Params(argon2::password_hash::Error),
    #[error("a stored password hash is unreadable: {0}")]
    Unreadable(String),
    #[error("no random salt could be had: {0}")]
    Salt(getrandom::Error),
    #[error("the hashing task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Hashes and verifies passwords, at most `concurrency` at a time.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
    running: Arc<Semaphore>,
}

struct Inner {
    params: Params,
    /// Idle working memory, each of `params.block_count()` blocks.
    buffers: Mutex<Vec<Vec<Block>>>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("params", &self.inner.params)
            .finish_non_exhaustive()
    }
}

/// Salts as long as the PHC string format recommends.
const SALT_LEN: usize = 16;

impl Passwords {
    /// `concurrency` hashes at most run at once: more would add memory, never
    /// throughput, past the number of cores.
    pub fn new(params: Params, concurrency: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                params,
                buffers: Mutex::new(Vec::new()),
            }),
            running: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// A new PHC string for `password`, with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        self.run(move |inner| inner.hash(password.as_bytes())).await
    }

    /// Whether `password` is the one `stored` was made from.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, PasswordError> {
        self.run(move |inner| inner.verify(password.as_bytes(), &stored))
            .await
    }

    /// Runs `work` off the async threads, once a hash may start.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        let inner = Arc::clone(&self.inner);
        // The semaphore is never closed; were it, the hash would run without a turn
        // rather than fail a sign-in.
        let permit = Arc::clone(&self.running).acquire_owned().await.ok();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&inner)
        })
        .await?
    }

    /// Hashes without waiting for a turn: for the one hash made while starting up.
    pub fn hash_now(&self, password: &[u8]) -> Result<String, PasswordError> {
        self.inner.hash(password)
    }
}

impl Inner {
    fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(PasswordError::Salt)?;
        let salt = Salt::new(&salt).map_err(PasswordError::Encode)?;

        let output_len = self
            .params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let mut out = vec![0u8; output_len];
        self.compute(Version::V0x13, &self.params, password, &salt, &mut out)?;

        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(PasswordError::Params)?,
            salt: Some(salt),
            hash: Some(Output::new(&out).map_err(PasswordError::Encode)?),
        };
        Ok(hash.to_string())
    }

    fn verify(&self, password: &[u8], stored: &str) -> Result<bool, PasswordError> {
        let unreadable = |e: &dyn std::fmt::Display| PasswordError::Unreadable(e.to_string());
        let stored = PasswordHash::new(stored).map_err(|e| unreadable(&e))?;
        let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
            return Err(unreadable(&"it has no salt or no hash"));
        };
        if stored.algorithm != Algorithm::Argon2id.ident() {
            return Err(unreadable(&format!(
                "it is {}, not argon2id",
                stored.algorithm
            )));
        }
        let version = match stored.version {
            Some(v) => Version::try_from(v).map_err(|e| unreadable(&e))?,
            None => Version::default(),
        };
        // A hash keeps the parameters it was made with, which may be older ones.
        let params = Params::try_from(&stored).map_err(|e| unreadable(&e))?;

        let mut out = vec![0u8; expected.len()];
        self.compute(version, &params, password, salt, &mut out)?;
        let computed = Output::new(&out).map_err(PasswordError::Encode)?;
        // `Output` compares in constant time.
        Ok(&computed == expected)
    }

    /// Argon2id of `password` into `out`, in a kept buffer when `params` are the
    /// service's own.
    fn compute(
        &self,
        version: Version,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), PasswordError> {
        let argon2 = Argon2::new(Algorithm::Argon2id, version, params.clone());
        if params.block_count() != self.params.block_count() {
            return argon2
                .hash_password_into(password, salt, out)
                .map_err(PasswordError::Hash);
        }

        let mut buffer = self
            .buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_else(|| vec![Block::default(); params.block_count()]);
        let result = argon2.hash_password_into_with_memory(password, salt, out, &mut buffer[..]);
        self.buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(buffer);
        result.map_err(PasswordError::Hash)
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    /// Cheap parameters, so the tests run fast; the code path is the same.
    fn params() -> Params {
        Params::new(64, 1, 1, None).expect("valid parameters")
    }

    #[tokio::test]
    async fn a_password_verifies_against_its_hash_and_no_other_does() {
        let passwords = Passwords::new(params(), 2);

        let stored = passwords.hash("correct horse".to_owned()).await.unwrap();

        assert!(
            stored.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
            "{stored}"
        );
        assert!(
            passwords
                .verify("correct horse".to_owned(), stored.clone())
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("correct horsf".to_owned(), stored.clone())
                .await
                .unwrap()
        );
        assert!(!passwords.verify(String::new(), stored).await.unwrap());
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ_by_their_salt() {
        let passwords = Passwords::new(params(), 1);

        let first = passwords.hash("same password".to_owned()).await.unwrap();
        let second = passwords.hash("same password".to_owned()).await.unwrap();

        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own_hasher_both_ways() {
        let passwords = Passwords::new(params(), 1);
        let library = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());

        let by_library = library.hash_password(b"shared secret").unwrap().to_string();
        let ours = passwords.hash("shared secret".to_owned()).await.unwrap();

        assert!(
            passwords
                .verify("shared secret".to_owned(), by_library)
                .await
                .unwrap()
        );
        let ours = PasswordHash::new(&ours).unwrap();
        assert!(library.verify_password(b"shared secret", &ours).is_ok());
        assert!(library.verify_password(b"other secret", &ours).is_err());
    }

    #[tokio::test]
    async fn a_hash_made_with_other_parameters_still_verifies() {
        let passwords = Passwords::new(params(), 1);
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(128, 2, 1, None).unwrap(),
        );

        let stored = older
            .hash_password(b"kept from before")
            .unwrap()
            .to_string();

        assert!(
            passwords
                .verify("kept from before".to_owned(), stored.clone())
                .await
                .unwrap()
        );
        assert!(!passwords.verify("not it".to_owned(), stored).await.unwrap());
    }

    #[tokio::test]
    async fn an_unreadable_or_foreign_hash_is_an_error_not_a_match() {
        let passwords = Passwords::new(params(), 1);
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params())
            .hash_password(b"x")
            .unwrap()
            .to_string();

        for stored in [
            "",
            "plain text",
            "$argon2id$v=19$m=64,t=1,p=1",
            argon2i.as_str(),
        ] {
            let result = passwords.verify("x".to_owned(), stored.to_owned()).await;
            assert!(result.is_err(), "{stored:?} gave {result:?}");
        }
    }

    #[tokio::test]
    async fn buffers_are_kept_for_reuse_and_never_outnumber_the_hashes_allowed_at_once() {
        let passwords = Passwords::new(params(), 2);

        let mut hashes = tokio::task::JoinSet::new();
        for i in 0..8 {
            let passwords = passwords.clone();
            hashes.spawn(async move { passwords.hash(format!("password {i}")).await });
        }
        while let Some(hash) = hashes.join_next().await {
            hash.unwrap().unwrap();
        }

        let kept = passwords.inner.buffers.lock().unwrap().len();
        assert!((1..=2).contains(&kept), "{kept} buffers kept");
    }
}
