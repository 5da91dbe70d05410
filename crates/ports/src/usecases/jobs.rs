use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hexgate_domain::job::RetryPolicy;
use tracing::{info, warn};

use crate::{Clock, JobQueue, PortError};

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
}

impl JobRunner {
    #[must_use]
    pub fn new(queue: Arc<dyn JobQueue>, clock: Arc<dyn Clock>, policy: RetryPolicy, lease: Duration) -> Self {
        Self { queue, handlers: HashMap::new(), clock, policy, lease }
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
        let outcome = match self.handlers.get(&job.kind) {
            Some(handler) => handler.run(&job.payload).await,
            None => Err(format!("no handler for job kind {:?}", job.kind)),
        };
        let now = self.clock.now();
        match outcome {
            Ok(()) => {
                self.queue.complete(job.id, worker, now).await?;
                info!(job = %job.id.0, kind = %job.kind, attempt = job.attempt, "job done");
            }
            Err(error) => {
                let retry_at = if self.handlers.contains_key(&job.kind) {
                    self.policy.next_attempt(job.attempt.max(1), now).filter(|_| job.attempt < job.max_attempts)
                } else {
                    None
                };
                warn!(job = %job.id.0, kind = %job.kind, attempt = job.attempt, %error, retry = retry_at.is_some(), "job failed");
                self.queue.fail(job.id, worker, &error, now, retry_at).await?;
            }
        }
        Ok(true)
    }
}
