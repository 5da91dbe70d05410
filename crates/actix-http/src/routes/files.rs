use std::collections::BTreeMap;

use actix_web::body::BoxBody;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::web::{Bytes, Data, Json, Path};
use actix_web::{HttpRequest, HttpResponse, Responder};
use apistos::actix::{AcceptedJson, NoContent};
use apistos::paths::{MediaType, Response, Responses};
use apistos::reference_or::ReferenceOr;
use apistos::schemars::json_schema;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion, VersionSpecificSchema, api_operation};
use futures_util::{StreamExt, TryStreamExt};
use hexgate_domain::file::{FileId, OCTET_STREAM, StoredFile};
use hexgate_ports::{Blob, ServiceError, UploadBudget};

use crate::dto::{FilePath, FileResponse, TaskPath, TaskResponse, UploadAccepted};
use crate::extract::{CurrentUser, FileUpload};
use crate::{ApiError, HttpState};

fn malformed(err: &actix_multipart::MultipartError) -> ServiceError {
    ServiceError::MalformedInput(err.to_string())
}

/// Upload a file
///
/// `multipart/form-data` with one `file` field. The bytes are stored as they arrive (over the
/// limit, the upload stops at once and nothing is kept); processing (size, SHA-256, type from the
/// bytes, lines for text) runs in the background: poll the task or the file.
#[api_operation(operation_id = "upload_file", tag = "files")]
pub(crate) async fn upload_file(
    state: Data<HttpState>,
    caller: CurrentUser,
    form: FileUpload,
) -> Result<AcceptedJson<UploadAccepted>, ApiError> {
    let mut parts = form.0;
    let mut budget = state.files.budget();
    while let Some(field) = parts.try_next().await.map_err(|e| ApiError::from(malformed(&e)))? {
        if field.name() != Some("file") {
            read_past(field, &mut budget).await?;
            continue;
        }
        let filename =
            field.content_disposition().and_then(|cd| cd.get_filename().map(str::to_owned)).unwrap_or_default();
        let chunks = field.map(|chunk| chunk.map_err(|e| malformed(&e)));
        // The fields after the file are judged by the same rules before the file is kept.
        let rest = async |budget: &mut UploadBudget| {
            while let Some(field) = parts.try_next().await.map_err(|e| malformed(&e))? {
                read_past(field, budget).await?;
            }
            Ok(())
        };
        let upload = state.files.upload(&caller.0.user, &filename, budget, chunks, rest).await?;
        return Ok(AcceptedJson(upload.into()));
    }
    Err(ServiceError::invalid("file", "field required", "missing").into())
}

/// A field other than the file (a second `file` included): its name must follow the document's
/// rule (`propertyNames`), so a form it calls invalid is never accepted; its bytes are read past,
/// not kept, and spend the same budget as the file.
async fn read_past(mut field: actix_multipart::Field, budget: &mut UploadBudget) -> Result<(), ServiceError> {
    if field.name() != Some("file") && !field.name().is_some_and(is_plain_field_name) {
        return Err(ServiceError::invalid(
            "",
            "form field names must be 1 to 64 letters, digits, '_', '.' or '-'",
            "field_name_invalid",
        ));
    }
    while let Some(chunk) = field.try_next().await.map_err(|e| malformed(&e))? {
        budget.spend(chunk.len())?;
    }
    Ok(())
}

/// The `propertyNames` pattern of the upload form: `^[A-Za-z0-9_.-]{1,64}$`.
fn is_plain_field_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Read a file's metadata
///
/// The owner or an admin; anyone else gets 404.
#[api_operation(operation_id = "read_file", tag = "files")]
pub(crate) async fn read_file(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<FilePath>,
) -> Result<Json<FileResponse>, ApiError> {
    Ok(Json(state.files.get(&caller.0.user, FileId(path.id)).await?.into()))
}

/// A file's bytes, streamed as a download.
pub(crate) struct FileContent {
    file: StoredFile,
    blob: Blob,
}

impl Responder for FileContent {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        // The detected type once known; never the client's claim.
        let content_type = self.file.facts.as_ref().map_or(OCTET_STREAM, |f| f.content_type.as_str()).to_owned();
        let name = self.file.filename.as_str();
        let ascii: String = name.chars().map(|c| if c.is_ascii() && c != '\\' { c } else { '_' }).collect();
        let disposition = ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![
                DispositionParam::Filename(ascii),
                DispositionParam::FilenameExt(ExtendedValue {
                    charset: header::Charset::Ext("UTF-8".to_owned()),
                    language_tag: None,
                    value: name.as_bytes().to_vec(),
                }),
            ],
        };
        let chunks = self.blob.chunks.map(|chunk| chunk.map(Bytes::from));
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header(disposition)
            .no_chunking(self.blob.size)
            .streaming(chunks)
    }
}

impl ApiComponent for FileContent {
    fn child_schemas(_: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        vec![]
    }

    fn schema(_: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        None
    }

    fn responses(oas_version: OpenApiVersion, _: Option<String>, _: Option<String>) -> Option<Responses> {
        let schema = ApistosSchema::new(json_schema!({"type": "string", "format": "binary"}), oas_version);
        let schema = match oas_version {
            OpenApiVersion::OAS3_0 => VersionSpecificSchema::OAS3_0(ReferenceOr::Object(schema)),
            OpenApiVersion::OAS3_1 => VersionSpecificSchema::OAS3_1(schema),
        };
        let media = MediaType { schema: Some(schema), ..Default::default() };
        let ok = Response {
            description: "The file's bytes, with `Content-Disposition: attachment` and the detected type".to_owned(),
            // The type detected from the bytes (text/plain, image/png, …), whatever it is.
            content: BTreeMap::from([("*/*".to_owned(), media)]),
            ..Default::default()
        };
        Some(Responses {
            responses: BTreeMap::from([("200".to_owned(), ReferenceOr::Object(ok))]),
            ..Default::default()
        })
    }
}

/// Download a file
///
/// The owner or an admin. Always an attachment, typed by what the bytes are.
#[api_operation(operation_id = "download_file", tag = "files")]
pub(crate) async fn download_file(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<FilePath>,
) -> Result<FileContent, ApiError> {
    let (file, blob) = state.files.content(&caller.0.user, FileId(path.id)).await?;
    Ok(FileContent { file, blob })
}

/// Delete a file
///
/// The owner or an admin. Removes the metadata, the task and the bytes.
#[api_operation(operation_id = "delete_file", tag = "files")]
pub(crate) async fn delete_file(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<FilePath>,
) -> Result<NoContent, ApiError> {
    state.files.delete(&caller.0.user, FileId(path.id)).await?;
    Ok(NoContent)
}

/// Read a background task
///
/// The owner of the file it processes, or an admin (who sees every task); anyone else gets 404.
#[api_operation(operation_id = "read_task", tag = "tasks")]
pub(crate) async fn read_task(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<TaskPath>,
) -> Result<Json<TaskResponse>, ApiError> {
    Ok(Json(state.files.task(&caller.0.user, path.id).await?.into()))
}
