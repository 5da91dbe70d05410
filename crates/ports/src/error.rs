use hexgate_domain::DomainError;
use thiserror::Error;

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    EmailTaken,
    UsernameTaken,
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
    /// The backing service cannot be reached now; the caller may retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

/// What a use case may answer; the HTTP layer maps each variant to a status in one place.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ServiceError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Incorrect username or password")]
    InvalidCredentials,
    #[error("Could not validate credentials")]
    Unauthenticated,
    #[error("Inactive user")]
    InactiveUser,
    #[error("Insufficient permissions")]
    Forbidden,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("Too many failed login attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("Service unavailable: {0}")]
    Unavailable(String),
    #[error("Internal server error")]
    Internal(String),
}

impl From<PortError> for ServiceError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::NotFound => Self::NotFound("Not found"),
            PortError::Conflict(Conflict::EmailTaken) => Self::Conflict("Email already registered".into()),
            PortError::Conflict(Conflict::UsernameTaken) => Self::Conflict("Username already taken".into()),
            PortError::Rule(DomainError::LastAdmin) => {
                Self::Conflict("The last active admin cannot be demoted, deactivated or deleted".into())
            }
            PortError::Unavailable(what) => Self::Unavailable(what),
            PortError::Internal(what) => Self::Internal(what),
        }
    }
}
