//! The server span of each request: named `{method} {route}`, with the HTTP semantic-convention
//! attributes, continuing the caller's W3C `traceparent` when one is sent. Its `trace_id` and
//! `request_id` fields are what every log line of the request carries (see the server's
//! telemetry). With no exporter configured the span is only a carrier of those two ids.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(actix_web::http::header::HeaderName::as_str).collect()
    }
}

/// The span for `req`, already joined to the incoming trace, with its `trace_id` recorded.
///
/// Its only `tracing` fields are the span's name and kind and the two ids the logs need; the
/// semantic-convention attributes are OpenTelemetry attributes, set only when spans are exported
/// (so they cost nothing otherwise and do not crowd every log line).
pub(crate) fn server_span(req: &ServiceRequest, request_id: &str, route: Option<&str>, client: &str) -> tracing::Span {
    let method = req.method().as_str();
    // Without a route (an unknown path) the name is the method alone: a path would make every
    // typo a span name of its own.
    let name = route.map_or_else(|| method.to_owned(), |route| format!("{method} {route}"));
    let span = tracing::info_span!(
        target: "hexgate::http",
        "request",
        otel.name = %name,
        otel.kind = "server",
        request_id = request_id,
        trace_id = Empty,
    );
    let parent = TraceContextPropagator::new().extract(&Headers(req.headers()));
    // Fails when no OpenTelemetry layer is installed (no exporter): then the trace id below comes
    // from the incoming header or is made up, for the logs alone.
    let exported = span.set_parent(parent.clone()).is_ok();
    if exported {
        let info = req.connection_info();
        span.set_attribute("http.request.method", method.to_owned());
        if let Some(route) = route {
            span.set_attribute("http.route", route.to_owned());
        }
        span.set_attribute("url.path", req.path().to_owned());
        span.set_attribute("url.scheme", info.scheme().to_owned());
        span.set_attribute("server.address", info.host().to_owned());
        span.set_attribute("client.address", client.to_owned());
        span.set_attribute("network.protocol.version", protocol_version(req.version()));
        if let Some(agent) = req.headers().get("user-agent").and_then(|v| v.to_str().ok()) {
            span.set_attribute("user_agent.original", agent.to_owned());
        }
        // No url.query: the chat's token travels in it.
    }
    let own = span.context().span().span_context().trace_id();
    let incoming = parent.span().span_context().trace_id();
    let trace_id = if own != TraceId::INVALID {
        own.to_string()
    } else if incoming != TraceId::INVALID {
        incoming.to_string()
    } else {
        uuid::Uuid::new_v4().simple().to_string()
    };
    span.record("trace_id", trace_id.as_str());
    span
}

fn protocol_version(version: actix_web::http::Version) -> &'static str {
    use actix_web::http::Version;
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// Records the answer's status on the span; a 5xx marks it failed (a 4xx is the client's).
pub(crate) fn finish(span: &tracing::Span, status: u16) {
    span.set_attribute("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.set_status(opentelemetry::trace::Status::error(""));
    }
}
