use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hexgate_domain::job::RetryPolicy;
use tracing::{Instrument, info, warn};

use crate::{ClaimedJob, Clock, JobOutcome, JobQueue, Metrics, NoMetrics, PortError};

/// Links a job's span to the trace of the request that queued it, given that request's
/// `traceparent`. Supplied by the binary, which knows the tracing backend.
pub type TraceLink = Arc<dyn Fn(&tracing::Span, &str) + Send + Sync>;

/// Runs one kind of job. An `Err` is retried by the policy (its text is kept as `last_error`).
#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, payload: &str) -> Result<(), String>;
}

/// Claims due jobs and runs them with their handler, recording the outcome.
pub struct JobRunner {
    queue: Arc<dyn JobQueue>,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    lease: Duration,
    metrics: Arc<dyn Metrics>,
    link: Option<TraceLink>,
}

impl JobRunner {
    #[must_use]
    pub fn new(queue: Arc<dyn JobQueue>, clock: Arc<dyn Clock>, policy: RetryPolicy, lease: Duration) -> Self {
        Self { queue, handlers: HashMap::new(), clock, policy, lease, metrics: Arc::new(NoMetrics), link: None }
    }

    /// Counts each run's outcome by kind.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Links each job's span to the request that queued it.
    #[must_use]
    pub fn with_trace_link(mut self, link: TraceLink) -> Self {
        self.link = Some(link);
        self
    }

    /// One span per run (a consumer span, `job {kind}`), linked to the queuing request's trace.
    fn span(&self, job: &ClaimedJob) -> tracing::Span {
        let span = tracing::info_span!(
            "job",
            otel.name = %format_args!("job {}", job.kind),
            otel.kind = "consumer",
            otel.status_code = tracing::field::Empty,
            job.id = %job.id.0,
            job.kind = %job.kind,
            job.attempt = job.attempt,
        );
        if let (Some(link), Some(parent)) = (&self.link, &job.traceparent) {
            link(&span, parent);
        }
        span
    }

    #[must_use]
    pub fn with(mut self, kind: &str, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(kind.to_owned(), handler);
        self
    }

    /// Runs at most one due job. `Ok(false)` when there was none.
    ///
    /// # Errors
    /// Store errors while claiming or recording.
    pub async fn run_one(&self, worker: &str) -> Result<bool, PortError> {
        let Some(job) = self.queue.claim(worker, self.clock.now(), self.lease).await? else { return Ok(false) };
        let span = self.span(&job);
        self.run_claimed(job, worker).instrument(span).await?;
        Ok(true)
    }

    async fn run_claimed(&self, job: ClaimedJob, worker: &str) -> Result<(), PortError> {
        let outcome = match self.handlers.get(&job.kind) {
            Some(handler) => handler.run(&job.payload).await,
            None => Err(format!("no handler for job kind {:?}", job.kind)),
        };
        let now = self.clock.now();
        match outcome {
            Ok(()) => {
                self.metrics.job_finished(&job.kind, JobOutcome::Completed);
                self.queue.complete(job.id, worker, now).await?;
                info!(job = %job.id.0, kind = %job.kind, attempt = job.attempt, "job done");
            }
            Err(error) => {
                let retry_at = if self.handlers.contains_key(&job.kind) {
                    self.policy.next_attempt(job.attempt.max(1), now).filter(|_| job.attempt < job.max_attempts)
                } else {
                    None
                };
                self.metrics.job_finished(&job.kind, JobOutcome::Failed);
                tracing::Span::current().record("otel.status_code", "ERROR");
                warn!(job = %job.id.0, kind = %job.kind, attempt = job.attempt, %error, retry = retry_at.is_some(), "job failed");
                self.queue.fail(job.id, worker, &error, now, retry_at).await?;
            }
        }
        Ok(())
    }
}
