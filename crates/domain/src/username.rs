use std::fmt;

use thiserror::Error;

use crate::RuleViolation;

/// 3..=50 characters of `[a-zA-Z0-9_-]`, stored lowercase (so `Alice` and `alice` are one name).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UsernameError {
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("may contain only letters, digits, '_' and '-'")]
    InvalidCharacter,
}

impl RuleViolation for UsernameError {
    fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "username_too_short",
            Self::TooLong { .. } => "username_too_long",
            Self::InvalidCharacter => "username_invalid_character",
        }
    }
}

impl Username {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 50;
    /// The same rule as [`Username::parse`], for documents (OpenAPI) that describe it.
    pub const PATTERN: &'static str = "^[a-zA-Z0-9_-]{3,50}$";

    /// # Errors
    /// [`UsernameError`] naming the rule the input breaks.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(UsernameError::InvalidCharacter);
        }
        // All characters are ASCII here, so bytes and characters agree.
        if raw.len() < Self::MIN_LEN {
            return Err(UsernameError::TooShort { min: Self::MIN_LEN });
        }
        if raw.len() > Self::MAX_LEN {
            return Err(UsernameError::TooLong { max: Self::MAX_LEN });
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_is_stored_lowercase() {
        assert_eq!(Username::parse("Alice_01-x").expect("valid").as_str(), "alice_01-x");
    }

    #[test]
    fn length_bounds_are_inclusive() {
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(50)).is_ok());
        assert_eq!(Username::parse("ab"), Err(UsernameError::TooShort { min: 3 }));
        assert_eq!(Username::parse(&"a".repeat(51)), Err(UsernameError::TooLong { max: 50 }));
    }

    #[test]
    fn anything_outside_the_alphabet_is_refused() {
        for bad in ["al ice", "alice!", "élodie", "a.b.c", "../../etc"] {
            assert_eq!(Username::parse(bad), Err(UsernameError::InvalidCharacter), "{bad:?}");
        }
    }
}
