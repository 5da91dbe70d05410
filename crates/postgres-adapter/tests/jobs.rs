//! The job queue on both databases: transactional enqueue, one claim per job under racing
//! workers, retries with backoff, and re-claiming after a lease runs out.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use hexgate_domain::job::{JobStatus, RetryPolicy};
use hexgate_ports::{JobQueue, NewJob};
use hexgate_postgres_adapter::{SqlJobQueue, enqueue_in};
use sea_orm::TransactionTrait;
use support::on_both;

fn job(kind: &str) -> NewJob {
    NewJob { kind: kind.to_owned(), payload: r#"{"to":"ada@example.com"}"#.to_owned(), max_attempts: 3 }
}

const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_job_enqueued_in_a_transaction_that_rolls_back_never_runs() {
    on_both(|db| async move {
        let queue = SqlJobQueue::new(db.clone());
        let txn = db.conn().begin().await.expect("begin");
        enqueue_in(&txn, &job("welcome_mail"), Utc::now()).await.expect("enqueue");
        txn.rollback().await.expect("rollback");
        assert_eq!(queue.claim("w1", Utc::now(), LEASE).await.expect("claim"), None);

        let txn = db.conn().begin().await.expect("begin");
        let id = enqueue_in(&txn, &job("welcome_mail"), Utc::now()).await.expect("enqueue");
        txn.commit().await.expect("commit");
        let claimed = queue.claim("w1", Utc::now(), LEASE).await.expect("claim").expect("a job");
        assert_eq!((claimed.id, claimed.attempt, claimed.kind.as_str()), (id, 1, "welcome_mail"));
        assert!(queue.complete(id, "w1", Utc::now()).await.expect("complete"));
        let record = queue.get(id).await.expect("get").expect("record");
        assert_eq!((record.status, record.attempts), (JobStatus::Done, 1));
        assert!(record.finished_at.is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_workers_claim_each_job_exactly_once() {
    on_both(|db| async move {
        let queue = SqlJobQueue::new(db);
        for _ in 0..20 {
            queue.enqueue(&job("work"), Utc::now()).await.expect("enqueue");
        }
        let workers = (0..4).map(|w| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let name = format!("worker-{w}");
                let mut mine = Vec::new();
                while let Some(claimed) = queue.claim(&name, Utc::now(), LEASE).await.expect("claim") {
                    assert!(queue.complete(claimed.id, &name, Utc::now()).await.expect("complete"));
                    mine.push(claimed.id);
                }
                mine
            })
        });
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.expect("join"));
        }
        assert_eq!(all.len(), 20, "every job ran");
        assert_eq!(all.iter().collect::<HashSet<_>>().len(), 20, "no job ran twice");
    })
    .await;
}

#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_then_marked_failed_with_its_last_error() {
    on_both(|db| async move {
        let queue = SqlJobQueue::new(db);
        let policy =
            RetryPolicy { max_attempts: 3, base_delay: Duration::from_secs(10), max_delay: Duration::from_secs(60) };
        let id = queue.enqueue(&job("flaky"), Utc::now()).await.expect("enqueue");
        let mut now = Utc::now();
        for attempt in 1..=3 {
            let claimed = queue.claim("w", now, LEASE).await.expect("claim").expect("due");
            assert_eq!(claimed.attempt, attempt);
            let retry_at = policy.next_attempt(attempt, now);
            assert!(queue.fail(id, "w", &format!("smtp down ({attempt})"), now, retry_at).await.expect("fail"));
            if let Some(at) = retry_at {
                // Not due before its backoff.
                assert_eq!(queue.claim("w", at - chrono::Duration::seconds(1), LEASE).await.expect("claim"), None);
                now = at;
            }
        }
        let record = queue.get(id).await.expect("get").expect("record");
        assert_eq!((record.status, record.attempts), (JobStatus::Failed, 3));
        assert_eq!(record.last_error.as_deref(), Some("smtp down (3)"));
        assert_eq!(queue.claim("w", now + chrono::Duration::days(1), LEASE).await.expect("claim"), None);
    })
    .await;
}

#[tokio::test]
async fn a_job_whose_worker_died_is_claimed_again_after_its_lease() {
    on_both(|db| async move {
        let queue = SqlJobQueue::new(db);
        let id = queue.enqueue(&job("slow"), Utc::now()).await.expect("enqueue");
        let t0 = Utc::now();
        let lease = Duration::from_secs(5);
        let first = queue.claim("dead-worker", t0, lease).await.expect("claim").expect("job");
        assert_eq!(
            queue.claim("w2", t0 + chrono::Duration::seconds(4), lease).await.expect("claim"),
            None,
            "still leased"
        );
        let again =
            queue.claim("w2", t0 + chrono::Duration::seconds(6), lease).await.expect("claim").expect("re-claimed");
        assert_eq!((again.id, again.attempt), (first.id, 2));
        // The dead worker waking up late cannot overwrite the new holder's outcome.
        assert!(!queue.complete(id, "dead-worker", Utc::now()).await.expect("complete"));
        assert!(queue.complete(id, "w2", Utc::now()).await.expect("complete"));
        assert_eq!(queue.get(id).await.expect("get").expect("record").status, JobStatus::Done);
    })
    .await;
}
