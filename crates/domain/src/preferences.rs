use std::str::FromStr;

use thiserror::Error;

use crate::RuleViolation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

impl Theme {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
            Self::System => "system",
        }
    }
}

impl FromStr for Theme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "light" => Ok(Self::Light),
            "dark" => Ok(Self::Dark),
            "system" => Ok(Self::System),
            other => Err(format!("unknown theme {other:?}")),
        }
    }
}

/// A BCP 47 language tag such as `en`, `pt-BR` or `zh-Hant`: 2..=35 characters of letters, digits
/// and hyphens, starting with a 2..=3-letter language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("must be a language tag such as en or pt-BR")]
pub struct LanguageError;

impl RuleViolation for LanguageError {
    fn code(&self) -> &'static str {
        "language_invalid"
    }
}

impl Language {
    /// # Errors
    /// [`LanguageError`] for anything that is not shaped like a language tag.
    pub fn parse(raw: &str) -> Result<Self, LanguageError> {
        let mut parts = raw.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok = (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
        let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if primary_ok && rest_ok && raw.len() <= 35 { Ok(Self(raw.to_owned())) } else { Err(LanguageError) }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's preferences; absent ones answer these defaults (`system`, `en`, notifications on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub theme: Theme,
    pub language: Language,
    pub notifications_enabled: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self { theme: Theme::System, language: Language("en".into()), notifications_enabled: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_checked_for_shape() {
        for ok in ["en", "pt-BR", "zh-Hant", "es-419", "deu"] {
            assert!(Language::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "e", "english", "en_US", "en-", "12", "en-toolongsubtag"] {
            assert!(Language::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_are_system_english_and_notifications_on() {
        let d = Preferences::default();
        assert_eq!((d.theme, d.language.as_str(), d.notifications_enabled), (Theme::System, "en", true));
    }
}
