//! Metrics and traces (API.md "Observability", docs/observability.md): `/metrics` parsed from its
//! exposition text, counts checked to rise by exactly the requests made; traces received by a
//! real OTLP/HTTP receiver started here, decoded with `opentelemetry-proto`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, error_code, start_binary};

// ---------------------------------------------------------------------------------------------
// The exposition text

/// One sample line: `name{label="value",…} 12.5`.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

struct Exposition {
    text: String,
    samples: Vec<Sample>,
}

impl Exposition {
    fn parse(text: String) -> Self {
        let samples = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| parse_sample(l).unwrap_or_else(|| panic!("not an exposition line: {l:?}")))
            .collect();
        Self { text, samples }
    }

    /// The sample with exactly these labels; 0 when there is none yet (a counter not yet touched).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels).map_or(0.0, |s| s.value)
    }

    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Sample> {
        let wanted: BTreeMap<String, String> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.samples.iter().find(|s| s.name == name && s.labels == wanted)
    }

    fn all(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }
}

fn parse_sample(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        v => v.parse().ok()?,
    };
    let Some((name, rest)) = series.split_once('{') else {
        return Some(Sample { name: series.to_owned(), labels: BTreeMap::new(), value });
    };
    let body = rest.strip_suffix('}')?;
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        if chars.next()? != '"' {
            return None;
        }
        let mut val = String::new();
        loop {
            match chars.next()? {
                '\\' => val.push(chars.next()?),
                '"' => break,
                c => val.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_owned(), val);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    Some(Sample { name: name.to_owned(), labels, value })
}

async fn scrape(app: &TestApp) -> Exposition {
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), 200, "/metrics");
    let content_type = res.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    Exposition::parse(res.text().await.expect("text"))
}

/// Scrapes until `check` holds (state that settles after the response: a job, a closed socket).
async fn scrape_until(app: &TestApp, what: &str, check: impl Fn(&Exposition) -> bool) -> Exposition {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = scrape(app).await;
        if check(&metrics) {
            return metrics;
        }
        assert!(Instant::now() < deadline, "{what} within 10 s:\n{}", metrics.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const REQUESTS: &str = "http_requests_total";
const USER_BY_ID: &str = "/api/v1/users/{id}";

#[actix_web::test]
async fn requests_are_counted_by_route_pattern_and_status_with_latency_histograms() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let before = scrape(&app).await;

    let ids: Vec<String> = (0..3).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for id in &ids {
        let res = app.get(&format!("/api/v1/users/{id}"), Some(&admin.access)).await;
        assert_eq!(res.status(), 404);
    }
    for _ in 0..2 {
        assert_eq!(app.get("/health", None).await.status(), 200);
    }
    let stray = uuid::Uuid::new_v4().to_string();
    assert_eq!(app.get(&format!("/no/such/{stray}"), None).await.status(), 404);
    let after = scrape(&app).await;

    let delta = |name: &str, labels: &[(&str, &str)]| after.value(name, labels) - before.value(name, labels);
    assert_eq!(delta(REQUESTS, &[("method", "GET"), ("route", USER_BY_ID), ("status", "404")]), 3.0);
    assert_eq!(delta(REQUESTS, &[("method", "GET"), ("route", "/health"), ("status", "200")]), 2.0);
    assert_eq!(delta(REQUESTS, &[("method", "GET"), ("route", "unmatched"), ("status", "404")]), 1.0);
    // The first scrape is counted by the second.
    assert_eq!(delta(REQUESTS, &[("method", "GET"), ("route", "/metrics"), ("status", "200")]), 1.0);

    // The latency histogram: buckets rising to +Inf, which equals _count; a positive _sum.
    let route = [("method", "GET"), ("route", USER_BY_ID)];
    assert_eq!(delta("http_request_duration_seconds_count", &route), 3.0);
    assert!(delta("http_request_duration_seconds_sum", &route) > 0.0);
    let mut buckets: Vec<(f64, f64)> = after
        .all("http_request_duration_seconds_bucket")
        .into_iter()
        .filter(|s| s.labels["route"] == USER_BY_ID && s.labels["method"] == "GET")
        .map(|s| (if s.labels["le"] == "+Inf" { f64::INFINITY } else { s.labels["le"].parse().expect("le") }, s.value))
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.len() > 5, "{buckets:?}");
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative buckets: {buckets:?}");
    assert_eq!(
        buckets.last().expect("+Inf"),
        &(f64::INFINITY, after.value("http_request_duration_seconds_count", &route))
    );

    // Never a literal id in a label.
    for id in ids.iter().chain([&stray]) {
        assert!(!after.text.contains(id.as_str()), "{id} in the exposition");
    }
    assert!(after.samples.iter().all(|s| s.labels.get("route").is_none_or(|r| !r.contains("/no/such"))));

    // The pool (DATABASE_POOL_SIZE=5 in the tests), the backlog and the process.
    assert_eq!(after.value("db_pool_max_connections", &[]), 5.0);
    let idle = after.find("db_pool_connections", &[("state", "idle")]).expect("idle").value;
    let in_use = after.find("db_pool_connections", &[("state", "in_use")]).expect("in_use").value;
    assert!((1.0..=5.0).contains(&(idle + in_use)), "idle {idle} + in use {in_use}");
    assert!(after.find("jobs_pending", &[]).is_some(), "{}", after.text);
    assert!(after.value("process_resident_memory_bytes", &[]) > 1_000_000.0);
    assert_eq!(after.value("chat_connections", &[]), 0.0);
}

#[actix_web::test]
async fn logins_are_counted_by_outcome() {
    let app = TestApp::spawn_with(&[("LOGIN_MAX_FAILURES", "2")]).await;
    app.register("counted", "Password123").await;
    let before = scrape(&app).await;

    app.login("counted", "Password123").await;
    for _ in 0..2 {
        assert_eq!(app.login_response("counted", "WrongGuess123").await.status(), 401);
    }
    assert_eq!(app.login_response("counted", "WrongGuess123").await.status(), 429, "past the limit");
    assert_eq!(app.login_response("nobody", "WrongGuess123").await.status(), 401, "unknown user");
    let after = scrape(&app).await;

    let delta = |outcome: &str| {
        after.value("auth_logins_total", &[("outcome", outcome)])
            - before.value("auth_logins_total", &[("outcome", outcome)])
    };
    assert_eq!((delta("success"), delta("failure"), delta("locked")), (1.0, 3.0, 1.0), "{}", after.text);
    assert_eq!(delta("mfa_required"), 0.0);
}

#[actix_web::test]
async fn a_job_run_is_counted_by_kind_and_leaves_the_backlog() {
    let app = TestApp::spawn().await;
    app.register("jobbed", "Password123").await;
    app.wait_for_mail("jobbed@example.com", "Welcome").await;
    let metrics = scrape_until(&app, "the welcome mail job counted", |m| {
        m.value("jobs_completed_total", &[("kind", "welcome_mail")]) == 1.0
    })
    .await;
    assert_eq!(metrics.value("jobs_failed_total", &[("kind", "welcome_mail")]), 0.0);
    scrape_until(&app, "an empty backlog", |m| m.value("jobs_pending", &[]) == 0.0).await;
}

#[actix_web::test]
async fn chat_connections_go_up_and_down() {
    let app = TestApp::spawn().await;
    let (_, tokens) = app.user("chatty").await;
    let mut first = crate::chat::connect_url(&app.ws_url(&format!("/ws/one?token={}", tokens.access))).await;
    let second = crate::chat::connect_url(&app.ws_url(&format!("/ws/two?token={}", tokens.access))).await;
    scrape_until(&app, "two connections", |m| m.value("chat_connections", &[]) == 2.0).await;
    drop(second);
    scrape_until(&app, "one connection", |m| m.value("chat_connections", &[]) == 1.0).await;
    first.close(None).await.expect("close");
    let metrics = scrape_until(&app, "no connection", |m| m.value("chat_connections", &[]) == 0.0).await;
    // The socket route is a pattern too: no client id in any label.
    assert!(!metrics.text.contains("/ws/one"), "{}", metrics.text);
    assert_eq!(metrics.value(REQUESTS, &[("method", "GET"), ("route", "/ws/{client_id}"), ("status", "101")]), 2.0);
}

#[actix_web::test]
async fn rate_limited_requests_are_counted_by_route_and_metrics_are_never_limited() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "2")]).await;
    let (_, tokens) = app.user("limited").await;
    for expected in [200, 200, 429] {
        assert_eq!(app.get("/api/v1/users/me", Some(&tokens.access)).await.status(), expected);
    }
    for _ in 0..4 {
        scrape(&app).await;
    }
    let metrics = scrape(&app).await;
    assert_eq!(metrics.value("rate_limited_total", &[("route", "/api/v1/users/me")]), 1.0, "{}", metrics.text);
    assert_eq!(metrics.value(REQUESTS, &[("method", "GET"), ("route", "/api/v1/users/me"), ("status", "429")]), 1.0);
}

#[actix_web::test]
async fn production_hides_metrics_without_a_token_and_asks_for_it_when_set() {
    let hidden = TestApp::spawn_with(&[("ENVIRONMENT", "production")]).await;
    error_code(hidden.get("/metrics", None).await, 404, "not_found").await;

    let token = "scrape-token-0123456789";
    let app = TestApp::spawn_with(&[("ENVIRONMENT", "production"), ("METRICS_TOKEN", token)]).await;
    error_code(app.get("/metrics", None).await, 404, "not_found").await;
    error_code(app.get("/metrics", Some("scrape-token-0123456788")).await, 404, "not_found").await;
    error_code(app.get("/metrics", Some("scrape-token")).await, 404, "not_found").await;
    let res = app.get("/metrics", Some(token)).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("text").contains("process_resident_memory_bytes"));
}

#[actix_web::test]
async fn metrics_can_be_served_on_their_own_port_or_turned_off() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let addr = format!("127.0.0.1:{port}");
    let app = TestApp::spawn_with(&[("METRICS_ADDR", &addr)]).await;
    assert_eq!(app.get("/health", None).await.status(), 200);
    error_code(app.get("/metrics", None).await, 404, "not_found").await;
    let res = app.client.get(format!("http://{addr}/metrics")).send().await.expect("scrape");
    assert_eq!(res.status(), 200);
    let metrics = Exposition::parse(res.text().await.expect("text"));
    assert_eq!(metrics.value(REQUESTS, &[("method", "GET"), ("route", "/health"), ("status", "200")]), 1.0);
    assert_eq!(metrics.value(REQUESTS, &[("method", "GET"), ("route", "/metrics"), ("status", "404")]), 1.0);
    let elsewhere = app.client.get(format!("http://{addr}/health")).send().await.expect("request");
    assert_eq!(elsewhere.status(), 404, "the metrics port serves nothing else");

    let off = TestApp::spawn_with(&[("METRICS_ENABLED", "false")]).await;
    error_code(off.get("/metrics", None).await, 404, "not_found").await;
}

// ---------------------------------------------------------------------------------------------
// Traces

/// An OTLP/HTTP receiver: decodes each `ExportTraceServiceRequest` and keeps its spans.
struct Receiver {
    endpoint: String,
    spans: Arc<Mutex<Vec<Span>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    fn start() -> Self {
        use actix_web::{App, HttpResponse, HttpServer, web};
        let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
        let store = spans.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let server = HttpServer::new(move || {
            let store = store.clone();
            App::new().app_data(web::PayloadConfig::new(16 * 1024 * 1024)).route(
                "/v1/traces",
                web::post().to(move |body: web::Bytes| {
                    let store = store.clone();
                    async move {
                        let request = ExportTraceServiceRequest::decode(body).expect("an ExportTraceServiceRequest");
                        let mut spans = store.lock().expect("lock");
                        for resource in request.resource_spans {
                            for scope in resource.scope_spans {
                                spans.extend(scope.spans);
                            }
                        }
                        HttpResponse::Ok()
                            .content_type("application/x-protobuf")
                            .body(ExportTraceServiceResponse::default().encode_to_vec())
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self { endpoint, spans, handle }
    }

    /// Waits until a span matches `pick`.
    async fn wait_for(&self, what: &str, pick: impl Fn(&Span) -> bool) -> Span {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(span) = self.spans.lock().expect("lock").iter().find(|s| pick(s)) {
                return span.clone();
            }
            if Instant::now() > deadline {
                let names: Vec<String> = self.spans.lock().expect("lock").iter().map(|s| s.name.clone()).collect();
                panic!("no {what} among {} spans received: {names:?}", names.len());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn attribute(span: &Span, key: &str) -> Option<Any> {
    span.attributes.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.clone()).and_then(|v| v.value)
}

fn text_attribute(span: &Span, key: &str) -> Option<String> {
    match attribute(span, key)? {
        Any::StringValue(s) => Some(s),
        other => Some(format!("{other:?}")),
    }
}

fn int_attribute(span: &Span, key: &str) -> Option<i64> {
    match attribute(span, key)? {
        Any::IntValue(i) => Some(i),
        Any::StringValue(s) => s.parse().ok(),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const SERVER: i32 = 2;
const CLIENT: i32 = 3;
const CONSUMER: i32 = 5;

fn redis_vars() -> Vec<(String, String)> {
    if std::env::var("HEXGATE_TEST_REDIS").is_ok_and(|v| !v.is_empty() && v != "0") {
        let url = std::env::var("HEXGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        vec![
            ("REDIS_URL".to_owned(), url),
            ("REDIS_KEY_PREFIX".to_owned(), format!("hexgate-test:{}:", uuid::Uuid::new_v4().simple())),
        ]
    } else {
        Vec::new()
    }
}

fn stop(mut child: std::process::Child) {
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[actix_web::test]
async fn requests_db_calls_and_jobs_are_traced_over_otlp_and_logs_carry_the_trace() {
    let receiver = Receiver::start();
    let (_db, url) = TestDb::create().await;
    let redis = redis_vars();
    let mut extra: Vec<(&str, &str)> = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "hexgate-under-test"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("JOB_POLL_INTERVAL_MS", "100"),
        ("RUST_LOG", "info"),
    ];
    extra.extend(redis.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (child, port, logs) = start_binary(&url, &extra);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    // A request continuing the caller's trace.
    let (trace_id, parent_id) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let res = client
        .get(format!("{base}/health"))
        .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
        .header("x-request-id", "traced-health-1")
        .send()
        .await
        .expect("health");
    assert_eq!(res.status(), 200);
    // A sign-up: database statements, and a welcome-mail job queued by this request.
    let signup_trace = "0af7651916cd43dd8448eb211c80319c";
    let res = client
        .post(format!("{base}/api/v1/users"))
        .header("traceparent", format!("00-{signup_trace}-b7ad6b7169203331-01"))
        .json(&json!({"email": "traced@example.com", "username": "traced", "password": "Password123"}))
        .send()
        .await
        .expect("sign-up");
    assert_eq!(res.status(), 201);
    // No traceparent: a trace of its own.
    let res = client.get(format!("{base}/api/v1/users/{}", uuid::Uuid::new_v4())).send().await.expect("get");
    assert_eq!(res.status(), 401);

    let health =
        receiver.wait_for("server span of GET /health", |s| hex(&s.trace_id) == trace_id && s.kind == SERVER).await;
    assert_eq!(health.name, "GET /health");
    assert_eq!(hex(&health.parent_span_id), parent_id, "the caller's span is the parent");
    assert_eq!(text_attribute(&health, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(text_attribute(&health, "http.route").as_deref(), Some("/health"));
    assert_eq!(text_attribute(&health, "url.path").as_deref(), Some("/health"));
    assert_eq!(int_attribute(&health, "http.response.status_code"), Some(200));
    assert_eq!(text_attribute(&health, "request_id").as_deref(), Some("traced-health-1"));

    let signup =
        receiver.wait_for("server span of the sign-up", |s| hex(&s.trace_id) == signup_trace && s.kind == SERVER).await;
    assert_eq!(signup.name, "POST /api/v1/users");
    assert_eq!(int_attribute(&signup, "http.response.status_code"), Some(201));
    let statement = receiver
        .wait_for("a database span in the sign-up's trace", |s| {
            hex(&s.trace_id) == signup_trace && s.kind == CLIENT && text_attribute(s, "db.system").is_some()
        })
        .await;
    assert!(
        ["sqlite", "postgresql"].contains(&text_attribute(&statement, "db.system").expect("db.system").as_str()),
        "{statement:?}"
    );
    assert!(!statement.parent_span_id.is_empty(), "a child span");
    let job = receiver.wait_for("the welcome-mail job's span", |s| s.name == "job welcome_mail").await;
    assert_eq!(job.kind, CONSUMER);
    assert!(
        job.links.iter().any(|l| hex(&l.trace_id) == signup_trace),
        "the job links to the request that queued it: {:?}",
        job.links
    );
    let anonymous = receiver
        .wait_for("server span of the unauthenticated read", |s| s.name == "GET /api/v1/users/{id}" && s.kind == SERVER)
        .await;
    assert!(anonymous.parent_span_id.is_empty(), "no traceparent: a new trace");
    assert_eq!(text_attribute(&anonymous, "http.route").as_deref(), Some("/api/v1/users/{id}"));
    if !redis.is_empty() {
        let redis = receiver
            .wait_for("a Redis span in the sign-up's trace", |s| {
                hex(&s.trace_id) == signup_trace && text_attribute(s, "db.system.name").as_deref() == Some("redis")
            })
            .await;
        assert_eq!(redis.kind, CLIENT);
    }

    stop(child);
    receiver.handle.stop(false).await;
    // Every log line of a request carries its trace id and request id.
    let lines: Vec<Value> = logs.try_iter().filter_map(|l| serde_json::from_str(&l).ok()).collect();
    let access: Vec<&Value> = lines.iter().filter(|l| l["target"] == "hexgate::access").collect();
    assert!(access.len() >= 3, "{lines:#?}");
    let health_line = access.iter().find(|l| l["route"] == "/health").expect("the access line of /health");
    assert_eq!(health_line["trace_id"], trace_id);
    assert_eq!(health_line["request_id"], "traced-health-1");
    for line in lines.iter().filter(|l| !l["request_id"].is_null()) {
        assert!(line["trace_id"].as_str().is_some_and(|t| t.len() == 32), "{line}");
    }
}

/// Times `n` sequential `GET /health` after a warm-up.
async fn time_requests(base: &str, n: usize) -> Duration {
    let client = reqwest::Client::new();
    for _ in 0..20 {
        client.get(format!("{base}/health")).send().await.expect("warm-up");
    }
    let started = Instant::now();
    for _ in 0..n {
        let res = client.get(format!("{base}/api/v1/users/me")).send().await.expect("request");
        assert_eq!(res.status(), 401);
    }
    started.elapsed()
}

#[actix_web::test]
async fn a_dead_collector_costs_spans_and_one_warning_not_latency() {
    let (_db, url) = TestDb::create().await;
    // A port nobody listens on, and a collector that accepts connections and never answers.
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}", silent.local_addr().expect("addr"));
    let mut results = Vec::new();
    for endpoint in [None, Some(refused.as_str()), Some(silent_url.as_str())] {
        let mut extra = vec![
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("RUST_LOG", "warn,hexgate_server=info"),
            ("RATE_LIMIT_PER_MINUTE", "1000000"),
        ];
        if let Some(endpoint) = endpoint {
            extra.push(("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint));
        }
        let (child, port, logs) = start_binary(&url, &extra);
        let elapsed = time_requests(&format!("http://127.0.0.1:{port}"), 300).await;
        // Long enough for several export attempts to fail.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = time_requests(&format!("http://127.0.0.1:{port}"), 50).await;
        stop(child);
        let warnings = logs.try_iter().filter(|l| l.contains("trace collector unreachable")).count();
        results.push((endpoint.map(str::to_owned), elapsed, warnings));
    }
    drop(silent);
    eprintln!("300 requests: {results:?}");
    let baseline = results[0].1;
    for (endpoint, elapsed, _) in &results[1..] {
        assert!(
            *elapsed < baseline * 3 + Duration::from_millis(500),
            "{endpoint:?}: {elapsed:?} against {baseline:?} without an exporter"
        );
    }
    assert_eq!(results[0].2, 0);
    assert_eq!(results[1].2, 1, "a refused collector is reported once: {results:?}");
    assert!(results[2].2 <= 1, "{results:?}");
}

/// `traceparent` on a request to the in-process app: the access log is checked by the binary test
/// above; here the server answers as usual whatever the header holds.
#[actix_web::test]
async fn a_malformed_traceparent_is_ignored() {
    let app = TestApp::spawn().await;
    for header in ["garbage", "00-00000000000000000000000000000000-0000000000000000-01", "ff-xyz"] {
        let res = app.request(Method::GET, "/health", None).header("traceparent", header).send().await.expect("health");
        assert_eq!(res.status(), 200, "{header}");
    }
}
