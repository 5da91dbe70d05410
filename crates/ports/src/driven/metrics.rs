//! What the service counts for operators. The use cases and the HTTP adapter report events here;
//! an adapter (Prometheus text by default) keeps the figures and renders them when scraped. A
//! port rather than a global recorder: each instance (and each test's app) owns its own figures.

use std::time::Duration;

use async_trait::async_trait;

/// How a login attempt ended (`auth_logins_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Success,
    /// Wrong password, unknown user or inactive account.
    Failure,
    /// Refused before the password was checked: too many recent failures.
    Locked,
    /// The password was right and a second factor is still owed.
    MfaRequired,
}

impl LoginOutcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Locked => "locked",
            Self::MfaRequired => "mfa_required",
        }
    }
}

/// How one run of a job ended (`jobs_completed_total` / `jobs_failed_total`, by kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Completed,
    /// This attempt failed (it may be retried).
    Failed,
}

/// One gauge value read at scrape time (`db_pool_connections{state="idle"}`, `jobs_pending`).
#[derive(Debug, Clone, PartialEq)]
pub struct GaugeReading {
    pub name: &'static str,
    pub labels: Vec<(&'static str, &'static str)>,
    pub value: f64,
}

impl GaugeReading {
    #[must_use]
    pub fn new(name: &'static str, value: f64) -> Self {
        Self { name, labels: Vec::new(), value }
    }

    #[must_use]
    pub fn label(mut self, name: &'static str, value: &'static str) -> Self {
        self.labels.push((name, value));
        self
    }
}

/// Something whose state is read when metrics are scraped (a connection pool, the job backlog),
/// rather than kept up to date on every change.
#[async_trait]
pub trait GaugeSource: Send + Sync {
    /// The current values; a source that cannot be read answers none (the scrape still works).
    async fn read(&self) -> Vec<GaugeReading>;
}

/// The service's metrics. Recording is synchronous and cheap (no I/O, no await): it sits on the
/// request path.
#[async_trait]
pub trait Metrics: Send + Sync {
    /// One HTTP request answered. `route` is the route pattern (`/api/v1/users/{id}`) or
    /// `unmatched`, never a literal path.
    fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration);
    fn login(&self, outcome: LoginOutcome);
    /// A request refused by the rate limiter on `route` (a pattern).
    fn rate_limited(&self, route: &str);
    fn job_finished(&self, kind: &str, outcome: JobOutcome);
    /// A chat connection opened (`+1`) or closed (`-1`).
    fn chat_connections(&self, delta: i64);
    /// The exposition text (Prometheus text format 0.0.4); `None` when metrics are turned off.
    async fn render(&self) -> Option<String>;
}

/// Metrics turned off: records nothing, renders nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMetrics;

#[async_trait]
impl Metrics for NoMetrics {
    fn http_request(&self, _: &str, _: &str, _: u16, _: Duration) {}
    fn login(&self, _: LoginOutcome) {}
    fn rate_limited(&self, _: &str) {}
    fn job_finished(&self, _: &str, _: JobOutcome) {}
    fn chat_connections(&self, _: i64) {}
    async fn render(&self) -> Option<String> {
        None
    }
}
