use hexgate_domain::DomainError;
use hexgate_domain::order::OrderError;
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
    #[error(transparent)]
    Order(#[from] OrderError),
    /// An order named products that do not exist: the indexes of those lines.
    #[error("unknown products at lines {0:?}")]
    UnknownProducts(Vec<usize>),
    /// The backing service cannot be reached now; the caller may retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

/// A field a use case found wrong after the request's own checks passed (it needed state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Dotted, with its location: `body.items.2.product_id`.
    pub field: String,
    pub message: String,
    pub code: &'static str,
}

/// What a use case may answer; the HTTP layer maps each variant to a status in one place.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ServiceError {
    #[error("Validation error")]
    Invalid(Vec<FieldViolation>),
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
    /// An upload past its size limit.
    #[error("{0}")]
    PayloadTooLarge(String),
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
            PortError::Order(OrderError::NotPending(status)) => {
                Self::Conflict(format!("Only a pending order can be cancelled; this one is {status}"))
            }
            PortError::Order(other) => Self::BadRequest(other.to_string()),
            PortError::UnknownProducts(lines) => Self::Invalid(
                lines
                    .into_iter()
                    .map(|i| FieldViolation {
                        field: format!("body.items.{i}.product_id"),
                        message: "no such product".into(),
                        code: "product_unknown",
                    })
                    .collect(),
            ),
            PortError::Unavailable(what) => Self::Unavailable(what),
            PortError::Internal(what) => Self::Internal(what),
        }
    }
}
