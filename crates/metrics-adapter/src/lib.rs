//! The metrics port on `metrics-exporter-prometheus`: figures kept in this instance's own
//! recorder (never the process-wide one, so two apps in one process never mix their counts) and
//! rendered as Prometheus text when scraped. Gauges that describe state (pool, job backlog,
//! memory) are read from their sources at scrape time.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hexgate_ports::{GaugeReading, GaugeSource, JobOutcome, LoginOutcome, Metrics};
use metrics::{Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Latency buckets, in seconds: from a cached read (~1 ms) to a stuck request (10 s).
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static METADATA: Metadata<'static> = Metadata::new("hexgate", Level::INFO, Some(module_path!()));

/// Prometheus text exposition of this instance's metrics.
pub struct PrometheusMetrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    sources: Vec<Arc<dyn GaugeSource>>,
}

impl Default for PrometheusMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl PrometheusMetrics {
    #[must_use]
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new();
        // Buckets make the latency a histogram (`_bucket`, `_sum`, `_count`): quantiles are then
        // computed by Prometheus across instances, which a summary cannot do.
        let builder = builder
            .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".into()), LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let this = Self { recorder, handle, sources: vec![Arc::new(ProcessMemory)] };
        this.describe();
        // The gauges every scrape shows, even before anything happened.
        this.gauge("chat_connections", &[]).set(0.0);
        this
    }

    /// Adds a source read at every scrape.
    #[must_use]
    pub fn with_source(mut self, source: Arc<dyn GaugeSource>) -> Self {
        self.sources.push(source);
        self
    }

    fn describe(&self) {
        let r = &self.recorder;
        let text = |s: &'static str| SharedString::from(s);
        r.describe_counter(
            KeyName::from("http_requests_total"),
            None,
            text("HTTP requests answered, by route pattern"),
        );
        r.describe_histogram(
            KeyName::from("http_request_duration_seconds"),
            Some(Unit::Seconds),
            text("Time to answer a request, by route pattern"),
        );
        r.describe_gauge(KeyName::from("db_pool_connections"), None, text("Database pool connections by state"));
        r.describe_gauge(KeyName::from("db_pool_max_connections"), None, text("Database pool size limit"));
        r.describe_gauge(KeyName::from("jobs_pending"), None, text("Jobs queued and not yet run (retries included)"));
        r.describe_gauge(
            KeyName::from("jobs_oldest_pending_seconds"),
            Some(Unit::Seconds),
            text("How long the oldest due job has waited"),
        );
        r.describe_counter(KeyName::from("jobs_completed_total"), None, text("Job runs that succeeded, by kind"));
        r.describe_counter(KeyName::from("jobs_failed_total"), None, text("Job runs that failed (retried or not)"));
        r.describe_counter(KeyName::from("auth_logins_total"), None, text("Login attempts by outcome"));
        r.describe_counter(KeyName::from("rate_limited_total"), None, text("Requests refused by the rate limiter"));
        r.describe_gauge(KeyName::from("chat_connections"), None, text("Open chat WebSockets on this instance"));
        r.describe_gauge(
            KeyName::from("process_resident_memory_bytes"),
            Some(Unit::Bytes),
            text("Resident memory of the process"),
        );
    }

    fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> metrics::Counter {
        self.recorder.register_counter(&key(name, labels), &METADATA)
    }

    fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)]) -> metrics::Gauge {
        self.recorder.register_gauge(&key(name, labels), &METADATA)
    }
}

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    let labels: Vec<Label> = labels.iter().map(|(k, v)| Label::new(*k, (*v).to_owned())).collect();
    Key::from_parts(name, labels)
}

#[async_trait]
impl Metrics for PrometheusMetrics {
    fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        self.counter("http_requests_total", &[("method", method), ("route", route), ("status", &status)]).increment(1);
        self.recorder
            .register_histogram(
                &key("http_request_duration_seconds", &[("method", method), ("route", route)]),
                &METADATA,
            )
            .record(elapsed.as_secs_f64());
    }

    fn login(&self, outcome: LoginOutcome) {
        self.counter("auth_logins_total", &[("outcome", outcome.as_str())]).increment(1);
    }

    fn rate_limited(&self, route: &str) {
        self.counter("rate_limited_total", &[("route", route)]).increment(1);
    }

    fn job_finished(&self, kind: &str, outcome: JobOutcome) {
        let name = match outcome {
            JobOutcome::Completed => "jobs_completed_total",
            JobOutcome::Failed => "jobs_failed_total",
        };
        self.counter(name, &[("kind", kind)]).increment(1);
    }

    fn chat_connections(&self, delta: i64) {
        #[allow(clippy::cast_precision_loss)]
        self.gauge("chat_connections", &[]).increment(delta as f64);
    }

    async fn render(&self) -> Option<String> {
        for source in &self.sources {
            for GaugeReading { name, labels, value } in source.read().await {
                self.gauge(name, &labels).set(value);
            }
        }
        Some(self.handle.render())
    }
}

/// `process_resident_memory_bytes` from `/proc/self/status` (Linux; elsewhere, nothing).
struct ProcessMemory;

#[async_trait]
impl GaugeSource for ProcessMemory {
    async fn read(&self) -> Vec<GaugeReading> {
        let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return Vec::new() };
        resident_bytes(&status)
            .map(|bytes| {
                #[allow(clippy::cast_precision_loss)]
                let bytes = bytes as f64;
                vec![GaugeReading::new("process_resident_memory_bytes", bytes)]
            })
            .unwrap_or_default()
    }
}

/// `VmRSS:    12345 kB` → bytes.
fn resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
    }

    #[tokio::test]
    async fn counts_render_by_label_and_latency_is_a_histogram() {
        let m = PrometheusMetrics::new();
        m.http_request("GET", "/api/v1/users/{id}", 200, Duration::from_millis(3));
        m.http_request("GET", "/api/v1/users/{id}", 200, Duration::from_millis(30));
        m.http_request("GET", "unmatched", 404, Duration::from_millis(1));
        m.login(LoginOutcome::Locked);
        m.job_finished("welcome_mail", JobOutcome::Completed);
        m.chat_connections(1);
        m.chat_connections(1);
        m.chat_connections(-1);
        let text = m.render().await.expect("on");
        assert_eq!(
            value(&text, r#"http_requests_total{method="GET",route="/api/v1/users/{id}",status="200"}"#),
            Some(2.0),
            "{text}"
        );
        assert_eq!(value(&text, r#"http_requests_total{method="GET",route="unmatched",status="404"}"#), Some(1.0));
        assert_eq!(
            value(&text, r#"http_request_duration_seconds_bucket{method="GET",route="/api/v1/users/{id}",le="0.005"}"#),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            value(&text, r#"http_request_duration_seconds_count{method="GET",route="/api/v1/users/{id}"}"#),
            Some(2.0)
        );
        assert_eq!(value(&text, r#"auth_logins_total{outcome="locked"}"#), Some(1.0));
        assert_eq!(value(&text, r#"jobs_completed_total{kind="welcome_mail"}"#), Some(1.0));
        assert_eq!(value(&text, "chat_connections"), Some(1.0));
        assert!(value(&text, "process_resident_memory_bytes").is_some_and(|b| b > 0.0), "{text}");
    }

    #[tokio::test]
    async fn two_instances_keep_their_own_figures() {
        let (a, b) = (PrometheusMetrics::new(), PrometheusMetrics::new());
        a.rate_limited("/api/v1/users");
        let text = b.render().await.expect("on");
        assert!(!text.contains("rate_limited_total{"), "{text}");
    }

    #[test]
    fn resident_memory_is_read_in_bytes() {
        assert_eq!(resident_bytes("Name:\tx\nVmRSS:\t   2048 kB\nVmSwap: 0 kB\n"), Some(2048 * 1024));
        assert_eq!(resident_bytes("Name:\tx\n"), None);
    }
}
