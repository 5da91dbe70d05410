use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use garde::Validate;
use hexgate_domain::api_key::{ApiKey, ApiKeyName, Scope};
use hexgate_ports::{CreatedApiKey, FieldViolation, NewApiKey};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{IntoDomain, Rules};

/// What an API key may be used for. A `:write` scope includes the `:read` of the same resource;
/// a key's rights are its scopes intersected with its owner's permissions at the time of use.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, ApiComponent, PartialEq, Eq)]
#[schemars(crate = "apistos")]
pub enum ScopeName {
    #[serde(rename = "profile:read")]
    ProfileRead,
    #[serde(rename = "profile:write")]
    ProfileWrite,
    #[serde(rename = "orders:read")]
    OrdersRead,
    #[serde(rename = "orders:write")]
    OrdersWrite,
    #[serde(rename = "files:read")]
    FilesRead,
    #[serde(rename = "files:write")]
    FilesWrite,
    #[serde(rename = "products:write")]
    ProductsWrite,
    #[serde(rename = "users:read")]
    UsersRead,
    #[serde(rename = "users:write")]
    UsersWrite,
    #[serde(rename = "orgs:read")]
    OrgsRead,
    #[serde(rename = "orgs:write")]
    OrgsWrite,
}

impl From<ScopeName> for Scope {
    fn from(s: ScopeName) -> Self {
        match s {
            ScopeName::ProfileRead => Self::ProfileRead,
            ScopeName::ProfileWrite => Self::ProfileWrite,
            ScopeName::OrdersRead => Self::OrdersRead,
            ScopeName::OrdersWrite => Self::OrdersWrite,
            ScopeName::FilesRead => Self::FilesRead,
            ScopeName::FilesWrite => Self::FilesWrite,
            ScopeName::ProductsWrite => Self::ProductsWrite,
            ScopeName::UsersRead => Self::UsersRead,
            ScopeName::UsersWrite => Self::UsersWrite,
            ScopeName::OrgsRead => Self::OrgsRead,
            ScopeName::OrgsWrite => Self::OrgsWrite,
        }
    }
}

impl From<Scope> for ScopeName {
    fn from(s: Scope) -> Self {
        match s {
            Scope::ProfileRead => Self::ProfileRead,
            Scope::ProfileWrite => Self::ProfileWrite,
            Scope::OrdersRead => Self::OrdersRead,
            Scope::OrdersWrite => Self::OrdersWrite,
            Scope::FilesRead => Self::FilesRead,
            Scope::FilesWrite => Self::FilesWrite,
            Scope::ProductsWrite => Self::ProductsWrite,
            Scope::UsersRead => Self::UsersRead,
            Scope::UsersWrite => Self::UsersWrite,
            Scope::OrgsRead => Self::OrgsRead,
            Scope::OrgsWrite => Self::OrgsWrite,
        }
    }
}

/// A key to make. `expires_in_days` absent or null: the key never expires.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"name": "nightly export", "scopes": ["orders:read"], "expires_in_days": 90}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct ApiKeyCreate {
    /// 1..=100 characters, not all white space (it is trimmed), no control characters.
    #[schemars(extend("pattern" = ApiKeyName::PATTERN), length(min = 1, max = 100))]
    pub name: String,
    #[garde(length(min = 1))]
    #[schemars(length(min = 1))]
    pub scopes: Vec<ScopeName>,
    #[garde(inner(range(min = 1, max = 365)))]
    #[schemars(range(min = 1, max = 365))]
    #[serde(default)]
    pub expires_in_days: Option<u16>,
}

impl IntoDomain for ApiKeyCreate {
    type Domain = NewApiKey;

    fn into_domain(self) -> Result<NewApiKey, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let name = rules.check("name", ApiKeyName::parse(&self.name));
        let scopes = self.scopes.into_iter().map(Scope::from).collect();
        rules.finish(|| Some(NewApiKey { name: name?, scopes, expires_in_days: self.expires_in_days }))
    }
}

/// A key as listed: never its secret.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b", "name": "nightly export",
    "scopes": ["orders:read"], "prefix": "hgk_Xk3v9QaZ", "created_at": "2026-01-01T00:00:00Z",
    "expires_at": "2026-04-01T00:00:00Z", "last_used_at": null}))]
pub struct ApiKeyResponse {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<ScopeName>,
    /// The key's first 12 characters (`hgk_` included), to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    /// `null`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Kept to within a minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyResponse {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id.as_uuid(),
            name: k.name.as_str().to_owned(),
            scopes: k.scopes.iter().map(ScopeName::from).collect(),
            prefix: k.prefix,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// A key just made, with its secret: shown this once, stored only as a hash.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b", "name": "nightly export",
    "scopes": ["orders:read"], "prefix": "hgk_Xk3v9QaZ", "created_at": "2026-01-01T00:00:00Z",
    "expires_at": "2026-04-01T00:00:00Z", "last_used_at": null,
    "key": "hgk_Xk3v9QaZ0mJ2cV7pL4tR8yW1eB6nD5sF3gH9kA2uQ0o"}))]
pub struct ApiKeyCreated {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<ScopeName>,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `hgk_` and 43 URL-safe characters. Send it as `Authorization: Bearer <key>`; it is never
    /// shown again.
    pub key: String,
}

impl From<CreatedApiKey> for ApiKeyCreated {
    fn from(created: CreatedApiKey) -> Self {
        let listed = ApiKeyResponse::from(created.key);
        Self {
            id: listed.id,
            name: listed.name,
            scopes: listed.scopes,
            prefix: listed.prefix,
            created_at: listed.created_at,
            expires_at: listed.expires_at,
            last_used_at: listed.last_used_at,
            key: created.secret.expose_secret().to_owned(),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct ApiKeyPath {
    pub id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_are_the_domains() {
        for scope in Scope::ALL {
            let name = serde_json::to_value(ScopeName::from(scope)).expect("json");
            assert_eq!(name, scope.as_str());
            assert_eq!(Scope::from(ScopeName::from(scope)), scope);
        }
    }
}
