//! The job workers of this instance: a few tasks that claim due jobs until told to stop.

use std::sync::Arc;
use std::time::Duration;

use hexgate_ports::{JobRunner, JobWakeup};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// Wakes one idle worker of this instance when a job is queued here.
#[derive(Default)]
pub struct WorkerWakeup(Notify);

impl JobWakeup for WorkerWakeup {
    fn job_queued(&self) {
        // Stores a permit when every worker is busy, so the wake-up is never lost.
        self.0.notify_one();
    }
}

/// The job workers of one instance.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// `0`: this instance runs no jobs.
    pub workers: usize,
    /// How often an idle worker looks for due jobs.
    pub poll_interval: Duration,
}

pub struct WorkerPool {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

async fn work(
    runner: Arc<JobRunner>,
    name: String,
    poll: Duration,
    wakeup: Arc<WorkerWakeup>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            break;
        }
        match runner.run_one(&name).await {
            // More may be due: go again at once.
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => warn!(worker = %name, %error, "job queue unavailable"),
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = wakeup.0.notified() => {}
            _ = stop.changed() => {}
        }
    }
}

impl WorkerPool {
    /// Starts `settings.workers` workers named after this process so leases say who holds a job.
    #[must_use]
    pub fn start(runner: Arc<JobRunner>, settings: &JobSettings, wakeup: Arc<WorkerWakeup>) -> Self {
        let (count, poll) = (settings.workers, settings.poll_interval);
        let (stop, rx) = watch::channel(false);
        let instance = uuid::Uuid::now_v7().simple().to_string();
        let tasks = (0..count)
            .map(|i| {
                tokio::spawn(work(runner.clone(), format!("{}-{i}", &instance[..12]), poll, wakeup.clone(), rx.clone()))
            })
            .collect();
        info!(workers = count, "job workers started");
        Self { stop, tasks }
    }

    /// Asks every worker to stop after its current job and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        info!("job workers stopped");
    }
}
