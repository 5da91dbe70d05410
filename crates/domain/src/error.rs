use thiserror::Error;

/// A value that breaks one of the rules of a domain type. `code` is stable and machine-readable
/// (clients branch on it); `Display` is the human message.
pub trait RuleViolation: std::error::Error {
    fn code(&self) -> &'static str;
}

/// Rules that need more than one value to check (the state of other users, a session's history).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("the last active admin cannot lose admin rights, be deactivated or be deleted")]
    LastAdmin,
}

impl RuleViolation for DomainError {
    fn code(&self) -> &'static str {
        match self {
            Self::LastAdmin => "last_admin",
        }
    }
}
