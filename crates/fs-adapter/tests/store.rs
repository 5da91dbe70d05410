//! The local store on a real folder: streaming writes, commit, refusal, reads, deletes.

use futures_util::StreamExt;
use hexgate_domain::UserId;
use hexgate_domain::file::FileId;
use hexgate_fs_adapter::LocalFileStore;
use hexgate_ports::{BlobKey, FileStore};

fn temp_root() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hexgate-fs-test-{}", uuid::Uuid::new_v4().simple()))
}

fn files_under(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { stack.push(path) } else { found.push(path) }
        }
    }
    found
}

#[tokio::test]
async fn a_committed_blob_reads_back_in_chunks_and_is_inspected() {
    let root = temp_root();
    let store = LocalFileStore::new(&root).expect("root");
    let key = BlobKey { owner: UserId::new(), file: FileId::new() };
    let mut writer = store.create(&key).await.expect("create");
    let data: Vec<u8> = (0..150_000u32).map(|i| b'a' + u8::try_from(i % 26).expect("small")).collect();
    for chunk in data.chunks(10_000) {
        writer.write(chunk).await.expect("write");
    }
    assert!(store.open(&key).await.expect("open").is_none(), "nothing is visible before commit");
    writer.commit().await.expect("commit");

    let blob = store.open(&key).await.expect("open").expect("present");
    assert_eq!(blob.size, data.len() as u64);
    let chunks: Vec<Vec<u8>> = blob.chunks.map(|c| c.expect("chunk")).collect().await;
    assert!(chunks.len() > 1, "read in more than one chunk");
    assert_eq!(chunks.concat(), data);

    let facts = store.inspect(&key).await.expect("inspect").expect("present");
    assert_eq!(facts.size, data.len() as u64);
    assert_eq!(facts.content_type, "text/plain");
    assert_eq!(files_under(&root).len(), 1);

    store.delete(&key).await.expect("delete");
    store.delete(&key).await.expect("deleting twice is fine");
    assert!(store.inspect(&key).await.expect("inspect").is_none());
    std::fs::remove_dir_all(root).ok();
}

#[tokio::test]
async fn a_writer_dropped_before_commit_leaves_no_file() {
    let root = temp_root();
    let store = LocalFileStore::new(&root).expect("root");
    let key = BlobKey { owner: UserId::new(), file: FileId::new() };
    let mut writer = store.create(&key).await.expect("create");
    writer.write(b"partial").await.expect("write");
    assert_eq!(files_under(&root).len(), 1, "the partial file exists while writing");
    drop(writer);
    assert!(files_under(&root).is_empty(), "the partial file is gone");
    std::fs::remove_dir_all(root).ok();
}

#[tokio::test]
async fn deleting_an_owner_removes_all_their_blobs_and_no_one_elses() {
    let root = temp_root();
    let store = LocalFileStore::new(&root).expect("root");
    let (alice, bob) = (UserId::new(), UserId::new());
    for owner in [alice, alice, bob] {
        let mut w = store.create(&BlobKey { owner, file: FileId::new() }).await.expect("create");
        w.write(b"x").await.expect("write");
        w.commit().await.expect("commit");
    }
    store.delete_owner(alice).await.expect("delete owner");
    store.delete_owner(alice).await.expect("twice is fine");
    let left = files_under(&root);
    assert_eq!(left.len(), 1);
    assert!(left[0].to_string_lossy().contains(&bob.as_uuid().simple().to_string()));
    std::fs::remove_dir_all(root).ok();
}

#[tokio::test]
async fn a_blob_whose_owner_was_deleted_while_writing_cannot_commit_and_leaves_nothing() {
    let root = temp_root();
    let store = LocalFileStore::new(&root).expect("root");
    let owner = UserId::new();
    let mut writer = store.create(&BlobKey { owner, file: FileId::new() }).await.expect("create");
    writer.write(b"half").await.expect("write");
    store.delete_owner(owner).await.expect("delete owner");
    writer.write(b"the rest").await.expect("writing to the unlinked file still works");
    let outcome = writer.commit().await;
    assert!(matches!(outcome, Err(hexgate_ports::PortError::NotFound)), "{outcome:?}");
    assert!(files_under(&root).is_empty());
    std::fs::remove_dir_all(root).ok();
}
