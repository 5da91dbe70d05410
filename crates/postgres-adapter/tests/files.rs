//! File metadata on both databases: the row and its job are written together, a file for an
//! owner who is gone is refused with nothing left behind, and status follows the job.

mod support;

use chrono::Utc;
use hexgate_domain::file::{FileFacts, FileId, FileStatus, OriginalFilename};
use hexgate_domain::{Email, FullName, NewUser, PasswordHash, PermissionSet, UserId, Username};
use hexgate_ports::{FileRepository, JobQueue, NewFile, PortError, UserRepository, process_file_job};
use hexgate_postgres_adapter::{SqlFileRepository, SqlJobQueue, SqlUserRepository};
use support::on_both;

async fn owner(users: &SqlUserRepository) -> UserId {
    let user = NewUser {
        email: Email::parse("owner@example.com").expect("email"),
        username: Username::parse("owner").expect("username"),
        full_name: FullName::default(),
        is_active: true,
        permissions: PermissionSet::EMPTY,
        password_hash: PasswordHash::from_phc("$argon2id$fake".to_owned()),
    }
    .into_user(UserId::new(), Utc::now());
    users.insert(&user).await.expect("insert");
    user.id
}

fn new_file(owner: UserId) -> NewFile {
    NewFile { id: FileId::new(), owner, filename: OriginalFilename::sanitize("a.txt"), size: 3 }
}

#[tokio::test]
async fn a_file_and_its_job_are_written_together_and_its_status_is_the_jobs() {
    on_both(|db| async move {
        let (files, queue, users) =
            (SqlFileRepository::new(db.clone()), SqlJobQueue::new(db.clone()), SqlUserRepository::new(db));
        let owner = owner(&users).await;
        let file = new_file(owner);
        let task = files.create(&file, &process_file_job(file.id), Utc::now()).await.expect("create");
        assert_eq!(files.owner_of_task(task).await.expect("owner"), Some(owner));
        let stored = files.get(file.id).await.expect("get").expect("present");
        assert_eq!((stored.status, stored.task_id, stored.size), (FileStatus::Processing, task.0, 3));
        assert!(stored.facts.is_none());

        let claimed = queue.claim("w", Utc::now(), std::time::Duration::from_secs(30)).await.expect("claim");
        assert_eq!(claimed.expect("the processing job").id, task);
        let facts =
            FileFacts { size: 3, sha256: "ab".repeat(32), content_type: "text/plain".into(), line_count: Some(1) };
        assert!(files.record_facts(file.id, &facts, Utc::now()).await.expect("record"));
        queue.fail(task, "w", "disk on fire", Utc::now(), None).await.expect("fail");
        let failed = files.get(file.id).await.expect("get").expect("present");
        assert_eq!((failed.status, failed.error.as_deref()), (FileStatus::Failed, Some("disk on fire")));
        assert_eq!(failed.facts, Some(facts));

        assert!(files.delete(file.id, task).await.expect("delete"));
        assert!(!files.delete(file.id, task).await.expect("delete again"));
        assert!(queue.get(task).await.expect("job").is_none(), "the job goes with its file");
        assert_eq!(files.owner_of_task(task).await.expect("owner"), None);
    })
    .await;
}

#[tokio::test]
async fn a_file_for_an_owner_who_is_gone_is_refused_and_queues_no_job() {
    on_both(|db| async move {
        let (files, queue) = (SqlFileRepository::new(db.clone()), SqlJobQueue::new(db));
        let file = new_file(UserId::new());
        let outcome = files.create(&file, &process_file_job(file.id), Utc::now()).await;
        assert!(matches!(outcome, Err(PortError::NotFound)), "{outcome:?}");
        assert!(files.get(file.id).await.expect("get").is_none());
        let claimed = queue.claim("w", Utc::now(), std::time::Duration::from_secs(30)).await.expect("claim");
        assert!(claimed.is_none(), "the job rolled back with the file");
    })
    .await;
}

#[tokio::test]
async fn deleting_the_owner_deletes_their_files() {
    on_both(|db| async move {
        let (files, users) = (SqlFileRepository::new(db.clone()), SqlUserRepository::new(db));
        let owner = owner(&users).await;
        let file = new_file(owner);
        files.create(&file, &process_file_job(file.id), Utc::now()).await.expect("create");
        users.delete(owner).await.expect("delete owner");
        assert!(files.get(file.id).await.expect("get").is_none());
    })
    .await;
}
