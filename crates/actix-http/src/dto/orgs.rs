use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use garde::Validate;
use hexgate_domain::Email;
use hexgate_domain::org::{Invitation, Membership, OrgName, OrgRole, OrgSlug};
use hexgate_ports::{FieldViolation, IssuedAccessToken, MemberView, NewInvitation, NewOrganization, OrgView};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{IntoDomain, Rules};

/// A member's role in an organization.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, ApiComponent, PartialEq, Eq)]
#[schemars(crate = "apistos")]
#[serde(rename_all = "lowercase")]
pub enum OrgRoleName {
    Owner,
    Admin,
    Member,
}

impl From<OrgRoleName> for OrgRole {
    fn from(r: OrgRoleName) -> Self {
        match r {
            OrgRoleName::Owner => Self::Owner,
            OrgRoleName::Admin => Self::Admin,
            OrgRoleName::Member => Self::Member,
        }
    }
}

impl From<OrgRole> for OrgRoleName {
    fn from(r: OrgRole) -> Self {
        match r {
            OrgRole::Owner => Self::Owner,
            OrgRole::Admin => Self::Admin,
            OrgRole::Member => Self::Member,
        }
    }
}

/// A new organization; the caller becomes its owner.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"name": "Acme Corp", "slug": "acme"}))]
#[garde(allow_unvalidated)]
pub struct OrgCreate {
    /// 1..=100 characters (trimmed), no control characters.
    #[schemars(extend("pattern" = OrgName::PATTERN), length(min = 1, max = 100))]
    pub name: String,
    /// 3..=40 characters of `[a-z0-9-]`, unique.
    #[schemars(extend("pattern" = OrgSlug::PATTERN), length(min = 3, max = 40))]
    pub slug: String,
}

impl IntoDomain for OrgCreate {
    type Domain = NewOrganization;

    fn into_domain(self) -> Result<NewOrganization, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let name = rules.check("name", OrgName::parse(&self.name));
        let slug = rules.check("slug", OrgSlug::parse(&self.slug));
        rules.finish(|| Some(NewOrganization { name: name?, slug: slug? }))
    }
}

/// A change of an organization: its name (the slug stays). Any other field is refused.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"name": "Acme Corporation"}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct OrgPatch {
    /// 1..=100 characters (trimmed), no control characters.
    #[schemars(extend("pattern" = OrgName::PATTERN), length(min = 1, max = 100))]
    pub name: String,
}

impl IntoDomain for OrgPatch {
    type Domain = OrgName;

    fn into_domain(self) -> Result<OrgName, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let name = rules.check("name", OrgName::parse(&self.name));
        rules.finish(|| name)
    }
}

/// An organization with the caller's role in it.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b", "name": "Acme Corp",
    "slug": "acme", "created_at": "2026-01-01T00:00:00Z", "role": "owner"}))]
pub struct OrgResponse {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
    /// The caller's role.
    pub role: OrgRoleName,
}

impl From<OrgView> for OrgResponse {
    fn from(v: OrgView) -> Self {
        Self {
            id: v.org.id.as_uuid(),
            name: v.org.name.as_str().to_owned(),
            slug: v.org.slug.as_str().to_owned(),
            created_at: v.org.created_at,
            role: v.role.into(),
        }
    }
}

/// A member of an organization.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"user_id": "0193a3c4-0000-7000-8000-000000000001", "username": "ada",
    "email": "ada@example.com", "role": "admin", "joined_at": "2026-01-01T00:00:00Z"}))]
pub struct MemberResponse {
    pub user_id: Uuid,
    pub username: String,
    pub email: String,
    pub role: OrgRoleName,
    pub joined_at: DateTime<Utc>,
}

impl From<MemberView> for MemberResponse {
    fn from(m: MemberView) -> Self {
        Self {
            user_id: m.user_id.as_uuid(),
            username: m.username.to_string(),
            email: m.email.to_string(),
            role: m.role.into(),
            joined_at: m.joined_at,
        }
    }
}

/// The membership an accepted invitation made.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"org_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b",
    "user_id": "0193a3c4-0000-7000-8000-000000000001", "username": "ada", "email": "ada@example.com",
    "role": "member", "joined_at": "2026-01-01T00:00:00Z"}))]
pub struct MembershipResponse {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub email: String,
    pub role: OrgRoleName,
    pub joined_at: DateTime<Utc>,
}

impl From<(Membership, MemberView)> for MembershipResponse {
    fn from((membership, member): (Membership, MemberView)) -> Self {
        let m = MemberResponse::from(member);
        Self {
            org_id: membership.org_id.as_uuid(),
            user_id: m.user_id,
            username: m.username,
            email: m.email,
            role: m.role,
            joined_at: m.joined_at,
        }
    }
}

/// A member's new role.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"role": "admin"}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct RoleUpdate {
    pub role: OrgRoleName,
}

impl IntoDomain for RoleUpdate {
    type Domain = OrgRole;

    fn into_domain(self) -> Result<OrgRole, Vec<FieldViolation>> {
        Ok(self.role.into())
    }
}

/// An invitation to send: the address it is for and the role it grants.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"email": "grace@example.com", "role": "member"}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct InvitationCreate {
    #[schemars(email, length(max = 254))]
    pub email: String,
    pub role: OrgRoleName,
}

impl IntoDomain for InvitationCreate {
    type Domain = NewInvitation;

    fn into_domain(self) -> Result<NewInvitation, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let email = rules.check("email", Email::parse(&self.email));
        rules.finish(|| Some(NewInvitation { email: email?, role: self.role.into() }))
    }
}

/// A pending invitation (never its token).
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b",
    "email": "grace@example.com", "role": "member", "expires_at": "2026-01-08T00:00:00Z"}))]
pub struct InvitationResponse {
    pub id: Uuid,
    pub email: String,
    pub role: OrgRoleName,
    pub expires_at: DateTime<Utc>,
}

impl From<Invitation> for InvitationResponse {
    fn from(i: Invitation) -> Self {
        Self { id: i.id.as_uuid(), email: i.email.to_string(), role: i.role.into(), expires_at: i.expires_at }
    }
}

// garde hands a custom rule the field as declared.
#[allow(clippy::ptr_arg)]
fn non_empty(value: &String, (): &()) -> garde::Result {
    if value.is_empty() { Err(garde::Error::new("missing\u{1f}must not be empty")) } else { Ok(()) }
}

/// The token from an invitation mail.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"token": "q3J1…"}))]
#[garde(allow_unvalidated)]
pub struct InvitationAccept {
    #[garde(custom(non_empty))]
    #[schemars(length(min = 1, max = 512))]
    pub token: String,
}

crate::extract::as_is!(InvitationAccept);

/// An organization token: an access token of the caller's session that also carries the
/// `org_id` and `org_role` claims. No refresh token: ask for a new one when it expires.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"access_token": "eyJhbGciOiJFZERTQSIs…", "token_type": "bearer", "expires_in": 900}))]
pub struct OrgTokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

impl From<IssuedAccessToken> for OrgTokenResponse {
    fn from(t: IssuedAccessToken) -> Self {
        Self { access_token: t.token.expose_secret().to_owned(), token_type: "bearer", expires_in: t.expires_in_secs }
    }
}

/// An organization id in the path.
#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct OrgPath {
    pub org_id: Uuid,
}

/// An organization and one of its members.
#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct OrgMemberPath {
    pub org_id: Uuid,
    pub user_id: Uuid,
}

/// An organization and one of its invitations.
#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct OrgInvitationPath {
    pub org_id: Uuid,
    pub id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_the_domains() {
        for role in OrgRole::ALL {
            let name = serde_json::to_value(OrgRoleName::from(role)).expect("json");
            assert_eq!(name, role.as_str());
            assert_eq!(OrgRole::from(OrgRoleName::from(role)), role);
        }
    }
}
