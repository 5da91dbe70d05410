use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use garde::Validate;
use hexgate_domain::{Email, FullName, Password, Permission, User, Username};
use hexgate_ports::{NewAccount, UserChanges};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::rule;

/// Names of the fixed permission set.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, ApiComponent, PartialEq, Eq)]
#[schemars(crate = "apistos")]
#[serde(rename_all = "snake_case")]
pub enum PermissionName {
    Admin,
    UserManager,
    CatalogManager,
}

impl From<PermissionName> for Permission {
    fn from(p: PermissionName) -> Self {
        match p {
            PermissionName::Admin => Self::Admin,
            PermissionName::UserManager => Self::UserManager,
            PermissionName::CatalogManager => Self::CatalogManager,
        }
    }
}

impl From<Permission> for PermissionName {
    fn from(p: Permission) -> Self {
        match p {
            Permission::Admin => Self::Admin,
            Permission::UserManager => Self::UserManager,
            Permission::CatalogManager => Self::CatalogManager,
        }
    }
}

const fn yes() -> bool {
    true
}

/// A new account. Unknown fields are ignored (and can never grant anything).
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos")]
#[schemars(example = serde_json::json!({"email": "ada@example.com", "username": "ada", "full_name": "Ada Lovelace", "password": "Analytical1"}))]
#[garde(allow_unvalidated)]
pub struct UserCreate {
    /// A valid address; stored lowercase and unique case-insensitively.
    #[garde(custom(rule(Email::parse)))]
    #[schemars(email, length(max = 254))]
    pub email: String,
    /// 3..=50 characters of `[a-zA-Z0-9_-]`; stored lowercase and unique.
    #[garde(custom(rule(Username::parse)))]
    #[schemars(extend("pattern" = Username::PATTERN), length(min = 3, max = 50))]
    pub username: String,
    #[serde(default)]
    #[garde(custom(rule(FullName::parse)))]
    #[schemars(length(max = 100))]
    pub full_name: String,
    #[serde(default = "yes")]
    pub is_active: bool,
    /// 8..=128 characters with an upper-case letter (A-Z) and a digit (0-9).
    #[garde(custom(rule(Password::parse)))]
    #[schemars(extend("pattern" = Password::PATTERN, "format" = "password", "writeOnly" = true), length(min = 8, max = 128))]
    pub password: String,
}

impl UserCreate {
    /// Valid by construction once garde has passed; the parses cannot fail here.
    pub(crate) fn into_account(self) -> Result<NewAccount, crate::ApiError> {
        let invalid = |e: &dyn std::fmt::Display| {
            crate::ApiError::from(hexgate_ports::ServiceError::Internal(format!(
                "validated field failed to parse: {e}"
            )))
        };
        Ok(NewAccount {
            email: Email::parse(&self.email).map_err(|e| invalid(&e))?,
            username: Username::parse(&self.username).map_err(|e| invalid(&e))?,
            full_name: FullName::parse(&self.full_name).map_err(|e| invalid(&e))?,
            is_active: self.is_active,
            password: Password::parse(&self.password).map_err(|e| invalid(&e))?,
        })
    }
}

fn optional<T, E: hexgate_domain::RuleViolation>(
    parse: impl Fn(&str) -> Result<T, E>,
) -> impl FnOnce(&Option<String>, &()) -> garde::Result {
    move |value, ctx| match value {
        Some(v) => rule(parse)(v, ctx),
        None => Ok(()),
    }
}

/// A partial change: only given fields change; any other field is refused.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"full_name": "Ada King"}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct UserPatch {
    #[garde(custom(optional(Email::parse)))]
    #[schemars(email, length(max = 254))]
    pub email: Option<String>,
    #[garde(custom(optional(FullName::parse)))]
    #[schemars(length(max = 100))]
    pub full_name: Option<String>,
    pub is_active: Option<bool>,
}

impl UserPatch {
    pub(crate) fn into_changes(self) -> UserChanges {
        UserChanges {
            email: self.email.as_deref().and_then(|e| Email::parse(e).ok()),
            full_name: self.full_name.as_deref().and_then(|n| FullName::parse(n).ok()),
            is_active: self.is_active,
        }
    }
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"permissions": ["user_manager"]}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct PermissionsUpdate {
    pub permissions: Vec<PermissionName>,
}

/// 1..=100 accounts, created all or none.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos")]
#[serde(transparent)]
#[garde(transparent)]
pub struct BatchCreate(
    #[garde(length(min = 1, max = 100), dive)]
    #[schemars(length(min = 1, max = 100))]
    pub Vec<UserCreate>,
);

/// A user as clients see it: never a password or a hash.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[schemars(example = serde_json::json!({"id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b", "email": "ada@example.com",
    "username": "ada", "full_name": "Ada Lovelace", "is_active": true, "is_verified": false, "permissions": [],
    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}))]
pub struct UserResponse {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub full_name: String,
    pub is_active: bool,
    pub is_verified: bool,
    pub permissions: Vec<PermissionName>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self {
            id: u.id.as_uuid(),
            email: u.email.to_string(),
            username: u.username.to_string(),
            full_name: u.full_name.as_str().to_owned(),
            is_active: u.is_active,
            is_verified: u.is_verified,
            permissions: u.permissions.iter().map(PermissionName::from).collect(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos")]
#[garde(allow_unvalidated)]
pub struct UserListQuery {
    /// ≥ 1; a page past the end is empty.
    #[serde(default = "first_page")]
    #[garde(range(min = 1, max = 1_000_000))]
    #[schemars(range(min = 1))]
    pub page: u64,
    #[serde(default = "default_page_size")]
    #[garde(range(min = 1, max = 100))]
    #[schemars(range(min = 1, max = 100))]
    pub page_size: u64,
    /// Substring of username, e-mail or full name (case-insensitive).
    #[garde(length(max = 100))]
    #[schemars(length(max = 100))]
    pub q: Option<String>,
    pub is_active: Option<bool>,
    #[serde(default)]
    pub sort: UserSortName,
}

pub(crate) const fn first_page() -> u64 {
    1
}
pub(crate) const fn default_page_size() -> u64 {
    20
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub enum UserSortName {
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "username")]
    Username,
    #[serde(rename = "-username")]
    UsernameDesc,
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "-email")]
    EmailDesc,
}

impl From<UserSortName> for hexgate_domain::UserSort {
    fn from(s: UserSortName) -> Self {
        match s {
            UserSortName::CreatedAt => Self::CreatedAt,
            UserSortName::CreatedAtDesc => Self::CreatedAtDesc,
            UserSortName::Username => Self::Username,
            UserSortName::UsernameDesc => Self::UsernameDesc,
            UserSortName::Email => Self::Email,
            UserSortName::EmailDesc => Self::EmailDesc,
        }
    }
}

/// A user id in the path.
#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct UserPath {
    pub id: Uuid,
}
