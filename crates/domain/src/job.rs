//! Background jobs: retry policy as a pure rule. Adapters store jobs; runners apply the policy.

use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

impl std::str::FromStr for JobStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => return Err(format!("unknown job status {other:?}")),
        })
    }
}

/// How often and how patiently a failing job is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 5, base_delay: Duration::from_secs(2), max_delay: Duration::from_secs(600) }
    }
}

impl RetryPolicy {
    /// When to try again after the `attempt`-th attempt (1-based) failed at `now`, or `None` when
    /// the job has had all its attempts and is failed for good. The delay doubles each time
    /// (base, 2×base, 4×base, …) up to `max_delay`.
    #[must_use]
    pub fn next_attempt(&self, attempt: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempt >= self.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let delay = self.base_delay.saturating_mul(factor).min(self.max_delay);
        chrono::Duration::from_std(delay).ok().map(|d| now + d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stop_at_the_last_attempt() {
        let policy =
            RetryPolicy { max_attempts: 4, base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(3) };
        let now = Utc::now();
        let secs = |a| policy.next_attempt(a, now).map(|t| (t - now).num_seconds());
        assert_eq!((secs(1), secs(2), secs(3), secs(4)), (Some(1), Some(2), Some(3), None));
    }

    #[test]
    fn statuses_round_trip() {
        for s in [JobStatus::Queued, JobStatus::Running, JobStatus::Done, JobStatus::Failed] {
            assert_eq!(s.as_str().parse::<JobStatus>(), Ok(s));
        }
    }
}
