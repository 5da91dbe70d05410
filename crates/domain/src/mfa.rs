//! Second factors: the codes a user types (a TOTP code, a recovery code) as values that cannot be
//! malformed, and the rules of an `mfa_token` (how many wrong codes it survives, how long it
//! lives). Computing and checking codes is the crypto adapter's work, not the domain's.

use std::fmt;

use chrono::Duration;
use thiserror::Error;

use crate::RuleViolation;

/// Wrong codes an `mfa_token` survives: the fifth kills it.
pub const MFA_TOKEN_MAX_ATTEMPTS: i32 = 5;

/// How long an `mfa_token` lives.
#[must_use]
pub fn mfa_token_ttl() -> Duration {
    Duration::minutes(5)
}

/// How many recovery codes a user gets at once.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// The characters of a recovery code: lower-case letters and digits without the look-alikes
/// `0`/`o` and `1`/`l`, 32 of them, so each character carries 5 bits.
pub const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// Characters in a recovery code (50 bits), shown as two groups of five (`abcde-fghjk`).
pub const RECOVERY_CODE_LEN: usize = 10;

/// A six-digit TOTP code as typed (spaces allowed between digits, as apps show `123 456`).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TotpCodeError {
    #[error("must be 6 digits")]
    Format,
}

impl RuleViolation for TotpCodeError {
    fn code(&self) -> &'static str {
        "totp_code_format"
    }
}

impl TotpCode {
    /// # Errors
    /// [`TotpCodeError::Format`] unless exactly six ASCII digits remain once spaces are removed.
    pub fn parse(raw: &str) -> Result<Self, TotpCodeError> {
        let digits: String = raw.chars().filter(|c| *c != ' ').collect();
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(TotpCodeError::Format)
        }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpCode(<redacted>)")
    }
}

/// A recovery code, normalised: lower case, without the dash or spaces a user may type.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RecoveryCodeError {
    #[error("must be 10 letters and digits, as shown when the codes were made")]
    Format,
}

impl RuleViolation for RecoveryCodeError {
    fn code(&self) -> &'static str {
        "recovery_code_format"
    }
}

impl RecoveryCode {
    /// # Errors
    /// [`RecoveryCodeError::Format`] unless [`RECOVERY_CODE_LEN`] characters of
    /// [`RECOVERY_ALPHABET`] remain once dashes and spaces are removed and case is folded.
    pub fn parse(raw: &str) -> Result<Self, RecoveryCodeError> {
        let code: String = raw.chars().filter(|c| *c != '-' && *c != ' ').map(|c| c.to_ascii_lowercase()).collect();
        if code.len() == RECOVERY_CODE_LEN && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
            Ok(Self(code))
        } else {
            Err(RecoveryCodeError::Format)
        }
    }

    /// A code made from [`RECOVERY_CODE_LEN`] random bytes (each byte picks one character).
    #[must_use]
    pub fn from_random(bytes: [u8; RECOVERY_CODE_LEN]) -> Self {
        Self(bytes.iter().map(|b| char::from(RECOVERY_ALPHABET[usize::from(b % 32)])).collect())
    }

    /// The normalised form (what is hashed).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As shown to the user: `abcde-fghjk`.
    #[must_use]
    pub fn display(&self) -> String {
        let (a, b) = self.0.split_at(RECOVERY_CODE_LEN / 2);
        format!("{a}-{b}")
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

/// What the second step of a login presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactorProof {
    Totp(TotpCode),
    Recovery(RecoveryCode),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_codes_are_six_digits_spaces_aside() {
        assert_eq!(TotpCode::parse("123456").expect("ok").as_str(), "123456");
        assert_eq!(TotpCode::parse("123 456").expect("ok").as_str(), "123456");
        for bad in ["12345", "1234567", "12345a", "", "١٢٣٤٥٦"] {
            assert_eq!(TotpCode::parse(bad), Err(TotpCodeError::Format), "{bad}");
        }
        assert_eq!(format!("{:?}", TotpCode::parse("123456").expect("ok")), "TotpCode(<redacted>)");
    }

    #[test]
    fn recovery_codes_are_normalised_and_shown_in_two_groups() {
        let code = RecoveryCode::from_random([0, 1, 2, 3, 4, 5, 6, 7, 8, 31]);
        assert_eq!(code.as_str().len(), RECOVERY_CODE_LEN);
        let shown = code.display();
        assert_eq!(shown.len(), RECOVERY_CODE_LEN + 1);
        assert_eq!(RecoveryCode::parse(&shown.to_uppercase()).expect("typed back"), code);
        assert_eq!(RecoveryCode::parse("abcde fghjk").expect("spaces").as_str(), "abcdefghjk");
        for bad in ["abcde-fghj", "abcde-fghjkm", "abcde-fghj0", "abcde-fghjl"] {
            assert_eq!(RecoveryCode::parse(bad), Err(RecoveryCodeError::Format), "{bad}");
        }
    }
}
