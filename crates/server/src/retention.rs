//! Queues the audit log's retention job: once shortly after start, then every
//! `AUDIT_PRUNE_INTERVAL_SECONDS`. The job itself (`audit_retention`) runs on whichever instance's
//! workers claim it, with the queue's retries; several instances queueing it only repeat a cheap
//! DELETE that finds nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hexgate_ports::{AUDIT_RETENTION, JobQueue, NewJob};
use tokio::task::JoinHandle;
use tracing::warn;

/// The first run waits this long, so start-up (and short-lived test instances) stay quiet.
const FIRST_RUN: Duration = Duration::from_secs(60);

pub fn start(queue: Arc<dyn JobQueue>, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut next = FIRST_RUN.min(every);
        loop {
            tokio::time::sleep(next).await;
            let job = NewJob { kind: AUDIT_RETENTION.to_owned(), payload: String::new(), max_attempts: 3 };
            if let Err(error) = queue.enqueue(&job, Utc::now()).await {
                warn!(%error, "could not queue the audit retention job");
            }
            next = every;
        }
    })
}
