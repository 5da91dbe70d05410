use thiserror::Error;

use crate::RuleViolation;

/// A display name: 0..=100 characters, surrounding whitespace trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FullName(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FullNameError {
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
}

impl RuleViolation for FullNameError {
    fn code(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "full_name_too_long",
            Self::ControlCharacter => "full_name_control_character",
        }
    }
}

impl FullName {
    pub const MAX_LEN: usize = 100;
    /// The rule as a JSON Schema `pattern` (ECMA-262), for the published document: the white space
    /// that parsing trims may surround the name, and what remains holds no control character.
    pub const PATTERN: &'static str = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u001F\u007F-\u009F]*[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";

    /// # Errors
    /// [`FullNameError`] naming the rule the input breaks.
    pub fn parse(raw: &str) -> Result<Self, FullNameError> {
        // Counted as sent, surrounding white space included, so the published `maxLength` and
        // this rule agree on every input.
        if raw.chars().count() > Self::MAX_LEN {
            return Err(FullNameError::TooLong { max: Self::MAX_LEN });
        }
        let value = raw.trim();
        if value.chars().count() > Self::MAX_LEN {
            return Err(FullNameError::TooLong { max: Self::MAX_LEN });
        }
        if value.chars().any(char::is_control) {
            return Err(FullNameError::ControlCharacter);
        }
        Ok(Self(value.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_allowed_and_whitespace_is_trimmed() {
        assert_eq!(FullName::parse("").expect("ok").as_str(), "");
        assert_eq!(FullName::parse("  Ada Lovelace ").expect("ok").as_str(), "Ada Lovelace");
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(FullName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(FullName::parse(&"é".repeat(101)), Err(FullNameError::TooLong { max: 100 }));
        // Counted as sent: surrounding white space counts too, as the published maxLength does.
        assert_eq!(FullName::parse(&format!("x{}", " ".repeat(100))), Err(FullNameError::TooLong { max: 100 }));
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(FullName::parse("a\u{0}b"), Err(FullNameError::ControlCharacter));
    }
}
