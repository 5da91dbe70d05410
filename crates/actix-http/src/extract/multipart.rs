//! The upload body: `multipart/form-data` with a `file` field, read as a stream (never buffered
//! whole). The OpenAPI document shows it as a form with one binary field.

use hexgate_ports::ErrorCode;
use std::future::{Ready, ready};

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use apistos::reference_or::ReferenceOr;
use apistos::schemars::json_schema;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};

use crate::HttpState;
use crate::error::ApiError;

pub(crate) struct FileUpload(pub Multipart);

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

impl FromRequest for FileUpload {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_multipart(req) {
            return ready(Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Unsupported media type: send multipart/form-data with a `file` field",
            )));
        }
        let declared =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        // The FileService owns the limit: a declared body it cannot admit is refused unread.
        if let (Some(len), Some(state)) = (declared, req.app_data::<Data<HttpState>>())
            && let Err(too_large) = state.files.admits(len)
        {
            return ready(Err(too_large.into()));
        }
        ready(Ok(Self(Multipart::new(req.headers(), payload.take()))))
    }
}

fn form_schema(oas_version: OpenApiVersion) -> ApistosSchema {
    ApistosSchema::new(
        json_schema!({
            "type": "object",
            "required": ["file"],
            // Other fields are read past and ignored, but their names must be plain tokens: a
            // name with control or non-ASCII characters makes the form itself unreadable (400).
            "propertyNames": {"pattern": "^[A-Za-z0-9_.-]{1,64}$"},
            "properties": {
                "file": {
                    "type": "string",
                    "format": "binary",
                    // An empty file is refused (422 file_empty).
                    "minLength": 1,
                    "description": "The file's bytes, at least one. Its filename is kept, sanitised, as metadata only."
                }
            }
        }),
        oas_version,
    )
}

impl ApiComponent for FileUpload {
    fn content_type() -> String {
        "multipart/form-data".to_owned()
    }

    fn child_schemas(oas_version: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        vec![("FileUploadForm".to_owned(), ReferenceOr::Object(form_schema(oas_version)))]
    }

    fn schema(oas_version: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        Some(("FileUploadForm".to_owned(), ReferenceOr::Object(form_schema(oas_version))))
    }
}
