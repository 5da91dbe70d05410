use hexgate_ports::ErrorCode;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};
use futures_util::StreamExt;
use garde::Validate;
use serde::de::DeserializeOwned;

use super::IntoDomain;
use super::decode::decode_json;
use crate::HttpSettings;
use crate::error::ApiError;

/// A JSON body: `application/json` (else 415), within the size limit (else 413), well-formed
/// (else 400), and passing every type and rule (else 422 listing each failing field), turned
/// into the domain values the use case takes (`T::Domain`) on the way in.
pub(crate) struct ValidJson<T: IntoDomain>(pub T::Domain);

pub(crate) fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|ct| ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json")))
}

/// Reads the whole body, refusing it as soon as it passes `limit` bytes.
pub(crate) async fn read_limited(req: &HttpRequest, payload: &mut Payload) -> Result<BytesMut, ApiError> {
    let limit = req.app_data::<Data<HttpSettings>>().map_or(1024 * 1024, |s| s.json_body_limit);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(ErrorCode::BadRequest, "Could not read the request body"))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|_| ApiError::new(ErrorCode::MalformedJson, "Malformed JSON body"))
}

impl<T> FromRequest for ValidJson<T>
where
    T: DeserializeOwned + Validate<Context = ()> + apistos::schemars::JsonSchema + IntoDomain + 'static,
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json(&req) {
                return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
            }
            let bytes = read_limited(&req, &mut payload).await?;
            let value = parse_json(&bytes)?;
            decode_json::<T>(value, "body").map(ValidJson).map_err(ApiError::validation)
        })
    }
}

impl<T: ApiComponent + IntoDomain> ApiComponent for ValidJson<T> {
    fn required() -> bool {
        T::required()
    }

    fn child_schemas(oas_version: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        T::child_schemas(oas_version)
    }

    fn raw_schema(oas_version: OpenApiVersion) -> Option<ReferenceOr<ApistosSchema>> {
        T::raw_schema(oas_version)
    }

    fn schema(oas_version: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        T::schema(oas_version)
    }
}

/// Like [`ValidJson`], but an empty body is fine and means `None`.
pub(crate) struct OptionalJson<T: IntoDomain>(pub Option<T::Domain>);

impl<T> FromRequest for OptionalJson<T>
where
    T: DeserializeOwned + Validate<Context = ()> + apistos::schemars::JsonSchema + IntoDomain + 'static,
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_limited(&req, &mut payload).await?;
            if bytes.is_empty() {
                return Ok(OptionalJson(None));
            }
            if !is_json(&req) {
                return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
            }
            let value = parse_json(&bytes)?;
            decode_json::<T>(value, "body").map(|v| OptionalJson(Some(v))).map_err(ApiError::validation)
        })
    }
}

impl<T: ApiComponent + IntoDomain> ApiComponent for OptionalJson<T> {
    fn required() -> bool {
        false
    }

    fn child_schemas(oas_version: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        T::child_schemas(oas_version)
    }

    fn schema(oas_version: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        T::schema(oas_version)
    }
}
