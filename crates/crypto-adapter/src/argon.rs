use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash as Phc;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use async_trait::async_trait;
use hexgate_domain::{Password, PasswordHash};
use hexgate_ports::{PasswordHasher, PortError};

use crate::hashing_threads::HashingThreads;

/// Argon2id with the library defaults, which are OWASP's recommendation (19 MiB, t=2, p=1).
/// Each hash or verification runs on a low-priority hashing thread, never on an async worker.
#[derive(Clone)]
pub struct Argon2Hasher {
    /// A real hash of a random password, verified against when the user does not exist so
    /// that path costs exactly as much as a real verification.
    dummy: Arc<OnceLock<String>>,
    /// One thread per core: each hash takes 19 MiB and a core for ~20 ms, so more in parallel
    /// would only add memory and threads.
    threads: HashingThreads,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Argon2Hasher {
    #[must_use]
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self { dummy: Arc::default(), threads: HashingThreads::start(cores) }
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, PortError> {
        self.threads.run(f).await
    }

    fn dummy_hash(&self) -> String {
        self.dummy
            .get_or_init(|| {
                let mut secret = [0u8; 32];
                // Should the OS RNG fail, a fixed dummy still costs the same to verify.
                let _ = getrandom::fill(&mut secret);
                hash_blocking(&secret).unwrap_or_default()
            })
            .clone()
    }
}

fn hash_blocking(password: &[u8]) -> Result<String, PortError> {
    Argon2::default()
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(|e| PortError::Internal(format!("argon2 hash failed: {e}")))
}

fn verify_blocking(password: &[u8], phc: &str) -> bool {
    match Phc::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password, &parsed).is_ok(),
        Err(_) => false,
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PortError> {
        let secret = password.expose().as_bytes().to_vec();
        let phc = self.blocking(move || hash_blocking(&secret)).await??;
        Ok(PasswordHash::from_phc(phc))
    }

    async fn verify(&self, password: &Password, hash: Option<&PasswordHash>) -> Result<bool, PortError> {
        let secret = password.expose().as_bytes().to_vec();
        let (phc, real) = match hash {
            Some(hash) => (hash.as_phc().to_owned(), true),
            None => {
                let this = self.clone();
                (self.blocking(move || this.dummy_hash()).await?, false)
            }
        };
        let ok = self.blocking(move || verify_blocking(&secret, &phc)).await?;
        Ok(ok && real)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_own_password_and_no_other() {
        let hasher = Argon2Hasher::new();
        let password = Password::parse("Secret123").expect("valid");
        let hash = hasher.hash(&password).await.expect("hash");
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&password, Some(&hash)).await.expect("verify"));
        let wrong = Password::candidate("Secret124");
        assert!(!hasher.verify(&wrong, Some(&hash)).await.expect("verify"));
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies_even_with_the_dummy_password() {
        let hasher = Argon2Hasher::new();
        let password = Password::candidate("");
        assert!(!hasher.verify(&password, None).await.expect("verify"));
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ_by_salt() {
        let hasher = Argon2Hasher::new();
        let password = Password::parse("Secret123").expect("valid");
        let a = hasher.hash(&password).await.expect("hash");
        let b = hasher.hash(&password).await.expect("hash");
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_fails_verification_instead_of_panicking() {
        let hasher = Argon2Hasher::new();
        let garbage = PasswordHash::from_phc("not-a-phc-string".into());
        assert!(!hasher.verify(&Password::candidate("x"), Some(&garbage)).await.expect("verify"));
    }
}
