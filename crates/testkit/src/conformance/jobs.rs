//! [`JobQueue`](hexgate_ports::JobQueue): the oldest due job first, each job claimed by one of
//! racing workers, retries with backoff then failure, and leases: a job whose worker died is
//! claimed again, and the late worker can no longer record an outcome (fencing).

use std::collections::HashSet;
use std::time::Duration;

use chrono::Duration as Span;
use hexgate_domain::job::{JobStatus, RetryPolicy};
use hexgate_ports::{JobId, NewJob};

use super::support::{now, race};
use crate::Storage;

const LEASE: Duration = Duration::from_secs(30);

fn job(kind: &str) -> NewJob {
    NewJob { kind: kind.to_owned(), payload: r#"{"to":"ada@example.com"}"#.to_owned(), max_attempts: 3 }
}

pub async fn an_empty_queue_has_nothing_to_claim(s: Storage) {
    assert_eq!(s.jobs.claim("w", now(), LEASE).await.expect("claim"), None);
    assert_eq!(s.jobs.get(JobId(uuid::Uuid::now_v7())).await.expect("get"), None);
}

pub async fn a_job_runs_once_and_is_recorded_done(s: Storage) {
    let t0 = now();
    let id = s.jobs.enqueue(&job("welcome_mail"), t0).await.expect("enqueue");
    let queued = s.jobs.get(id).await.expect("get").expect("record");
    assert_eq!(
        (queued.kind.as_str(), queued.status, queued.attempts, queued.created_at, queued.finished_at),
        ("welcome_mail", JobStatus::Queued, 0, t0, None)
    );
    let claimed = s.jobs.claim("w1", t0, LEASE).await.expect("claim").expect("a job");
    assert_eq!((claimed.id, claimed.attempt, claimed.max_attempts, claimed.kind.as_str()), (id, 1, 3, "welcome_mail"));
    assert_eq!(claimed.payload, job("x").payload);
    assert_eq!(claimed.lease_until, t0 + Span::seconds(30));
    assert_eq!(s.jobs.get(id).await.expect("get").expect("record").status, JobStatus::Running);
    assert_eq!(s.jobs.claim("w2", t0, LEASE).await.expect("claim"), None, "held: nobody else gets it");
    assert!(!s.jobs.complete(id, "w2", t0).await.expect("complete"), "only its holder completes it");
    let t1 = t0 + Span::seconds(1);
    assert!(s.jobs.complete(id, "w1", t1).await.expect("complete"));
    let done = s.jobs.get(id).await.expect("get").expect("record");
    assert_eq!((done.status, done.attempts, done.finished_at), (JobStatus::Done, 1, Some(t1)));
    assert_eq!(s.jobs.claim("w1", t1 + Span::days(1), LEASE).await.expect("claim"), None, "done is done");
}

pub async fn the_oldest_due_job_is_claimed_first_and_future_ones_wait(s: Storage) {
    let t0 = now();
    let later = s.jobs.enqueue(&job("later"), t0 + Span::minutes(5)).await.expect("enqueue");
    let second = s.jobs.enqueue(&job("second"), t0).await.expect("enqueue");
    let first = s.jobs.enqueue(&job("first"), t0 - Span::seconds(10)).await.expect("enqueue");
    let third = s.jobs.enqueue(&job("third"), t0).await.expect("enqueue");
    let mut order = Vec::new();
    while let Some(claimed) = s.jobs.claim("w", t0, LEASE).await.expect("claim") {
        assert!(s.jobs.complete(claimed.id, "w", t0).await.expect("complete"));
        order.push(claimed.id);
    }
    assert_eq!(order, [first, second, third], "by due time, then in the order queued; the future job waits");
    let due_later = s.jobs.claim("w", t0 + Span::minutes(5), LEASE).await.expect("claim").expect("due now");
    assert_eq!(due_later.id, later);
}

pub async fn racing_workers_claim_each_job_exactly_once(s: Storage) {
    for _ in 0..20 {
        s.jobs.enqueue(&job("work"), now()).await.expect("enqueue");
    }
    let per_worker = race(4, |w| {
        let queue = s.jobs.clone();
        async move {
            let name = format!("worker-{w}");
            let mut mine = Vec::new();
            while let Some(claimed) = queue.claim(&name, now(), LEASE).await.expect("claim") {
                assert!(queue.complete(claimed.id, &name, now()).await.expect("complete"), "its holder completes it");
                mine.push(claimed.id);
            }
            mine
        }
    })
    .await;
    let all: Vec<JobId> = per_worker.into_iter().flatten().collect();
    assert_eq!(all.len(), 20, "every job ran, and none twice: {all:?}");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 20, "no job ran twice");
}

pub async fn a_failing_job_is_retried_with_backoff_then_failed_with_its_last_error(s: Storage) {
    let policy =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_secs(10), max_delay: Duration::from_secs(60) };
    let mut at = now();
    let id = s.jobs.enqueue(&job("flaky"), at).await.expect("enqueue");
    for attempt in 1..=3 {
        let claimed = s.jobs.claim("w", at, LEASE).await.expect("claim").expect("due");
        assert_eq!((claimed.id, claimed.attempt), (id, attempt));
        let retry_at = policy.next_attempt(attempt, at);
        assert!(s.jobs.fail(id, "w", &format!("smtp down ({attempt})"), at, retry_at).await.expect("fail"));
        if let Some(next) = retry_at {
            let record = s.jobs.get(id).await.expect("get").expect("record");
            assert_eq!((record.status, record.attempts), (JobStatus::Queued, attempt), "queued again");
            assert_eq!(s.jobs.claim("w", next - Span::seconds(1), LEASE).await.expect("claim"), None, "not before");
            at = next;
        }
    }
    let record = s.jobs.get(id).await.expect("get").expect("record");
    assert_eq!((record.status, record.attempts, record.finished_at), (JobStatus::Failed, 3, Some(at)));
    assert_eq!(record.last_error.as_deref(), Some("smtp down (3)"));
    assert_eq!(s.jobs.claim("w", at + Span::days(1), LEASE).await.expect("claim"), None, "failed is final");
    assert!(!s.jobs.fail(id, "w", "again", at, None).await.expect("fail"), "a finished job has no holder");
}

pub async fn an_expired_lease_is_claimed_again_and_the_old_worker_is_fenced_out(s: Storage) {
    let t0 = now();
    let id = s.jobs.enqueue(&job("slow"), t0).await.expect("enqueue");
    let lease = Duration::from_secs(5);
    let first = s.jobs.claim("dead-worker", t0, lease).await.expect("claim").expect("job");
    assert_eq!(s.jobs.claim("w2", t0 + Span::seconds(4), lease).await.expect("claim"), None, "still leased");
    let again = s.jobs.claim("w2", t0 + Span::seconds(6), lease).await.expect("claim").expect("re-claimed");
    assert_eq!((again.id, again.attempt, again.lease_until), (first.id, 2, t0 + Span::seconds(11)));
    let late = t0 + Span::seconds(7);
    assert!(!s.jobs.complete(id, "dead-worker", late).await.expect("complete"), "the late worker cannot complete");
    assert!(!s.jobs.fail(id, "dead-worker", "late", late, None).await.expect("fail"), "nor fail it");
    assert_eq!(s.jobs.get(id).await.expect("get").expect("record").status, JobStatus::Running, "w2 still holds it");
    assert!(s.jobs.complete(id, "w2", late).await.expect("complete"));
    let record = s.jobs.get(id).await.expect("get").expect("record");
    assert_eq!((record.status, record.attempts, record.last_error), (JobStatus::Done, 2, None));
}
