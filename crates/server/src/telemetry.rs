//! One subscriber for the process: JSON lines or human-readable logs filtered by `RUST_LOG`, and,
//! only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, an OpenTelemetry layer exporting spans over
//! OTLP/HTTP from a batch processor on its own thread (never on the request path).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::config::{LogFormat, ObservabilitySettings};

/// Keeps the span exporter alive; dropping it flushes what is queued (bounded by the exporter's
/// timeout) and stops the batch thread.
#[must_use = "spans are flushed when this is dropped: keep it until the process ends"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

fn log_filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"))
}

/// Logs only (tests, and commands other than `serve`).
pub fn init(format: LogFormat) {
    let settings = ObservabilitySettings {
        metrics_enabled: false,
        metrics_addr: None,
        metrics_access: hexgate_actix_http::MetricsAccess::Closed,
        otlp_endpoint: None,
        service_name: "hexgate".to_owned(),
    };
    drop(init_with(format, &settings));
}

/// Logs, and traces when an OTLP endpoint is configured. A second call (tests) keeps the first
/// subscriber.
pub fn init_with(format: LogFormat, settings: &ObservabilitySettings) -> Telemetry {
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .with_filter(log_filter())
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_target(true).with_filter(log_filter()).boxed(),
    };
    let mut layers = vec![logs];
    let mut provider = None;
    if let Some(endpoint) = &settings.otlp_endpoint {
        match tracer_provider(endpoint, &settings.service_name) {
            Ok(built) => {
                let tracer = built.tracer("hexgate");
                // Our own spans (requests, jobs, Redis) and sea-orm's statement spans; never the
                // exporter's own HTTP client, which would trace its own exports.
                let targets = Targets::new().with_target("hexgate", Level::INFO).with_target("sea_orm", Level::INFO);
                layers.push(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(targets).boxed());
                provider = Some(built);
            }
            Err(error) => eprintln!("hexgate: traces are not exported: {error}"),
        }
    }
    let initialised = tracing_subscriber::registry().with(layers).try_init().is_ok();
    if let (true, Some(endpoint)) = (initialised, &settings.otlp_endpoint) {
        tracing::info!(%endpoint, service = %settings.service_name, "exporting traces over OTLP/HTTP");
    }
    Telemetry { provider: provider.filter(|_| initialised) }
}

fn tracer_provider(endpoint: &str, service_name: &str) -> Result<SdkTracerProvider, String> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .with_timeout(Duration::from_secs(3))
        .build()
        .map_err(|e| e.to_string())?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service_name.to_owned()).build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(WarnOnce::new(exporter, endpoint))
        .with_sampler(NoOrphanClientSpans)
        .with_resource(resource)
        .build())
}

/// Samples every trace a request or a job starts (and follows an incoming `traceparent`'s
/// decision), but not the database and Redis calls made outside any of them: the job workers
/// poll the queue a few times a second, and each poll would be a trace of its own.
#[derive(Debug, Clone)]
struct NoOrphanClientSpans;

impl opentelemetry_sdk::trace::ShouldSample for NoOrphanClientSpans {
    fn should_sample(
        &self,
        parent_context: Option<&opentelemetry::Context>,
        trace_id: opentelemetry::trace::TraceId,
        name: &str,
        span_kind: &opentelemetry::trace::SpanKind,
        attributes: &[opentelemetry::KeyValue],
        links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        let orphan = !parent_context.is_some_and(TraceContextExt::has_active_span);
        if orphan && (name.starts_with("sea_orm") || name.starts_with("redis")) {
            return opentelemetry_sdk::trace::SamplingResult {
                decision: opentelemetry_sdk::trace::SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: opentelemetry::trace::TraceState::default(),
            };
        }
        opentelemetry_sdk::trace::Sampler::ParentBased(Box::new(opentelemetry_sdk::trace::Sampler::AlwaysOn))
            .should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

/// A span exporter that says once that the collector is unreachable, then drops spans quietly
/// until it is back (and says so again if it goes away again).
#[derive(Debug)]
struct WarnOnce<E> {
    inner: E,
    endpoint: String,
    failing: AtomicBool,
}

impl<E> WarnOnce<E> {
    fn new(inner: E, endpoint: &str) -> Self {
        Self { inner, endpoint: endpoint.to_owned(), failing: AtomicBool::new(false) }
    }
}

impl<E: opentelemetry_sdk::trace::SpanExporter> opentelemetry_sdk::trace::SpanExporter for WarnOnce<E> {
    async fn export(&self, batch: Vec<opentelemetry_sdk::trace::SpanData>) -> opentelemetry_sdk::error::OTelSdkResult {
        let spans = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(endpoint = %self.endpoint, "trace collector reachable again");
                }
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(endpoint = %self.endpoint, %error, spans, "trace collector unreachable: spans are dropped until it answers");
                }
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

/// Links a job's span to the request that queued it, from the job's stored `traceparent`.
#[must_use]
pub fn job_link() -> hexgate_ports::TraceLink {
    Arc::new(|span: &tracing::Span, traceparent: &str| {
        let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
        let context = TraceContextPropagator::new().extract(&carrier);
        let queued_by = context.span().span_context().clone();
        if queued_by.is_valid() {
            span.add_link(queued_by);
        }
    })
}

/// JSON lines: `timestamp`, `level`, `target`, the event's fields, and the `request_id` and
/// `trace_id` of the request the event belongs to (from the nearest span that has them).
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> std::fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert("timestamp".into(), chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).into());
        line.insert("level".into(), meta.level().as_str().into());
        event.record(&mut JsonVisitor(&mut line));
        line.insert("target".into(), meta.target().into());
        if let Some(scope) = ctx.event_scope() {
            for span in scope {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else { continue };
                let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) else { continue };
                for key in ["request_id", "trace_id"] {
                    if !line.contains_key(key)
                        && let Some(value) = fields.get(key)
                    {
                        line.insert(key.into(), value.clone());
                    }
                }
                if line.contains_key("request_id") && line.contains_key("trace_id") {
                    break;
                }
            }
        }
        let text = serde_json::to_string(&line).map_err(|_| std::fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}").into());
    }
}
