//! Passkeys (WebAuthn credentials) as the account sees them: an id, a name the user chose, when
//! they were added and last used. The credential itself (public key, sign count) is the WebAuthn
//! adapter's business; verifying ceremonies never happens in the domain.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::UserId;

/// How long a started WebAuthn ceremony (registration or login) may be finished.
#[must_use]
pub fn ceremony_ttl() -> Duration {
    Duration::minutes(5)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PasskeyId(Uuid);

impl PasskeyId {
    #[must_use]
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    #[must_use]
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    #[must_use]
    pub fn as_uuid(self) -> Uuid {
        self.0
    }
}

impl Default for PasskeyId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for PasskeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

crate::text::visible_name!(
    /// A passkey's name: 1..=100 characters once trimmed, no control characters.
    PasskeyName,
    PasskeyNameError,
    "passkey_name",
    100
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passkey {
    pub id: PasskeyId,
    pub user_id: UserId,
    pub name: PasskeyName,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Which WebAuthn ceremony a stored challenge belongs to; a challenge finishes only its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    Registration,
    Login,
}

impl CeremonyKind {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Login => "login",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(PasskeyName::parse("  laptop ").expect("ok").as_str(), "laptop");
        assert_eq!(PasskeyName::parse(" "), Err(PasskeyNameError::Empty));
        assert_eq!(PasskeyName::parse(&"x".repeat(101)), Err(PasskeyNameError::TooLong { max: 100 }));
        assert_eq!(PasskeyName::parse("a\u{7}b"), Err(PasskeyNameError::Control));
    }
}
