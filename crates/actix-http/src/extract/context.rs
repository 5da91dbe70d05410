//! The request's context for the audit log: its id, the client's address and user agent.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use hexgate_ports::RequestContext;

use crate::client_ip::ClientIp;
use crate::middleware::request_id;

/// Where this request came from: the id it is answered under (`X-Request-ID`), the client's
/// address as `TRUSTED_PROXIES` allow it to be known, and the first 256 characters of its
/// `User-Agent`.
pub(crate) struct Context(pub RequestContext);

impl Context {
    pub(crate) fn of(req: &HttpRequest) -> RequestContext {
        RequestContext {
            request_id: Some(request_id::current()),
            ip: ClientIp::of(req).0.map(|ip| ip.to_string()),
            user_agent: req
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .map(|ua| ua.chars().take(256).collect()),
        }
    }
}

impl FromRequest for Context {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(Self::of(req))))
    }
}

impl apistos::ApiComponent for Context {
    fn child_schemas(
        _: apistos::OpenApiVersion,
    ) -> Vec<(String, apistos::reference_or::ReferenceOr<apistos::ApistosSchema>)> {
        vec![]
    }
    fn schema(
        _: apistos::OpenApiVersion,
    ) -> Option<(String, apistos::reference_or::ReferenceOr<apistos::ApistosSchema>)> {
        None
    }
}
