//! TOTP (RFC 6238 by `totp-rs`: SHA-1, 6 digits, 30 s steps, one step of skew either way) with
//! secrets sealed at rest like the signing keys' private halves, and recovery codes stored as an
//! HMAC-SHA256 keyed from `SECRET_KEY` (so a copy of the database alone cannot be searched for
//! the 50-bit codes).

use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::mfa::{RECOVERY_CODE_LEN, RecoveryCode, TotpCode};
use hexgate_ports::{NewTotpSecret, PortError, SecondFactorCrypto, TokenHash};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use totp_rs::{Builder, Secret};

use crate::seal::Sealer;

/// The sealer's purpose: TOTP secrets get a key of their own.
const SEAL_PURPOSE: &str = "totp-secrets";
/// 160 bits, as RFC 4226 recommends for HMAC-SHA-1.
const SECRET_BYTES: usize = 20;

pub struct TotpSecondFactor {
    sealer: Sealer,
    recovery_key: [u8; 32],
}

impl TotpSecondFactor {
    #[must_use]
    pub fn new(secret: &SecretString) -> Self {
        let secret = secret.expose_secret().as_bytes();
        let mut recovery_key = [0u8; 32];
        Hkdf::<Sha256>::new(Some(b"hexgate/recovery-codes/v1"), secret)
            .expand(b"recovery-code-hash", &mut recovery_key)
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        Self { sealer: Sealer::new(secret, SEAL_PURPOSE), recovery_key }
    }

    fn name(user: UserId) -> String {
        format!("totp:{user}")
    }
}

fn random<const N: usize>() -> Result<[u8; N], PortError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| PortError::Internal("the system's random source failed".into()))?;
    Ok(bytes)
}

impl SecondFactorCrypto for TotpSecondFactor {
    fn new_totp_secret(&self, user: UserId) -> Result<NewTotpSecret, PortError> {
        let raw = random::<SECRET_BYTES>()?;
        let sealed = self
            .sealer
            .seal(&Self::name(user), &raw)
            .map_err(|e| PortError::Internal(format!("sealing a TOTP secret: {e}")))?;
        let base32 = Secret::from(raw.to_vec()).to_base32();
        Ok(NewTotpSecret { sealed, base32: SecretString::from(base32) })
    }

    fn totp_step(
        &self,
        user: UserId,
        sealed: &[u8],
        code: &TotpCode,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, PortError> {
        let raw = self
            .sealer
            .open(&Self::name(user), sealed)
            .map_err(|e| PortError::Internal(format!("opening a TOTP secret: {e}")))?;
        let totp = Builder::new()
            .with_secret(raw)
            .build()
            .map_err(|e| PortError::Internal(format!("a stored TOTP secret is unusable: {e:?}")))?;
        let Ok(now) = u64::try_from(now.timestamp()) else { return Ok(None) };
        Ok(totp.check(code.as_str(), now).and_then(|step| i64::try_from(step).ok()))
    }

    fn new_recovery_codes(&self, n: usize) -> Result<Vec<RecoveryCode>, PortError> {
        (0..n).map(|_| random::<RECOVERY_CODE_LEN>().map(RecoveryCode::from_random)).collect()
    }

    fn hash_recovery_code(&self, user: UserId, code: &RecoveryCode) -> TokenHash {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.recovery_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(user.to_string().as_bytes());
        mac.update(b":");
        mac.update(code.as_str().as_bytes());
        TokenHash(mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor() -> TotpSecondFactor {
        TotpSecondFactor::new(&SecretString::from("a-secret-key-of-at-least-32-bytes!!"))
    }

    #[test]
    fn rfc_6238_sha1_vector_is_accepted_at_its_step_only() {
        // RFC 6238, Appendix B: secret "12345678901234567890", T = 59 → 94287082 (8 digits), whose
        // last six digits are the 6-digit code.
        let f = factor();
        let user = UserId::new();
        let sealed = f.sealer.seal(&TotpSecondFactor::name(user), b"12345678901234567890").expect("seal");
        let at = |secs| DateTime::from_timestamp(secs, 0).expect("time");
        let code = TotpCode::parse("287082").expect("code");
        assert_eq!(f.totp_step(user, &sealed, &code, at(59)).expect("check"), Some(1));
        assert_eq!(f.totp_step(user, &sealed, &code, at(89)).expect("next step: skew"), Some(1));
        assert_eq!(f.totp_step(user, &sealed, &code, at(120)).expect("two steps later"), None);
        assert!(f.totp_step(UserId::new(), &sealed, &code, at(59)).is_err(), "sealed for its user");
    }

    #[test]
    fn secrets_are_160_bits_in_base32_and_sealed() {
        let f = factor();
        let made = f.new_totp_secret(UserId::new()).expect("secret");
        assert_eq!(made.base32.expose_secret().trim_end_matches('=').len(), 32);
        assert!(!made.sealed.windows(20).any(|w| made.base32.expose_secret().as_bytes().starts_with(w)));
    }

    #[test]
    fn recovery_code_hashes_are_keyed_and_bound_to_the_user() {
        let f = factor();
        let codes = f.new_recovery_codes(10).expect("codes");
        assert_eq!(codes.len(), 10);
        let user = UserId::new();
        let h = f.hash_recovery_code(user, &codes[0]);
        assert_eq!(h, f.hash_recovery_code(user, &codes[0]));
        assert_ne!(h, f.hash_recovery_code(UserId::new(), &codes[0]));
        let other = TotpSecondFactor::new(&SecretString::from("another-secret-key-of-32-bytes!!!!"));
        assert_ne!(h, other.hash_recovery_code(user, &codes[0]));
    }
}
