use std::fmt;

use hexgate_domain::DomainError;
use hexgate_domain::RuleViolation;
use hexgate_domain::order::{OrderError, OrderStatus};
use hexgate_domain::org::OrgRefusal;
use thiserror::Error;

/// The API's stable machine codes: clients branch on these, never on the wording of a message.
/// A few are only ever produced by a transport (`malformed_json`, `method_not_allowed`); some are
/// reserved for features still to come and produced by nothing yet (see [`ErrorCode::reserved`]).
/// The HTTP adapter maps each to its status in one table; `docs/errors.md` explains each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    ValidationFailed,
    MalformedJson,
    BadRequest,
    UnsupportedMediaType,
    PayloadTooLarge,
    NotFound,
    MethodNotAllowed,
    NotAuthenticated,
    InvalidCredentials,
    InactiveUser,
    PasswordIncorrect,
    DuplicateInBatch,
    InsufficientPermissions,
    InsufficientScope,
    EmailTaken,
    UsernameTaken,
    LastAdmin,
    LastOwner,
    Conflict,
    InvalidToken,
    MfaRequired,
    MfaCodeInvalid,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// Every code, in the order `docs/errors.md` lists them.
    pub const ALL: [Self; 25] = [
        Self::ValidationFailed,
        Self::MalformedJson,
        Self::BadRequest,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::NotAuthenticated,
        Self::InvalidCredentials,
        Self::InactiveUser,
        Self::PasswordIncorrect,
        Self::DuplicateInBatch,
        Self::InsufficientPermissions,
        Self::InsufficientScope,
        Self::EmailTaken,
        Self::UsernameTaken,
        Self::LastAdmin,
        Self::LastOwner,
        Self::Conflict,
        Self::InvalidToken,
        Self::MfaRequired,
        Self::MfaCodeInvalid,
        Self::RateLimited,
        Self::Unavailable,
        Self::Internal,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation_failed",
            Self::MalformedJson => "malformed_json",
            Self::BadRequest => "bad_request",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::NotAuthenticated => "not_authenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InactiveUser => "inactive_user",
            Self::PasswordIncorrect => "password_incorrect",
            Self::DuplicateInBatch => "duplicate_in_batch",
            Self::InsufficientPermissions => "insufficient_permissions",
            Self::InsufficientScope => "insufficient_scope",
            Self::EmailTaken => "email_taken",
            Self::UsernameTaken => "username_taken",
            Self::LastAdmin => "last_admin",
            Self::LastOwner => "last_owner",
            Self::Conflict => "conflict",
            Self::InvalidToken => "invalid_token",
            Self::MfaRequired => "mfa_required",
            Self::MfaCodeInvalid => "mfa_code_invalid",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which uniqueness rule a write broke. Adapters tell them apart by the constraint or index that
/// refused the write, never by the wording of the driver's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    EmailTaken,
    UsernameTaken,
    /// An organization with this slug exists.
    OrgSlugTaken,
    /// The user is a member of the organization already.
    AlreadyMember,
}

/// What an adapter may answer. Storage-specific errors are turned into these inside the adapter,
/// so no driver type crosses a port.
#[derive(Debug, Error)]
pub enum PortError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error(transparent)]
    Rule(#[from] DomainError),
    #[error(transparent)]
    Order(#[from] OrderError),
    /// A membership change an organization refused (decided inside the change's transaction).
    #[error(transparent)]
    Org(#[from] OrgRefusal),
    /// An order named products that do not exist: the indexes of those lines.
    #[error("unknown products at lines {0:?}")]
    UnknownProducts(Vec<usize>),
    /// The backing service cannot be reached now; the caller may retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

/// A field a use case found wrong after the request's own checks passed (it needed state). The
/// path is the field's place in the use case's input (`items.2.product_id`); only the transport
/// knows where that input came from and adds `body.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub message: String,
    pub code: &'static str,
}

impl FieldViolation {
    #[must_use]
    pub fn new(field: impl Into<String>, message: impl Into<String>, code: &'static str) -> Self {
        Self { field: field.into(), message: message.into(), code }
    }

    /// A domain rule broken by the field at `field`.
    #[must_use]
    pub fn rule(field: impl Into<String>, violation: &(impl RuleViolation + fmt::Display)) -> Self {
        Self::new(field, violation.to_string(), violation.code())
    }
}

/// What a use case could not find; its `Display` is the client's `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A record whose kind the caller did not say (an adapter's bare `NotFound`).
    Record,
    User,
    Session,
    Product,
    Order,
    File,
    Task,
    ApiKey,
    /// An organization, or one the caller is not a member of: the same answer.
    Organization,
    Member,
    Invitation,
    Passkey,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Record => "Not found",
            Self::User => "User not found",
            Self::Session => "Session not found",
            Self::Product => "Product not found",
            Self::Order => "Order not found",
            Self::File => "File not found",
            Self::Task => "Task not found",
            Self::ApiKey => "API key not found",
            Self::Organization => "Organization not found",
            Self::Member => "Member not found",
            Self::Invitation => "Invitation not found",
            Self::Passkey => "Passkey not found",
        })
    }
}

/// Which values of a batch repeat inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchField {
    Emails,
    Usernames,
}

impl fmt::Display for BatchField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Emails => "emails",
            Self::Usernames => "usernames",
        })
    }
}

/// The second step a login needs: an opaque single-use token and the ways to complete it.
#[derive(Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    /// Shown to the client once; stored only as a hash.
    pub mfa_token: String,
    pub methods: Vec<&'static str>,
}

impl fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaChallenge").field("mfa_token", &"<redacted>").field("methods", &self.methods).finish()
    }
}

/// Why a second-factor change does not fit the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaConflict {
    /// TOTP is on already (enrolment again).
    AlreadyOn,
    /// TOTP is not on (recovery codes need it).
    NotOn,
    /// No enrolment is pending (confirmation without a start, or after a replacement).
    NothingPending,
    /// The credential of a passkey registration is registered already.
    PasskeyRegistered,
}

impl fmt::Display for MfaConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AlreadyOn => "TOTP is already on; disable it first",
            Self::NotOn => "TOTP is not on",
            Self::NothingPending => "No TOTP enrolment is pending; start one first",
            Self::PasskeyRegistered => "This passkey is registered already",
        })
    }
}

/// What a use case may answer. Each variant carries typed data and has one stable [`ErrorCode`];
/// its `Display` is the human `detail`. The HTTP layer maps codes to statuses in one place.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ServiceError {
    #[error("Validation error")]
    Invalid(Vec<FieldViolation>),
    #[error("Incorrect username or password")]
    InvalidCredentials,
    #[error("Could not validate credentials")]
    Unauthenticated,
    #[error("Inactive user")]
    InactiveUser,
    #[error("Insufficient permissions")]
    Forbidden,
    /// The request came with an API key whose scopes do not cover it (or that may never do it:
    /// managing credentials).
    #[error("The API key's scopes do not allow this request")]
    InsufficientScope,
    /// A paging cursor that is malformed, tampered with, or from another listing, sort or filter.
    #[error("Invalid cursor")]
    BadCursor,
    #[error("{0}")]
    NotFound(Resource),
    #[error("Email already registered")]
    EmailTaken,
    #[error("Username already taken")]
    UsernameTaken,
    /// Batch sign-up: these addresses are registered already.
    #[error("Emails already registered: {}", .0.join(", "))]
    EmailsTaken(Vec<String>),
    #[error("Usernames already taken: {}", .0.join(", "))]
    UsernamesTaken(Vec<String>),
    #[error("Duplicate {0} in batch")]
    DuplicateInBatch(BatchField),
    #[error("The last active admin cannot be demoted, deactivated or deleted")]
    LastAdmin,
    #[error("The last owner of an organization cannot be demoted or removed")]
    LastOwner,
    #[error("Organization slug already taken")]
    OrgSlugTaken,
    #[error("Already a member of this organization")]
    AlreadyMember,
    #[error("Only a pending order can be cancelled; this one is {0}")]
    OrderNotPending(OrderStatus),
    /// The input stream broke off or could not be read (a malformed multipart body).
    #[error("Malformed request body: {0}")]
    MalformedInput(String),
    /// The caller's own password, asked again before a sensitive change, is wrong.
    #[error("Incorrect current password")]
    PasswordIncorrect,
    /// A reset or verification token that is unknown, used or expired.
    #[error("Invalid or expired token")]
    InvalidToken,
    #[error("File too large: the limit is {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    #[error("Too many failed login attempts; try again later")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The password was right and a second factor is needed: the login goes on at
    /// `/auth/mfa/verify` with the challenge's `mfa_token`.
    #[error("A second factor is required")]
    MfaRequired(MfaChallenge),
    /// A wrong, replayed or spent TOTP or recovery code.
    #[error("Invalid or already used code")]
    MfaCodeInvalid,
    /// An `mfa_token` that is unknown, spent, expired or killed by wrong codes.
    #[error("Invalid or expired mfa_token")]
    MfaTokenInvalid,
    /// The second-factor state does not allow the change asked for.
    #[error("{0}")]
    MfaConflict(MfaConflict),
    /// The dependency that is down; logged, never shown.
    #[error("Service unavailable")]
    Unavailable(String),
    /// The cause; logged, never shown.
    #[error("Internal server error")]
    Internal(String),
}

impl ServiceError {
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) => ErrorCode::ValidationFailed,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::Unauthenticated => ErrorCode::NotAuthenticated,
            Self::InactiveUser => ErrorCode::InactiveUser,
            Self::Forbidden => ErrorCode::InsufficientPermissions,
            Self::InsufficientScope => ErrorCode::InsufficientScope,
            Self::BadCursor => ErrorCode::ValidationFailed,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::EmailTaken | Self::EmailsTaken(_) => ErrorCode::EmailTaken,
            Self::UsernameTaken | Self::UsernamesTaken(_) => ErrorCode::UsernameTaken,
            Self::DuplicateInBatch(_) => ErrorCode::DuplicateInBatch,
            Self::LastAdmin => ErrorCode::LastAdmin,
            Self::LastOwner => ErrorCode::LastOwner,
            Self::OrgSlugTaken | Self::AlreadyMember => ErrorCode::Conflict,
            Self::OrderNotPending(_) => ErrorCode::Conflict,
            Self::MalformedInput(_) => ErrorCode::BadRequest,
            Self::PasswordIncorrect => ErrorCode::PasswordIncorrect,
            Self::InvalidToken => ErrorCode::InvalidToken,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::TooManyAttempts { .. } => ErrorCode::RateLimited,
            Self::MfaRequired(_) => ErrorCode::MfaRequired,
            Self::MfaCodeInvalid => ErrorCode::MfaCodeInvalid,
            Self::MfaTokenInvalid => ErrorCode::NotAuthenticated,
            Self::MfaConflict(_) => ErrorCode::Conflict,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// One field of the use case's input broke a rule.
    #[must_use]
    pub fn invalid(field: impl Into<String>, message: impl Into<String>, code: &'static str) -> Self {
        Self::Invalid(vec![FieldViolation::new(field, message, code)])
    }
}

impl From<PortError> for ServiceError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::NotFound => Self::NotFound(Resource::Record),
            PortError::Conflict(Conflict::EmailTaken) => Self::EmailTaken,
            PortError::Conflict(Conflict::UsernameTaken) => Self::UsernameTaken,
            PortError::Conflict(Conflict::OrgSlugTaken) => Self::OrgSlugTaken,
            PortError::Conflict(Conflict::AlreadyMember) => Self::AlreadyMember,
            PortError::Org(OrgRefusal::NotMember) => Self::NotFound(Resource::Organization),
            PortError::Org(OrgRefusal::TargetNotMember) => Self::NotFound(Resource::Member),
            PortError::Org(OrgRefusal::Forbidden) => Self::Forbidden,
            PortError::Org(OrgRefusal::LastOwner) => Self::LastOwner,
            PortError::Rule(DomainError::LastAdmin) => Self::LastAdmin,
            PortError::Order(OrderError::NotPending(status)) => Self::OrderNotPending(status),
            PortError::Order(other) => Self::Invalid(vec![FieldViolation::rule("items", &other)]),
            PortError::UnknownProducts(lines) => Self::Invalid(
                lines
                    .into_iter()
                    .map(|i| FieldViolation::new(format!("items.{i}.product_id"), "no such product", "product_unknown"))
                    .collect(),
            ),
            PortError::Unavailable(what) => Self::Unavailable(what),
            PortError::Internal(what) => Self::Internal(what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_in_snake_case() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn typed_conflicts_keep_their_codes_and_texts() {
        let taken = ServiceError::EmailsTaken(vec!["a@x.io".into(), "b@y.io".into()]);
        assert_eq!(taken.code(), ErrorCode::EmailTaken);
        assert_eq!(taken.to_string(), "Emails already registered: a@x.io, b@y.io");
        assert_eq!(ServiceError::DuplicateInBatch(BatchField::Usernames).to_string(), "Duplicate usernames in batch");
        assert_eq!(ServiceError::from(PortError::Conflict(Conflict::UsernameTaken)).code(), ErrorCode::UsernameTaken);
        assert_eq!(ServiceError::from(PortError::Rule(DomainError::LastAdmin)).code(), ErrorCode::LastAdmin);
    }

    #[test]
    fn unknown_products_name_their_lines_without_a_transport_prefix() {
        let err = ServiceError::from(PortError::UnknownProducts(vec![0, 2]));
        let ServiceError::Invalid(fields) = err else { panic!("not a validation error") };
        let paths: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(paths, ["items.0.product_id", "items.2.product_id"]);
    }
}
