use std::fmt;

use thiserror::Error;

use crate::RuleViolation;

/// A plain-text password that passed the policy. It never prints: `Debug` is redacted and there is
/// no `Display`, so it cannot reach a log line by accident.
#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordError {
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must contain an upper-case letter (A-Z)")]
    MissingUppercase,
    #[error("must contain a digit (0-9)")]
    MissingDigit,
}

impl RuleViolation for PasswordError {
    fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password_too_short",
            Self::TooLong { .. } => "password_too_long",
            Self::MissingUppercase => "password_uppercase",
            Self::MissingDigit => "password_digit",
        }
    }
}

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;
    /// The policy as an ECMA-262 pattern, for the OpenAPI document; [`Password::parse`] is the
    /// same rule in code (the `regex` crate has no look-ahead, so it is not used to check).
    pub const PATTERN: &'static str = "^(?=.*[A-Z])(?=.*[0-9]).{8,128}$";

    /// Checks the policy: 8..=128 characters with an ASCII upper-case letter and an ASCII digit.
    ///
    /// # Errors
    /// The first [`PasswordError`] the input breaks, length first.
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(PasswordError::TooShort { min: Self::MIN_LEN });
        }
        if len > Self::MAX_LEN {
            return Err(PasswordError::TooLong { max: Self::MAX_LEN });
        }
        if !raw.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(PasswordError::MissingUppercase);
        }
        if !raw.chars().any(|c| c.is_ascii_digit()) {
            return Err(PasswordError::MissingDigit);
        }
        Ok(Self(raw.to_owned()))
    }

    /// A candidate typed at a login prompt: no policy (old passwords may predate it), but it is
    /// still a secret and must not print.
    #[must_use]
    pub fn candidate(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    /// The secret itself, for the one place that hashes or verifies it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A password hash in PHC string format. Only hashers read it; it never prints either.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    #[must_use]
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    #[must_use]
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_needs_length_an_uppercase_letter_and_a_digit() {
        assert!(Password::parse("Secret123").is_ok());
        assert_eq!(Password::parse("Sec1").unwrap_err(), PasswordError::TooShort { min: 8 });
        assert_eq!(Password::parse("secret123").unwrap_err(), PasswordError::MissingUppercase);
        assert_eq!(Password::parse("SecretABC").unwrap_err(), PasswordError::MissingDigit);
        let long = format!("A1{}", "x".repeat(127));
        assert_eq!(Password::parse(&long).unwrap_err(), PasswordError::TooLong { max: 128 });
        assert!(Password::parse(&format!("A1{}", "x".repeat(126))).is_ok());
    }

    #[test]
    fn error_codes_are_stable() {
        assert_eq!(PasswordError::MissingDigit.code(), "password_digit");
        assert_eq!(PasswordError::MissingUppercase.code(), "password_uppercase");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let password = Password::parse("Secret123").expect("valid");
        assert!(!format!("{password:?}").contains("Secret123"));
        let hash = PasswordHash::from_phc("$argon2id$v=19$secret".into());
        assert!(!format!("{hash:?}").contains("argon2id"));
    }
}
