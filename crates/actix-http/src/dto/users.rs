use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use garde::Validate;
use hexgate_domain::{Email, FullName, Password, Permission, User, Username};
use hexgate_ports::{NewAccount, UserChanges};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hexgate_domain::PermissionSet;
use hexgate_ports::FieldViolation;

use crate::extract::{IntoDomain, Rules};

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
    #[schemars(email, length(max = 254))]
    pub email: String,
    /// 3..=50 characters of `[a-zA-Z0-9_-]`; stored lowercase and unique.
    #[schemars(extend("pattern" = Username::PATTERN), length(min = 3, max = 50))]
    pub username: String,
    #[serde(default)]
    #[schemars(extend("pattern" = FullName::PATTERN), length(max = 100))]
    pub full_name: String,
    #[serde(default = "yes")]
    pub is_active: bool,
    /// 8..=128 characters with an upper-case letter (A-Z) and a digit (0-9).
    #[schemars(extend("pattern" = Password::PATTERN, "format" = "password", "writeOnly" = true), length(min = 8, max = 128))]
    pub password: String,
}

impl UserCreate {
    fn check(self, rules: &mut Rules) -> Option<NewAccount> {
        let email = rules.check("email", Email::parse(&self.email));
        let username = rules.check("username", Username::parse(&self.username));
        let full_name = rules.check("full_name", FullName::parse(&self.full_name));
        let password = rules.check("password", Password::parse(&self.password));
        Some(NewAccount {
            email: email?,
            username: username?,
            full_name: full_name?,
            is_active: self.is_active,
            password: password?,
        })
    }
}

impl IntoDomain for UserCreate {
    type Domain = NewAccount;

    fn into_domain(self) -> Result<NewAccount, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let account = self.check(&mut rules);
        rules.finish(|| account)
    }
}

/// A partial change: only given fields change; any other field is refused.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"full_name": "Ada King"}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct UserPatch {
    #[schemars(email, length(max = 254))]
    pub email: Option<String>,
    #[schemars(extend("pattern" = FullName::PATTERN), length(max = 100))]
    pub full_name: Option<String>,
    pub is_active: Option<bool>,
}

impl IntoDomain for UserPatch {
    type Domain = UserChanges;

    fn into_domain(self) -> Result<UserChanges, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let email = rules.check_optional("email", self.email.as_deref().map(Email::parse));
        let full_name = rules.check_optional("full_name", self.full_name.as_deref().map(FullName::parse));
        rules.finish(|| Some(UserChanges { email: email?, full_name: full_name?, is_active: self.is_active }))
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
    /// ≥ 1 (default 1); a page past the end is empty. Not with `cursor`.
    #[garde(range(min = 1, max = 1_000_000))]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub page: Option<u64>,
    #[serde(default = "default_page_size")]
    #[garde(range(min = 1, max = 100))]
    #[schemars(range(min = 1, max = 100))]
    pub page_size: u64,
    /// A page's `next_cursor`, for the page after it (instead of `page`), with the same `q`,
    /// `is_active` and `sort`. Opaque.
    #[garde(length(max = 1024))]
    #[schemars(length(max = 1024))]
    pub cursor: Option<String>,
    /// Substring of username, e-mail or full name (case-insensitive).
    #[garde(length(max = 100))]
    #[schemars(length(max = 100))]
    pub q: Option<String>,
    pub is_active: Option<bool>,
    #[serde(default)]
    pub sort: UserSortName,
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

impl IntoDomain for BatchCreate {
    type Domain = Vec<NewAccount>;

    fn into_domain(self) -> Result<Vec<NewAccount>, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let mut accounts = Vec::with_capacity(self.0.len());
        for (i, create) in self.0.into_iter().enumerate() {
            let mut item = Rules::under(i);
            accounts.push(create.check(&mut item));
            rules.absorb(item.into_violations());
        }
        rules.finish(|| accounts.into_iter().collect())
    }
}

impl IntoDomain for PermissionsUpdate {
    type Domain = PermissionSet;

    fn into_domain(self) -> Result<PermissionSet, Vec<FieldViolation>> {
        Ok(self.permissions.into_iter().map(Permission::from).collect())
    }
}

/// A users list query as the use case takes it.
pub(crate) struct UserListing {
    pub page: hexgate_domain::PageRequest,
    pub filter: hexgate_domain::UserFilter,
}

impl IntoDomain for UserListQuery {
    type Domain = UserListing;

    fn into_domain(self) -> Result<UserListing, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let page = super::page_request(&mut rules, self.page, self.page_size, self.cursor);
        let filter = hexgate_domain::UserFilter { q: self.q, is_active: self.is_active, sort: self.sort.into() };
        rules.finish(|| Some(UserListing { page: page?, filter }))
    }
}

#[cfg(test)]
mod tests {
    use hexgate_domain::FullName;

    #[test]
    fn the_published_full_name_pattern_accepts_exactly_what_the_domain_accepts() {
        let schema = serde_json::json!({"type": "string", "pattern": FullName::PATTERN});
        let validator = jsonschema::validator_for(&schema).expect("the pattern compiles");
        for sample in [
            "Ada",
            "  Ada King  ",
            "\tAda\n",
            "A\tB",
            "\u{85}Ada",
            "Ada\u{1}",
            "\u{7f}",
            "x\u{90}y",
            "\u{3000}Ada\u{3000}",
            "",
            "\u{1f} Ada",
            "Zoë\u{a0}Ø",
            "a\r\nb",
        ] {
            assert_eq!(validator.is_valid(&serde_json::json!(sample)), FullName::parse(sample).is_ok(), "{sample:?}");
        }
    }
}
