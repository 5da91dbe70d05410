use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{TestApp, Tokens, error_shape, fields, files_under};

/// A complete 1x1 PNG (signature, IHDR, IDAT, IEND).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn upload_part(app: &TestApp, token: Option<&str>, part: Part) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/files", token)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .expect("upload")
}

async fn upload(app: &TestApp, who: &Tokens, name: &str, bytes: &[u8], declared: &str) -> reqwest::Response {
    let part = Part::bytes(bytes.to_vec()).file_name(name.to_owned()).mime_str(declared).expect("mime");
    upload_part(app, Some(&who.access), part).await
}

/// Uploads and waits for processing; answers the file's metadata.
async fn processed(app: &TestApp, who: &Tokens, name: &str, bytes: &[u8], declared: &str) -> Value {
    let res = upload(app, who, name, bytes, declared).await;
    assert_eq!(res.status(), 202);
    let accepted: Value = res.json().await.expect("json");
    assert_eq!(accepted["status"], "processing");
    let task = wait_for_task(app, who, accepted["task_id"].as_str().expect("task id")).await;
    assert_eq!(task["status"], "done", "{task}");
    assert_eq!(task["kind"], "process_file");
    assert_eq!(task["attempts"], 1);
    assert!(task["finished_at"].is_string());
    let file: Value = app
        .get(&format!("/api/v1/files/{}", accepted["file_id"].as_str().expect("file id")), Some(&who.access))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(file["status"], "done");
    assert_eq!(file["task_id"], accepted["task_id"]);
    file
}

async fn wait_for_task(app: &TestApp, who: &Tokens, task: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let res = app.get(&format!("/api/v1/tasks/{task}"), Some(&who.access)).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("json");
        if body["status"] == "done" || body["status"] == "failed" {
            return body;
        }
        assert!(Instant::now() < deadline, "task still {} after 15 s", body["status"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_text_file_is_stored_processed_and_downloaded_as_an_attachment() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let text = b"first line\nsecond line\nthird, without a newline";
    let file = processed(&app, &alice, "notes.txt", text, "application/pdf").await;
    assert_eq!(file["size"], text.len());
    // printf 'first line\nsecond line\nthird, without a newline' | sha256sum
    assert_eq!(file["sha256"], "7e9de5a5d2e42d3119de2b9c11ed15ce7b5e39ddc6e4aef6e82d1960bc22eafa");
    assert_eq!(file["content_type"], "text/plain", "from the bytes, not the declared type");
    assert_eq!(file["line_count"], 3);
    assert_eq!(file["filename"], "notes.txt");
    assert!(file["processed_at"].is_string() && file["error"].is_null());

    let res =
        app.get(&format!("/api/v1/files/{}/content", file["file_id"].as_str().expect("id")), Some(&alice.access)).await;
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"].to_str().expect("ascii").to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("notes.txt"), "{disposition}");
    assert_eq!(res.headers()["content-type"], "text/plain");
    assert_eq!(res.headers()["content-length"], text.len().to_string().as_str());
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), text);
}

#[actix_web::test]
async fn a_png_is_known_by_its_bytes_whatever_the_client_declared() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let file = processed(&app, &alice, "picture.txt", PNG, "text/plain").await;
    assert_eq!(file["content_type"], "image/png");
    assert_eq!(file["size"], PNG.len());
    // python3 -c "import hashlib; print(hashlib.sha256(PNG).hexdigest())"
    assert_eq!(file["sha256"], "2b1da20a14b97d8f01f0a809d9f7d53eeefc59df6312eaa5a0c8b5c1228d1d7f");
    assert!(file["line_count"].is_null(), "no line count for binary files");
    let res =
        app.get(&format!("/api/v1/files/{}/content", file["file_id"].as_str().expect("id")), Some(&alice.access)).await;
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), PNG);
}

#[actix_web::test]
async fn an_empty_upload_or_a_form_without_a_file_is_422_and_other_bodies_are_415() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let body = error_shape(upload(&app, &alice, "empty.txt", b"", "text/plain").await, 422).await;
    assert_eq!(fields(&body), vec!["body.file"]);
    let res = app
        .request(Method::POST, "/api/v1/files", Some(&alice.access))
        .multipart(Form::new().text("note", "no file here"))
        .send()
        .await
        .expect("send");
    assert_eq!(fields(&error_shape(res, 422).await), vec!["body.file"]);
    error_shape(app.post_json("/api/v1/files", Some(&alice.access), &serde_json::json!({"file": "x"})).await, 415)
        .await;
    error_shape(upload_part(&app, None, Part::bytes(b"x".to_vec()).file_name("a.txt")).await, 401).await;
    assert!(files_under(&app.uploads).is_empty(), "nothing stored for refused uploads");
}

#[actix_web::test]
async fn other_form_fields_are_ignored_when_plainly_named_and_422_otherwise() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let file = || Part::bytes(b"hello\n".to_vec()).file_name("a.txt");
    let ok = app
        .request(Method::POST, "/api/v1/files", Some(&alice.access))
        .multipart(Form::new().text("note.v-1_x", "ignored").part("file", file()))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 202);
    // The document's propertyNames pattern: 1 to 64 of [A-Za-z0-9_.-].
    for name in ["", "a:b", "a+b", &"n".repeat(65)] {
        let res = app
            .request(Method::POST, "/api/v1/files", Some(&alice.access))
            .multipart(Form::new().text(name.to_owned(), "x").part("file", file()))
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), 422, "field named {name:?}");
        let body = error_shape(res, 422).await;
        assert_eq!(fields(&body), vec!["body"], "field named {name:?}");
        assert_eq!(body["errors"][0]["code"], "field_name_invalid");
        // After the file, the same rule, and the file already streamed is not kept.
        let stored = files_under(&app.uploads).len();
        let res = app
            .request(Method::POST, "/api/v1/files", Some(&alice.access))
            .multipart(Form::new().part("file", file()).text(name.to_owned(), "x"))
            .send()
            .await
            .expect("send");
        let body = error_shape(res, 422).await;
        assert_eq!(fields(&body), vec!["body"], "field named {name:?} after the file");
        assert_eq!(body["errors"][0]["code"], "field_name_invalid");
        assert_eq!(files_under(&app.uploads).len(), stored, "nothing kept for a form refused after its file");
    }
    // Names the multipart parser itself cannot read make the form malformed: 400, as documented.
    for name in ["a b", "a/b"] {
        let res = app
            .request(Method::POST, "/api/v1/files", Some(&alice.access))
            .multipart(Form::new().text(name.to_owned(), "x").part("file", file()))
            .send()
            .await
            .expect("send");
        error_shape(res, 400).await;
    }
    assert_eq!(files_under(&app.uploads).len(), 1, "only the accepted upload is stored");
}

#[actix_web::test]
async fn an_upload_over_the_limit_is_413_and_leaves_nothing_behind() {
    let app = TestApp::spawn_with(&[("MAX_UPLOAD_BYTES", "1024")]).await;
    let (_, alice) = app.user("alice").await;
    // Just over: refused while streaming (the declared length is within the framing allowance).
    let body = error_shape(upload(&app, &alice, "big.bin", &[b'x'; 1025], "text/plain").await, 413).await;
    assert!(body["detail"].as_str().expect("detail").contains("1024"), "{body}");
    // Far over: refused from the declared length, before reading.
    error_shape(upload(&app, &alice, "huge.bin", &vec![b'x'; 200 * 1024], "text/plain").await, 413).await;
    // No length declared at all (chunked): 8 MiB offered, refused at the first chunk past 1 KiB.
    let chunks = futures_util::stream::iter((0..128).map(|_| Ok::<_, std::io::Error>(vec![b'z'; 64 * 1024])));
    let part = Part::stream(reqwest::Body::wrap_stream(chunks)).file_name("stream.bin");
    error_shape(upload_part(&app, Some(&alice.access), part).await, 413).await;
    // Fields other than `file` are not kept, but they are not a way around the limit either.
    let padded = Form::new().text("note", "n".repeat(2048)).part("file", Part::bytes(b"x".to_vec()).file_name("x"));
    let res = app.request(Method::POST, "/api/v1/files", Some(&alice.access)).multipart(padded).send().await;
    error_shape(res.expect("send"), 413).await;
    assert!(files_under(&app.uploads).is_empty(), "no partial file: {:?}", files_under(&app.uploads));
    // Exactly the limit is fine.
    let file = processed(&app, &alice, "edge.txt", &[b'y'; 1024], "text/plain").await;
    assert_eq!(file["size"], 1024);
    assert_eq!(files_under(&app.uploads).len(), 1);
}

#[actix_web::test]
async fn a_traversal_filename_is_kept_as_harmless_metadata_and_never_names_a_path() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.user("alice").await;
    let file = processed(&app, &alice, "../../../etc/passwd", b"root:x:0:0\n", "text/plain").await;
    assert_eq!(file["filename"], "passwd");
    let windows = processed(&app, &alice, "..\\..\\boot.ini", b"[boot]", "text/plain").await;
    assert_eq!(windows["filename"], "boot.ini");
    let stored = files_under(&app.uploads);
    assert_eq!(stored.len(), 2);
    for path in stored {
        assert!(path.starts_with(&app.uploads), "{path:?} is inside UPLOAD_DIR");
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        assert!(name.len() == 32 && name.chars().all(|c| c.is_ascii_hexdigit()), "server-made name, got {name}");
    }
    let res =
        app.get(&format!("/api/v1/files/{}/content", file["file_id"].as_str().expect("id")), Some(&alice.access)).await;
    let disposition = res.headers()["content-disposition"].to_str().expect("ascii").to_owned();
    assert!(disposition.contains("passwd") && !disposition.contains(".."), "{disposition}");
}

#[actix_web::test]
async fn files_and_tasks_belong_to_their_owner_and_admins() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let file = processed(&app, &alice, "mine.txt", b"secret\n", "text/plain").await;
    let id = file["file_id"].as_str().expect("id");
    let task = file["task_id"].as_str().expect("task");

    for path in [format!("/api/v1/files/{id}"), format!("/api/v1/files/{id}/content"), format!("/api/v1/tasks/{task}")]
    {
        let body = error_shape(app.get(&path, Some(&bob.access)).await, 404).await;
        assert!(body["detail"].as_str().expect("detail").ends_with("not found"), "{path}: {body}");
        assert_eq!(app.get(&path, Some(&admin.access)).await.status(), 200, "{path} for an admin");
        error_shape(app.get(&path, None).await, 401).await;
    }
    error_shape(app.delete(&format!("/api/v1/files/{id}"), Some(&bob.access)).await, 404).await;
    // A task that is no file's (a welcome mail) is not a user's to see.
    error_shape(app.get(&format!("/api/v1/tasks/{}", uuid::Uuid::now_v7()), Some(&alice.access)).await, 404).await;
    error_shape(app.get("/api/v1/files/not-a-uuid", Some(&alice.access)).await, 422).await;

    let res = app.delete(&format!("/api/v1/files/{id}"), Some(&alice.access)).await;
    assert_eq!(res.status(), 204);
    assert!(files_under(&app.uploads).is_empty(), "the bytes are gone with the file");
    error_shape(app.get(&format!("/api/v1/files/{id}"), Some(&alice.access)).await, 404).await;
    error_shape(app.get(&format!("/api/v1/tasks/{task}"), Some(&admin.access)).await, 404).await;

    // An admin may delete anyone's file.
    let other = processed(&app, &bob, "b.txt", b"b", "text/plain").await;
    let res =
        app.delete(&format!("/api/v1/files/{}", other["file_id"].as_str().expect("id")), Some(&admin.access)).await;
    assert_eq!(res.status(), 204);
}

#[actix_web::test]
async fn deleting_a_user_removes_their_files_bytes_and_rows() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (alice_user, alice) = app.user("alice").await;
    let (_, bob) = app.user("bob").await;
    let file = processed(&app, &alice, "a.txt", b"a", "text/plain").await;
    processed(&app, &alice, "b.txt", b"b", "text/plain").await;
    processed(&app, &bob, "c.txt", b"c", "text/plain").await;
    assert_eq!(files_under(&app.uploads).len(), 3);
    let res =
        app.delete(&format!("/api/v1/users/{}", alice_user["id"].as_str().expect("id")), Some(&admin.access)).await;
    assert_eq!(res.status(), 204);
    assert_eq!(files_under(&app.uploads).len(), 1, "only bob's file is left");
    error_shape(
        app.get(&format!("/api/v1/files/{}", file["file_id"].as_str().expect("id")), Some(&admin.access)).await,
        404,
    )
    .await;
}

#[actix_web::test]
async fn a_user_deleted_during_their_upload_gets_401_and_leaves_no_bytes_behind() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (alice_user, alice) = app.user("alice").await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let part = Part::stream(reqwest::Body::wrap_stream(chunks)).file_name("slow.txt");
    let request =
        app.request(Method::POST, "/api/v1/files", Some(&alice.access)).multipart(Form::new().part("file", part));
    let upload = tokio::spawn(request.send());

    tx.send(Ok(b"first half\n".to_vec())).await.expect("chunk");
    let deadline = Instant::now() + Duration::from_secs(10);
    while files_under(&app.uploads).is_empty() {
        assert!(Instant::now() < deadline, "the upload started writing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let res =
        app.delete(&format!("/api/v1/users/{}", alice_user["id"].as_str().expect("id")), Some(&admin.access)).await;
    assert_eq!(res.status(), 204);
    tx.send(Ok(b"second half\n".to_vec())).await.expect("chunk");
    drop(tx);

    let res = upload.await.expect("task").expect("response");
    let body = error_shape(res, 401).await;
    assert_eq!(body["detail"], "Could not validate credentials");
    assert!(files_under(&app.uploads).is_empty(), "{:?}", files_under(&app.uploads));
}

#[actix_web::test]
async fn processing_starts_when_the_upload_is_stored_not_at_the_next_poll() {
    // Workers that would otherwise look for work once a minute.
    let app = TestApp::spawn_with(&[("JOB_POLL_INTERVAL_MS", "60000")]).await;
    let (_, alice) = app.user("alice").await;
    let file = processed(&app, &alice, "now.txt", b"right away\n", "text/plain").await;
    assert_eq!(file["line_count"], 1);
}
