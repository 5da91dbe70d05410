use hexgate_ports::ErrorCode;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use apistos::paths::{MediaType, RequestBody};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion, VersionSpecificSchema};

use super::decode::decode_json;
use super::json::{is_json, parse_json, read_limited};
use crate::dto::TokenRequest;
use crate::error::ApiError;

/// The OAuth2 password grant's body: a form (`application/x-www-form-urlencoded`), or the same
/// fields as JSON.
pub(crate) struct TokenForm(pub TokenRequest);

impl FromRequest for TokenForm {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let is_form = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
            if !is_form && !is_json(&req) {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "Unsupported media type: send application/x-www-form-urlencoded or application/json",
                ));
            }
            let bytes = read_limited(&req, &mut payload).await?;
            let value = if is_form {
                // Only the last value of a repeated field counts, as in most OAuth2 servers.
                let map: serde_json::Map<String, serde_json::Value> = url::form_urlencoded::parse(&bytes)
                    .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
                    .collect();
                serde_json::Value::Object(map)
            } else {
                parse_json(&bytes)?
            };
            decode_json::<TokenRequest>(value, "body").map(TokenForm).map_err(ApiError::validation)
        })
    }
}

impl ApiComponent for TokenForm {
    fn child_schemas(oas_version: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        TokenRequest::child_schemas(oas_version)
    }

    fn schema(oas_version: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        TokenRequest::schema(oas_version)
    }

    fn request_body(oas_version: OpenApiVersion, description: Option<String>) -> Option<RequestBody> {
        let (name, schema) = TokenRequest::schema(oas_version)?;
        let schema = match oas_version {
            OpenApiVersion::OAS3_0 => {
                VersionSpecificSchema::OAS3_0(ReferenceOr::Reference { _ref: format!("#/components/schemas/{name}") })
            }
            OpenApiVersion::OAS3_1 => match schema {
                ReferenceOr::Object(s) => VersionSpecificSchema::OAS3_1(s),
                ReferenceOr::Reference { .. } => VersionSpecificSchema::OAS3_1(ApistosSchema::default()),
            },
        };
        let media = MediaType { schema: Some(schema), ..Default::default() };
        Some(RequestBody {
            description,
            content: BTreeMap::from([
                ("application/x-www-form-urlencoded".to_owned(), media.clone()),
                ("application/json".to_owned(), media),
            ]),
            required: Some(true),
            ..Default::default()
        })
    }
}
