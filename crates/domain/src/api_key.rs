//! API keys (personal access tokens): what a key is allowed to do (its scopes) and the rules for
//! its name. The secret itself never reaches the domain: adapters make it and keep only its hash.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use thiserror::Error;
use uuid::Uuid;

use crate::{RuleViolation, UserId};

/// What every key starts with, so secret scanners and people recognise one.
pub const KEY_PREFIX: &str = "hgk_";
/// How many leading characters of a key are kept in clear to recognise it (`hgk_` included).
pub const SHOWN_PREFIX_LEN: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiKeyId(Uuid);

impl ApiKeyId {
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

impl Default for ApiKeyId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a key may be used for. A `:write` scope includes the `:read` of the same resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    ProfileRead,
    ProfileWrite,
    OrdersRead,
    OrdersWrite,
    FilesRead,
    FilesWrite,
    ProductsWrite,
    UsersRead,
    UsersWrite,
    OrgsRead,
    OrgsWrite,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

impl RuleViolation for UnknownScope {
    fn code(&self) -> &'static str {
        "scope_unknown"
    }
}

impl Scope {
    pub const ALL: [Self; 11] = [
        Self::ProfileRead,
        Self::ProfileWrite,
        Self::OrdersRead,
        Self::OrdersWrite,
        Self::FilesRead,
        Self::FilesWrite,
        Self::ProductsWrite,
        Self::UsersRead,
        Self::UsersWrite,
        Self::OrgsRead,
        Self::OrgsWrite,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProfileRead => "profile:read",
            Self::ProfileWrite => "profile:write",
            Self::OrdersRead => "orders:read",
            Self::OrdersWrite => "orders:write",
            Self::FilesRead => "files:read",
            Self::FilesWrite => "files:write",
            Self::ProductsWrite => "products:write",
            Self::UsersRead => "users:read",
            Self::UsersWrite => "users:write",
            Self::OrgsRead => "orgs:read",
            Self::OrgsWrite => "orgs:write",
        }
    }

    /// What the scope lets a key do, in a sentence (for the OpenAPI document).
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::ProfileRead => "read your account (GET /users/me, GET /users/{your id}) and preferences",
            Self::ProfileWrite => "change your account (PATCH /users/me) and preferences; includes profile:read",
            Self::OrdersRead => "list and read your orders (or all, for an admin)",
            Self::OrdersWrite => "place and cancel orders; includes orders:read",
            Self::FilesRead => "read your files, their content and their processing tasks",
            Self::FilesWrite => "upload and delete files; includes files:read",
            Self::ProductsWrite => "create, change and delete products (with catalog rights)",
            Self::UsersRead => "list and read other users (with user-manager or admin rights)",
            Self::UsersWrite => {
                "create, change, delete users and set permissions (with admin rights); includes users:read"
            }
            Self::OrgsRead => "list your organizations and read those you belong to, their members and invitations",
            Self::OrgsWrite => {
                "create, change and delete organizations, manage members and invitations, accept invitations \
                 (within your role); includes orgs:read"
            }
        }
    }

    /// The `:read` scope a `:write` scope includes.
    #[must_use]
    pub const fn implied_read(self) -> Option<Self> {
        match self {
            Self::ProfileWrite => Some(Self::ProfileRead),
            Self::OrdersWrite => Some(Self::OrdersRead),
            Self::FilesWrite => Some(Self::FilesRead),
            Self::UsersWrite => Some(Self::UsersRead),
            Self::OrgsWrite => Some(Self::OrgsRead),
            _ => None,
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// The scopes a key was granted, as given (no implied ones added).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u16);

impl ScopeSet {
    pub const EMPTY: Self = Self(0);

    #[must_use]
    pub const fn with(self, scope: Scope) -> Self {
        Self(self.0 | scope.bit())
    }

    #[must_use]
    pub const fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a key with these scopes may do what `needed` names: it holds `needed`, or the
    /// `:write` scope of the same resource.
    #[must_use]
    pub fn allows(self, needed: Scope) -> bool {
        self.contains(needed) || self.iter().any(|held| held.implied_read() == Some(needed))
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Scope names in the fixed order of [`Scope::ALL`].
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Scope::as_str).collect()
    }

    /// The stored form: names separated by single spaces.
    #[must_use]
    pub fn to_text(self) -> String {
        self.names().join(" ")
    }

    /// Reads the stored form back; unknown names (a scope since removed) are dropped, never granted.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        text.split_whitespace().filter_map(|s| s.parse().ok()).fold(Self::EMPTY, Self::with)
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

crate::text::visible_name!(
    /// A key's name: 1..=100 characters, trimmed, no control characters.
    ApiKeyName,
    ApiKeyNameError,
    "api_key_name",
    100
);

/// A key as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: ApiKeyName,
    pub scopes: ScopeSet,
    /// The key's first [`SHOWN_PREFIX_LEN`] characters, `hgk_` included.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    #[must_use]
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// `last_used_at` is written at most once per `interval`: whether this use should write it.
    #[must_use]
    pub fn use_is_worth_recording(&self, now: DateTime<Utc>, interval: chrono::Duration) -> bool {
        self.last_used_at.is_none_or(|last| last <= now - interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_scope_includes_the_read_of_its_resource_only() {
        let set = ScopeSet::EMPTY.with(Scope::OrdersWrite);
        assert!(set.allows(Scope::OrdersWrite) && set.allows(Scope::OrdersRead));
        assert!(!set.allows(Scope::FilesRead) && !set.allows(Scope::ProfileRead));
        let read = ScopeSet::EMPTY.with(Scope::UsersRead);
        assert!(read.allows(Scope::UsersRead) && !read.allows(Scope::UsersWrite));
    }

    #[test]
    fn scopes_round_trip_through_text_and_unknown_names_are_dropped() {
        let set: ScopeSet = [Scope::FilesRead, Scope::ProfileWrite].into_iter().collect();
        assert_eq!(ScopeSet::from_text(&set.to_text()), set);
        assert_eq!(ScopeSet::from_text("profile:read admin:all"), ScopeSet::EMPTY.with(Scope::ProfileRead));
        assert_eq!("users:write".parse::<Scope>(), Ok(Scope::UsersWrite));
        assert!("users:delete".parse::<Scope>().is_err());
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(ApiKeyName::parse("  ci  ").map(|n| n.as_str().to_owned()), Ok("ci".to_owned()));
        assert_eq!(ApiKeyName::parse("  "), Err(ApiKeyNameError::Empty));
        assert_eq!(ApiKeyName::parse(&"x".repeat(101)), Err(ApiKeyNameError::TooLong { max: 100 }));
        assert!(ApiKeyName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(ApiKeyName::parse("a\nb"), Err(ApiKeyNameError::Control));
    }
}
