//! The audit log's vocabulary: every kind of security event hexgate records, including those of
//! features still to come (second factors, passkeys, signing keys, organizations), so a later
//! feature only emits them. What a stored event looks like lives with the port (its details are
//! JSON); the rules about which change makes which event live here.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::{RuleViolation, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditEventType {
    UserCreated,
    UserUpdated,
    UserDeleted,
    PermissionsChanged,
    LoginSucceeded,
    LoginFailed,
    Logout,
    RefreshReuseDetected,
    SessionRevoked,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    EmailVerified,
    ApiKeyCreated,
    ApiKeyRevoked,
    MfaEnabled,
    MfaDisabled,
    RecoveryCodesRegenerated,
    RecoveryCodeUsed,
    PasskeyAdded,
    PasskeyRemoved,
    SigningKeyRotated,
    OrgCreated,
    OrgMemberAdded,
    OrgMemberRemoved,
    OrgRoleChanged,
    OrgUpdated,
    OrgDeleted,
    OrgInvitationCreated,
    OrgInvitationRevoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

impl RuleViolation for UnknownEventType {
    fn code(&self) -> &'static str {
        "event_type_unknown"
    }
}

impl AuditEventType {
    pub const ALL: [Self; 30] = [
        Self::UserCreated,
        Self::UserUpdated,
        Self::UserDeleted,
        Self::PermissionsChanged,
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::Logout,
        Self::RefreshReuseDetected,
        Self::SessionRevoked,
        Self::PasswordChanged,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::EmailVerified,
        Self::ApiKeyCreated,
        Self::ApiKeyRevoked,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::RecoveryCodesRegenerated,
        Self::RecoveryCodeUsed,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::SigningKeyRotated,
        Self::OrgCreated,
        Self::OrgMemberAdded,
        Self::OrgMemberRemoved,
        Self::OrgRoleChanged,
        Self::OrgUpdated,
        Self::OrgDeleted,
        Self::OrgInvitationCreated,
        Self::OrgInvitationRevoked,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user_created",
            Self::UserUpdated => "user_updated",
            Self::UserDeleted => "user_deleted",
            Self::PermissionsChanged => "permissions_changed",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::Logout => "logout",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::SessionRevoked => "session_revoked",
            Self::PasswordChanged => "password_changed",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::EmailVerified => "email_verified",
            Self::ApiKeyCreated => "api_key_created",
            Self::ApiKeyRevoked => "api_key_revoked",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled => "mfa_disabled",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::SigningKeyRotated => "signing_key_rotated",
            Self::OrgCreated => "org_created",
            Self::OrgMemberAdded => "org_member_added",
            Self::OrgMemberRemoved => "org_member_removed",
            Self::OrgRoleChanged => "org_role_changed",
            Self::OrgUpdated => "org_updated",
            Self::OrgDeleted => "org_deleted",
            Self::OrgInvitationCreated => "org_invitation_created",
            Self::OrgInvitationRevoked => "org_invitation_revoked",
        }
    }
}

impl fmt::Display for AuditEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditEventType {
    type Err = UnknownEventType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}

/// What a change to a user record amounts to, for the audit log: which profile fields changed
/// (names only, never values), whether the permissions changed, whether the password did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserChangeSummary {
    pub changed_fields: Vec<&'static str>,
    pub permissions_changed: bool,
    pub password_changed: bool,
}

impl UserChangeSummary {
    #[must_use]
    pub fn between(before: &User, after: &User) -> Self {
        let mut changed_fields = Vec::new();
        if before.email != after.email {
            changed_fields.push("email");
        }
        if before.full_name != after.full_name {
            changed_fields.push("full_name");
        }
        if before.is_active != after.is_active {
            changed_fields.push("is_active");
        }
        if before.is_verified != after.is_verified {
            changed_fields.push("is_verified");
        }
        Self {
            changed_fields,
            permissions_changed: before.permissions != after.permissions,
            password_changed: before.password_hash != after.password_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_name_once() {
        let mut names: Vec<&str> = AuditEventType::ALL.iter().map(|t| t.as_str()).collect();
        for t in AuditEventType::ALL {
            assert_eq!(t.as_str().parse::<AuditEventType>(), Ok(t));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditEventType::ALL.len());
        assert!("user_exploded".parse::<AuditEventType>().is_err());
    }
}
