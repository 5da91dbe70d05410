//! [`FileRepository`](hexgate_ports::FileRepository): a file's row and its processing job are
//! written together, its status is its job's, and an owner who is gone is refused with nothing
//! left behind.

use std::time::Duration;

use hexgate_domain::UserId;
use hexgate_domain::file::{FileFacts, FileId, FileStatus, OriginalFilename};
use hexgate_ports::{NewFile, PortError, process_file_job};

use super::support::{now, stored_user};
use crate::Storage;

const LEASE: Duration = Duration::from_secs(30);

fn new_file(owner: UserId) -> NewFile {
    NewFile { id: FileId::new(), owner, filename: OriginalFilename::sanitize("a.txt"), size: 3 }
}

pub async fn a_file_and_its_job_are_written_together_and_its_status_is_the_jobs(s: Storage) {
    let owner = stored_user(&s, "uploader").await.id;
    let file = new_file(owner);
    let t0 = now();
    let task = s.files.create(&file, &process_file_job(file.id), t0).await.expect("create");
    assert_eq!(s.files.owner_of_task(task).await.expect("owner"), Some(owner));
    let stored = s.files.get(file.id).await.expect("get").expect("present");
    assert_eq!(
        (stored.owner, stored.task_id, stored.filename.as_str(), stored.size, stored.status, stored.created_at),
        (owner, task.0, "a.txt", 3, FileStatus::Processing, t0)
    );
    assert_eq!((stored.facts, stored.error, stored.processed_at), (None, None, None));

    let claimed = s.jobs.claim("w", now(), LEASE).await.expect("claim").expect("the processing job");
    assert_eq!((claimed.id, claimed.kind), (task, process_file_job(file.id).kind));
    assert_eq!(s.files.get(file.id).await.expect("get").expect("present").status, FileStatus::Processing);
    let facts = FileFacts { size: 3, sha256: "ab".repeat(32), content_type: "text/plain".into(), line_count: Some(1) };
    let t1 = now();
    assert!(s.files.record_facts(file.id, &facts, t1).await.expect("record"));
    assert!(!s.files.record_facts(FileId::new(), &facts, t1).await.expect("record"), "no such file");
    assert!(s.jobs.fail(task, "w", "disk on fire", now(), None).await.expect("fail"));
    let failed = s.files.get(file.id).await.expect("get").expect("present");
    assert_eq!((failed.status, failed.error.as_deref()), (FileStatus::Failed, Some("disk on fire")), "the job's");
    assert_eq!((failed.facts, failed.processed_at), (Some(facts), Some(t1)));

    assert!(
        !s.files.delete(file.id, hexgate_ports::JobId(uuid::Uuid::now_v7())).await.expect("delete"),
        "not its task"
    );
    assert!(s.files.delete(file.id, task).await.expect("delete"));
    assert!(!s.files.delete(file.id, task).await.expect("delete again"), "already gone");
    assert!(s.files.get(file.id).await.expect("get").is_none());
    assert!(s.jobs.get(task).await.expect("job").is_none(), "the job goes with its file");
    assert_eq!(s.files.owner_of_task(task).await.expect("owner"), None);
}

pub async fn a_file_for_an_owner_who_is_gone_is_refused_and_queues_no_job(s: Storage) {
    let file = new_file(UserId::new());
    let outcome = s.files.create(&file, &process_file_job(file.id), now()).await;
    assert!(matches!(outcome, Err(PortError::NotFound)), "{outcome:?}");
    assert!(s.files.get(file.id).await.expect("get").is_none());
    assert!(s.jobs.claim("w", now(), LEASE).await.expect("claim").is_none(), "the job went with the file");
}
