use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Email, FullName, PasswordHash, PermissionSet, Username};

/// A user's id: a UUID v7, so ids sort by creation time and index well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Uuid);

impl UserId {
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

impl Default for UserId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for UserId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// A stored account. The hash is here because the auth service needs it; responses are built from
/// explicit fields and never include it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub username: Username,
    pub full_name: FullName,
    pub is_active: bool,
    pub is_verified: bool,
    pub permissions: PermissionSet,
    pub password_hash: PasswordHash,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An account to create: only valid parts can be put together.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub username: Username,
    pub full_name: FullName,
    pub is_active: bool,
    pub permissions: PermissionSet,
    pub password_hash: PasswordHash,
}

impl NewUser {
    /// The stored form of the account, as it is at `now`.
    #[must_use]
    pub fn into_user(self, id: UserId, now: DateTime<Utc>) -> User {
        User {
            id,
            email: self.email,
            username: self.username,
            full_name: self.full_name,
            is_active: self.is_active,
            is_verified: false,
            permissions: self.permissions,
            password_hash: self.password_hash,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A partial change: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub email: Option<Email>,
    pub full_name: Option<FullName>,
    pub is_active: Option<bool>,
    pub permissions: Option<PermissionSet>,
    pub password_hash: Option<PasswordHash>,
    pub is_verified: Option<bool>,
}

impl UserUpdate {
    /// The user after the change. A new e-mail address is unverified until proven again.
    #[must_use]
    pub fn apply(&self, user: &User, now: DateTime<Utc>) -> User {
        let mut after = user.clone();
        if let Some(email) = self.email.as_ref().filter(|e| **e != user.email) {
            after.email = email.clone();
            after.is_verified = false;
        }
        if let Some(full_name) = &self.full_name {
            after.full_name = full_name.clone();
        }
        if let Some(is_active) = self.is_active {
            after.is_active = is_active;
        }
        if let Some(permissions) = self.permissions {
            after.permissions = permissions;
        }
        if let Some(hash) = &self.password_hash {
            after.password_hash = hash.clone();
        }
        if let Some(verified) = self.is_verified {
            after.is_verified = verified;
        }
        after.updated_at = now;
        after
    }
}

/// Orders for the user list; the `-` variants are descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    #[default]
    CreatedAt,
    CreatedAtDesc,
    Username,
    UsernameDesc,
    Email,
    EmailDesc,
}

impl UserSort {
    pub const NAMES: [&'static str; 6] = ["created_at", "-created_at", "username", "-username", "email", "-email"];

    /// The sort's name in a query string (one of [`Self::NAMES`]).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::CreatedAtDesc => "-created_at",
            Self::Username => "username",
            Self::UsernameDesc => "-username",
            Self::Email => "email",
            Self::EmailDesc => "-email",
        }
    }

    #[must_use]
    pub const fn is_descending(self) -> bool {
        matches!(self, Self::CreatedAtDesc | Self::UsernameDesc | Self::EmailDesc)
    }

    /// Where `user` stands in a list sorted this way (before the id breaks a tie).
    #[must_use]
    pub fn key_of(self, user: &User) -> UserSortKey {
        match self {
            Self::CreatedAt | Self::CreatedAtDesc => UserSortKey::CreatedAt(user.created_at),
            Self::Username | Self::UsernameDesc => UserSortKey::Username(user.username.as_str().to_owned()),
            Self::Email | Self::EmailDesc => UserSortKey::Email(user.email.as_str().to_owned()),
        }
    }
}

/// The value of the sort's column for one user: what a users list is ordered by, then the id.
/// Usernames and e-mail addresses (stored lowercase) compare by their UTF-8 bytes, which is code
/// point order: what SQLite's `BINARY` and PostgreSQL's `"C"` collation do, and `str`'s `Ord`.
/// A locale's collation would put `a-b` after `ab`, differently on each database.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum UserSortKey {
    CreatedAt(DateTime<Utc>),
    Username(String),
    Email(String),
}

impl FromStr for UserSort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "created_at" => Self::CreatedAt,
            "-created_at" => Self::CreatedAtDesc,
            "username" => Self::Username,
            "-username" => Self::UsernameDesc,
            "email" => Self::Email,
            "-email" => Self::EmailDesc,
            other => return Err(format!("unknown sort {other:?}")),
        })
    }
}

/// Which users a list shows. `q` is matched as a case-insensitive substring of username, e-mail
/// or full name.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub is_active: Option<bool>,
    pub sort: UserSort,
}

impl UserFilter {
    /// `q` trimmed and lowercased; a blank `q` means no text filter.
    #[must_use]
    pub fn normalised_q(&self) -> Option<String> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn user_with(permissions: PermissionSet) -> User {
        let id = UserId::new();
        NewUser {
            email: Email::parse(&format!("{id}@example.com")).expect("valid"),
            username: Username::parse(&format!("u{}", &id.to_string()[..8])).expect("valid"),
            full_name: FullName::default(),
            is_active: true,
            permissions,
            password_hash: PasswordHash::from_phc("x".into()),
        }
        .into_user(id, Utc::now())
    }

    #[test]
    fn changing_the_email_clears_verification_but_setting_the_same_one_does_not() {
        let mut user = user_with(PermissionSet::EMPTY);
        user.is_verified = true;
        let same = UserUpdate { email: Some(user.email.clone()), ..UserUpdate::default() };
        assert!(same.apply(&user, Utc::now()).is_verified);
        let new = UserUpdate { email: Some(Email::parse("new@example.com").expect("valid")), ..UserUpdate::default() };
        let after = new.apply(&user, Utc::now());
        assert!(!after.is_verified);
        assert_eq!(after.email.as_str(), "new@example.com");
    }

    #[test]
    fn only_given_fields_change() {
        let user = user_with(PermissionSet::EMPTY);
        let update = UserUpdate { is_active: Some(false), ..UserUpdate::default() };
        let after = update.apply(&user, Utc::now());
        assert!(!after.is_active);
        assert_eq!(after.email, user.email);
        assert_eq!(after.full_name, user.full_name);
    }

    #[test]
    fn sort_names_parse_and_unknown_ones_do_not() {
        for name in UserSort::NAMES {
            let sort = name.parse::<UserSort>().expect("a sort");
            assert_eq!(sort.name(), name, "the name round-trips");
            assert_eq!(sort.is_descending(), name.starts_with('-'));
        }
        assert!("password".parse::<UserSort>().is_err());
    }

    #[test]
    fn a_blank_query_is_no_filter() {
        let filter = UserFilter { q: Some("  ".into()), ..UserFilter::default() };
        assert_eq!(filter.normalised_q(), None);
        let filter = UserFilter { q: Some(" Ada ".into()), ..UserFilter::default() };
        assert_eq!(filter.normalised_q().as_deref(), Some("ada"));
    }
}
