//! Threads that only hash passwords, at a lower scheduling priority than the rest of the process.
//!
//! A login is ~20 ms of one core in Argon2. On tokio's blocking pool, a login storm had as many
//! hashing threads as logins in flight competing as equals with the HTTP workers, and every other
//! request queued behind them (`/health` p99 36× idle during a storm, docs/benchmarks.md). Here
//! at most one thread per core hashes, each under `SCHED_IDLE`: the kernel preempts it the moment
//! an HTTP worker wakes (nice +10 was measured first: a woken worker still waited out the hashing
//! thread's time slice, p99 ×5–7 of idle; `SCHED_IDLE` ×2), and hashing still gets every cycle
//! nobody else wants, so a storm alone runs at full speed. The price: while the CPU is saturated
//! by other requests, logins wait for a free moment. A job abandoned by its
//! caller (the client hung up) still runs to the end: its 19 MiB are in use until then, so its
//! thread is not free either.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use hexgate_ports::PortError;
use tokio::sync::oneshot;
use tracing::warn;

/// The hashing threads' scheduling policy.
fn lowest_priority() -> thread_priority::ThreadSchedulePolicy {
    thread_priority::ThreadSchedulePolicy::Normal(thread_priority::NormalThreadSchedulePolicy::Idle)
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of low-priority threads fed from one queue. Dropping the last handle ends them
/// once the queue is drained.
#[derive(Clone)]
pub struct HashingThreads {
    queue: Sender<Job>,
}

impl HashingThreads {
    /// Starts `threads` threads (at least one).
    #[must_use]
    pub fn start(threads: usize) -> Self {
        let (queue, jobs) = channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for index in 0..threads.max(1) {
            let jobs = Arc::clone(&jobs);
            let spawned = std::thread::Builder::new().name(format!("hexgate-hash-{index}")).spawn(move || serve(&jobs));
            if let Err(e) = spawned {
                warn!(error = %e, "a password-hashing thread could not be started");
            }
        }
        Self { queue }
    }

    /// Runs `work` on a hashing thread and waits for its result without blocking the caller's
    /// runtime.
    ///
    /// # Errors
    /// [`PortError::Internal`] when no hashing thread is left to run it.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, PortError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone; the work was still done and its memory freed.
            let _ = done.send(work());
        });
        self.queue.send(job).map_err(|_| PortError::Internal("no password-hashing thread is running".into()))?;
        result.await.map_err(|_| PortError::Internal("a password-hashing job was lost".into()))
    }
}

fn serve(jobs: &Mutex<Receiver<Job>>) {
    // Per thread: only this one is lowered. Lowering one's own priority needs no privilege;
    // should it fail anyway, hashing still works, at equal priority.
    let lowered = thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        thread_priority::ThreadPriority::Min,
        lowest_priority(),
    );
    if let Err(e) = lowered {
        warn!(error = ?e, "password hashing runs at normal priority");
    }
    loop {
        // The lock is held only to take a job, never while running one.
        let next = match jobs.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn jobs_run_at_the_lower_priority() {
        let threads = HashingThreads::start(1);
        let policy = threads.run(|| thread_priority::thread_schedule_policy().expect("policy")).await;
        assert_eq!(policy.expect("ran"), lowest_priority());
        // The caller's own thread is untouched.
        assert_ne!(thread_priority::thread_schedule_policy().expect("policy"), lowest_priority());
    }

    #[tokio::test]
    async fn no_more_jobs_run_at_once_than_there_are_threads() {
        let threads = HashingThreads::start(2);
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let (running, most, threads) = (Arc::clone(&running), Arc::clone(&most), threads.clone());
                tokio::spawn(async move {
                    threads
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(30));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for job in jobs {
            job.await.expect("joined").expect("ran");
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "both threads were used, never a third");
    }

    #[tokio::test]
    async fn a_job_abandoned_by_its_caller_still_runs_to_the_end() {
        let threads = HashingThreads::start(1);
        let finished = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&finished);
        let abandoned = tokio::time::timeout(
            Duration::from_millis(1),
            threads.run(move || {
                std::thread::sleep(Duration::from_millis(50));
                counter.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .await;
        assert!(abandoned.is_err(), "the caller gave up first");
        // The one thread is busy with it: the next job starts only after it has finished.
        let seen = Arc::clone(&finished);
        let after = threads.run(move || seen.load(Ordering::SeqCst)).await.expect("ran");
        assert_eq!(after, 1);
    }
}
