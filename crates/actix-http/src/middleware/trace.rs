//! The server span of each request: named `{method} {route}`, with the HTTP semantic-convention
//! attributes, continuing the caller's W3C `traceparent` when one is sent. Its `trace_id` and
//! `request_id` fields are what every log line of the request carries (see the server's
//! telemetry). With no exporter configured the span is only a carrier of those two ids.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
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
        otel.status_code = Empty,
        http.request.method = method,
        http.route = route,
        http.response.status_code = Empty,
        url.path = req.path(),
        url.scheme = req.connection_info().scheme(),
        // No url.query: the chat's token travels in it.
        server.address = req.connection_info().host(),
        client.address = client,
        network.protocol.version = ?req.version(),
        user_agent.original = req.headers().get("user-agent").and_then(|v| v.to_str().ok()),
        request_id = request_id,
        trace_id = Empty,
    );
    let parent = TraceContextPropagator::new().extract(&Headers(req.headers()));
    // Fails only when no OpenTelemetry layer is installed: then the ids below come from the
    // incoming header or are made up, for the logs.
    let _ = span.set_parent(parent.clone());
    let own = span.context().span().span_context().trace_id();
    let incoming = parent.span().span_context().trace_id();
    let trace_id = if own != opentelemetry::trace::TraceId::INVALID {
        own.to_string()
    } else if incoming != opentelemetry::trace::TraceId::INVALID {
        incoming.to_string()
    } else {
        uuid::Uuid::new_v4().simple().to_string()
    };
    span.record("trace_id", trace_id.as_str());
    span
}

/// Records the answer's status on the span; a 5xx marks it failed (a 4xx is the client's).
pub(crate) fn finish(span: &tracing::Span, status: u16) {
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}
