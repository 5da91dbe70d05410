use serde_json::Value;

use crate::helpers::{TestApp, error_shape};

#[actix_web::test]
async fn health_answers_healthy_without_a_rate_limit() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "1")]).await;
    for _ in 0..3 {
        let res = app.get("/health", None).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("x-ratelimit-limit").is_none());
        assert_eq!(res.json::<Value>().await.expect("json"), serde_json::json!({"status": "healthy"}));
    }
}

#[actix_web::test]
async fn ready_reports_each_dependency() {
    let app = TestApp::spawn().await;
    let res = app.get("/ready", None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "checks": {"database": "ok", "cache": "ok", "uploads": "ok"}})
    );
    // The upload folder vanishing (an unmounted volume) takes the instance out of rotation.
    std::fs::remove_dir_all(&app.uploads).expect("remove");
    let body = error_shape(app.get("/ready", None).await, 503).await;
    assert_eq!(body["checks"]["uploads"], "unavailable", "{body}");
    assert_eq!(body["checks"]["database"], "ok");
}

#[actix_web::test]
async fn the_openapi_document_names_operations_and_secures_only_protected_routes() {
    let app = TestApp::spawn().await;
    let res = app.get("/openapi.json", None).await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    assert_eq!(doc["components"]["securitySchemes"]["BearerAuth"]["scheme"], "bearer");
    let create = &doc["paths"]["/api/v1/users"]["post"];
    assert_eq!(create["operationId"], "create_user");
    assert!(create.get("security").is_none(), "sign-up is open to anonymous callers");
    let list = &doc["paths"]["/api/v1/users"]["get"];
    assert_eq!(list["operationId"], "list_users");
    assert!(list["security"].to_string().contains("BearerAuth"));
    assert!(create["responses"]["422"].is_object() && create["responses"]["409"].is_object());
    // Each operation lists only the error statuses it can answer (derived from its extractors and
    // its use case), and what is served is what `hexgate openapi` prints.
    // (403: an API key without `profile:read`; never 404.)
    let me = &doc["paths"]["/api/v1/users/me"]["get"]["responses"];
    assert!(me["401"].is_object() && me["403"].is_object() && me.get("404").is_none(), "{me}");
    let printed: Value = serde_json::from_str(&hexgate_actix_http::openapi_document().await).expect("json");
    assert!(printed == doc, "/openapi.json differs from the printed document");
    let password = &doc["components"]["schemas"]["UserCreate"]["properties"]["password"];
    assert_eq!(password["pattern"], hexgate_domain::Password::PATTERN);
    // The upload is a multipart form with one binary `file`; the download is bytes.
    let upload = &doc["paths"]["/api/v1/files"]["post"];
    let form = &upload["requestBody"]["content"]["multipart/form-data"]["schema"];
    assert_eq!(form["properties"]["file"]["format"], "binary", "{upload}");
    assert_eq!(form["required"], serde_json::json!(["file"]));
    assert!(upload["responses"]["202"].is_object() && upload["responses"]["413"].is_object());
    let download = &doc["paths"]["/api/v1/files/{id}/content"]["get"];
    assert_eq!(download["responses"]["200"]["content"]["*/*"]["schema"]["format"], "binary");
    assert_eq!(doc["paths"]["/api/v1/tasks/{id}"]["get"]["operationId"], "read_task");
    // Every $ref resolves.
    let text = doc.to_string();
    for piece in text.split("#/components/schemas/").skip(1) {
        let name: String = piece.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        assert!(doc["components"]["schemas"][&name].is_object(), "unresolved $ref {name}");
    }
}

#[actix_web::test]
async fn the_docs_pages_and_their_assets_are_served_by_hexgate_itself() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "1")]).await;
    for (page, asset) in [("/docs", "/docs/swagger-ui-bundle.js"), ("/redoc", "/redoc/redoc.standalone.js")] {
        let res = app.get(page, None).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
        let html = res.text().await.expect("html");
        assert!(html.contains(asset) && html.contains("/openapi.json"), "{html}");
        assert!(!html.contains("cdn") && !html.contains("unpkg"), "no third-party script host");
        let js = app.get(asset, None).await;
        assert_eq!(js.status(), 200, "{asset}");
        assert!(js.bytes().await.expect("body").len() > 100_000, "{asset} is the real bundle");
    }
    assert_eq!(app.get("/docs/swagger-ui.css", None).await.status(), 200);
}

#[actix_web::test]
async fn docs_routes_are_absent_when_disabled() {
    let app = TestApp::spawn_with(&[("DOCS_ENABLED", "false")]).await;
    error_shape(app.get("/openapi.json", None).await, 404).await;
    error_shape(app.get("/docs", None).await, 404).await;
    error_shape(app.get("/redoc/redoc.standalone.js", None).await, 404).await;
}

#[actix_web::test]
async fn a_sane_request_id_is_kept_and_a_bad_one_replaced() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/health")).header("x-request-id", "trace-42.a_b").send().await.expect("send");
    assert_eq!(res.headers()["x-request-id"], "trace-42.a_b");
    let res = app.client.get(app.url("/health")).header("x-request-id", "bad id;drop").send().await.expect("send");
    let id = res.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert_ne!(id, "bad id;drop");
    assert_eq!(id.len(), 36);
    let res = app.client.get(app.url("/health")).send().await.expect("send");
    assert!(res.headers().get("x-request-id").is_some());
}

#[actix_web::test]
async fn the_first_superuser_is_created_once_across_restarts() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let page: Value = app.get("/api/v1/users", Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["permissions"], serde_json::json!(["admin"]));
    // A second instance on the same database finds the admin and creates nothing.
    let config =
        hexgate_server::config::Config::from_vars(&crate::helpers::test_vars(&app.database_url, &[])).expect("config");
    let second = hexgate_server::startup::Application::build(&config).await.expect("second start");
    let url = format!("http://127.0.0.1:{}/api/v1/users", second.port);
    let handle = second.server.handle.clone();
    actix_web::rt::spawn(second.run_until_stopped());
    let page: Value =
        app.client.get(url).bearer_auth(&admin.access).send().await.expect("send").json().await.expect("json");
    assert_eq!(page["total"], 1);
    handle.stop(true).await;
}

#[actix_web::test]
async fn cors_admits_only_the_configured_origins() {
    let app = TestApp::spawn_with(&[("ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/users/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://app.example.com").await.expect("send");
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://app.example.com");
    let evil = preflight("https://evil.example.com").await.expect("send");
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    let res =
        app.client.get(app.url("/health")).header("origin", "https://app.example.com").send().await.expect("send");
    assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example.com");
    assert!(res.headers()["access-control-expose-headers"].to_str().expect("ascii").contains("x-request-id"));
}
