use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use garde::Validate;
use hexgate_domain::Password;
use hexgate_ports::{SessionView, TokenPair};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use hexgate_ports::FieldViolation;

use crate::extract::{IntoDomain, Rules};

// garde hands a custom rule the field as declared.
#[allow(clippy::ptr_arg)]
fn non_empty(value: &String, (): &()) -> garde::Result {
    if value.is_empty() { Err(garde::Error::new("missing\u{1f}must not be empty")) } else { Ok(()) }
}

fn password_grant(value: &Option<String>, (): &()) -> garde::Result {
    match value.as_deref() {
        None | Some("password") => Ok(()),
        Some(_) => Err(garde::Error::new("unsupported_grant_type\u{1f}only the password grant is supported")),
    }
}

/// OAuth2 password grant. `username` may be the username or the e-mail address.
#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"username": "ada", "password": "Analytical1"}))]
#[garde(allow_unvalidated)]
pub struct TokenRequest {
    #[garde(custom(non_empty))]
    #[schemars(length(min = 1, max = 254))]
    pub username: String,
    #[garde(custom(non_empty))]
    #[schemars(length(min = 1), extend("format" = "password", "writeOnly" = true))]
    pub password: String,
    /// Accepted for OAuth2 clients; only `password` is supported.
    #[garde(custom(password_grant))]
    #[schemars(extend("enum" = ["password"]))]
    pub grant_type: Option<String>,
}

#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"access_token": "eyJhbGciOiJIUzI1NiJ9…", "token_type": "bearer", "expires_in": 900, "refresh_token": "q3J1…"}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token.expose_secret().to_owned(),
            token_type: "bearer",
            expires_in: pair.expires_in_secs,
            refresh_token: pair.refresh_token.expose_secret().to_owned(),
        }
    }
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"refresh_token": "q3J1…"}))]
#[garde(allow_unvalidated)]
pub struct RefreshRequest {
    #[garde(custom(non_empty))]
    #[schemars(length(min = 1, max = 512))]
    pub refresh_token: String,
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate, Default)]
#[schemars(crate = "apistos")]
#[garde(allow_unvalidated)]
pub struct LogoutRequest {
    /// Also revoke this refresh token's family (when it is the caller's).
    pub refresh_token: Option<String>,
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"current_password": "Analytical1", "new_password": "Difference2"}))]
#[garde(allow_unvalidated)]
pub struct PasswordChange {
    #[garde(custom(non_empty))]
    #[schemars(length(min = 1), extend("format" = "password", "writeOnly" = true))]
    pub current_password: String,
    #[schemars(extend("pattern" = Password::PATTERN, "format" = "password", "writeOnly" = true), length(min = 8, max = 128))]
    pub new_password: String,
}

#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct SessionResponse {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// Whether this is the session of the token making the request.
    pub current: bool,
}

impl From<SessionView> for SessionResponse {
    fn from(v: SessionView) -> Self {
        Self {
            id: v.session.id.as_uuid(),
            created_at: v.session.created_at,
            last_used_at: v.session.last_used_at,
            user_agent: v.session.user_agent,
            ip: v.session.ip,
            current: v.current,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct SessionPath {
    pub id: Uuid,
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"email": "ada@example.com"}))]
#[garde(allow_unvalidated)]
pub struct ForgotPassword {
    #[schemars(email, length(max = 254))]
    pub email: String,
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"token": "q3J1…", "new_password": "Difference2"}))]
#[garde(allow_unvalidated)]
pub struct ResetPassword {
    #[garde(custom(non_empty))]
    #[schemars(length(min = 1, max = 512))]
    pub token: String,
    #[schemars(extend("pattern" = Password::PATTERN, "format" = "password", "writeOnly" = true), length(min = 8, max = 128))]
    pub new_password: String,
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"token": "q3J1…"}))]
#[garde(allow_unvalidated)]
pub struct VerifyEmail {
    #[garde(custom(non_empty))]
    #[schemars(length(min = 1, max = 512))]
    pub token: String,
}

/// A request taken in; its effect (a mail) follows in the background.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"detail": "If the address is registered, a reset link is on its way"}))]
pub struct Accepted {
    pub detail: &'static str,
}

crate::extract::as_is!(TokenRequest, RefreshRequest, LogoutRequest, VerifyEmail);

/// A password change as the use case takes it: the current password as typed, the new one
/// checked against the rules.
pub(crate) struct NewPassword {
    pub current: Password,
    pub new: Password,
}

impl IntoDomain for PasswordChange {
    type Domain = NewPassword;

    fn into_domain(self) -> Result<NewPassword, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let new = rules.check("new_password", Password::parse(&self.new_password));
        rules.finish(|| Some(NewPassword { current: Password::candidate(&self.current_password), new: new? }))
    }
}

impl IntoDomain for ForgotPassword {
    type Domain = hexgate_domain::Email;

    fn into_domain(self) -> Result<hexgate_domain::Email, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let email = rules.check("email", hexgate_domain::Email::parse(&self.email));
        rules.finish(|| email)
    }
}

/// A password reset as the use case takes it.
pub(crate) struct PasswordReset {
    pub token: String,
    pub password: Password,
}

impl IntoDomain for ResetPassword {
    type Domain = PasswordReset;

    fn into_domain(self) -> Result<PasswordReset, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let password = rules.check("new_password", Password::parse(&self.new_password));
        rules.finish(|| Some(PasswordReset { token: self.token, password: password? }))
    }
}
