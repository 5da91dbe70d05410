//! Test doubles for the non-storage ports the use cases need: a clock the test moves, a password
//! hasher that costs nothing, and a mailer that keeps what it was asked to send.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use hexgate_domain::{Password, PasswordHash};
use hexgate_ports::{Clock, Mail, Mailer, PasswordHasher, PortError};

/// A [`Clock`] that stands still until the test moves it.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    #[must_use]
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Mutex::new(now))
    }

    /// Stopped at the real time now, in microseconds (what PostgreSQL keeps).
    #[must_use]
    pub fn at_now() -> Self {
        Self::new(Utc::now().trunc_subsecs(6))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A [`PasswordHasher`] for tests: salted and one-way enough to tell passwords apart, and
/// instant, so use-case tests do not spend their time in Argon2. Never for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher;

fn digest(salt: &str, password: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (salt, password).hash(&mut h);
    h.finish()
}

#[async_trait]
impl PasswordHasher for FastHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PortError> {
        let salt = uuid::Uuid::new_v4().simple().to_string();
        Ok(PasswordHash::from_phc(format!("$fast${salt}${:016x}", digest(&salt, password.expose()))))
    }

    async fn verify(&self, password: &Password, hash: Option<&PasswordHash>) -> Result<bool, PortError> {
        let Some(hash) = hash else { return Ok(false) };
        let mut parts = hash.as_phc().strip_prefix("$fast$").unwrap_or_default().split('$');
        let (Some(salt), Some(hex)) = (parts.next(), parts.next()) else { return Ok(false) };
        Ok(format!("{:016x}", digest(salt, password.expose())) == hex)
    }
}

/// A [`Mailer`] that keeps every mail instead of sending it.
#[derive(Debug, Default)]
pub struct RecordingMailer(Mutex<Vec<Mail>>);

impl RecordingMailer {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// What was sent so far, in order.
    #[must_use]
    pub fn sent(&self) -> Vec<Mail> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), PortError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(mail.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_fast_hasher_verifies_its_own_password_and_no_other() {
        let password = Password::parse("Secret123").expect("valid");
        let (a, b) = (FastHasher.hash(&password).await.expect("hash"), FastHasher.hash(&password).await.expect("hash"));
        assert_ne!(a, b, "salted");
        assert!(FastHasher.verify(&password, Some(&a)).await.expect("verify"));
        assert!(!FastHasher.verify(&Password::candidate("Secret124"), Some(&a)).await.expect("verify"));
        assert!(!FastHasher.verify(&password, None).await.expect("verify"));
        assert!(!FastHasher.verify(&password, Some(&PasswordHash::from_phc("junk".into()))).await.expect("verify"));
    }

    #[test]
    fn the_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at_now();
        let t0 = clock.now();
        clock.advance(Duration::seconds(5));
        assert_eq!(clock.now() - t0, Duration::seconds(5));
    }
}
