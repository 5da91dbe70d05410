use chrono::{DateTime, SubsecRound, Utc};

/// The time, behind a port so services that judge expiry can be tested at any instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // Microseconds: what PostgreSQL keeps, so a value read back equals the one written.
        Utc::now().trunc_subsecs(6)
    }
}
