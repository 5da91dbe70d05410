use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use hexgate_domain::Page;
use serde::Serialize;

/// One failing field.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", inline)]
pub struct FieldError {
    /// Dotted path with a location prefix: `body.password`, `query.page`, `path.id`.
    pub field: Option<String>,
    pub message: String,
    /// Stable and machine-readable, e.g. `password_digit`, `missing`, `invalid_type`.
    pub code: String,
}

/// The one error shape, for every failure.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[schemars(example = error_example())]
pub struct ErrorBody {
    pub detail: String,
    /// Stable and machine-readable: branch on this, never on `detail` (see `docs/errors.md`).
    #[schemars(schema_with = "error_code_schema")]
    pub code: String,
    /// `null` unless there are per-field problems.
    pub errors: Option<Vec<FieldError>>,
    pub request_id: String,
    /// Only with `mfa_required` (403 from `POST /auth/token`): the opaque, single-use token to
    /// send to `POST /auth/mfa/verify` with a code, valid 5 minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_token: Option<String>,
    /// Only with `mfa_required`: the ways to finish the login (`totp`, `recovery_code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
}

fn error_example() -> serde_json::Value {
    serde_json::json!({
        "detail": "Validation error",
        "code": "validation_failed",
        "errors": [{"field": "body.password", "message": "must contain a digit (0-9)", "code": "password_digit"}],
        "request_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b"
    })
}

/// `code` as an enum of every code the API answers, from the one list.
pub(crate) fn error_code_schema(_: &mut apistos::schemars::SchemaGenerator) -> apistos::schemars::Schema {
    let codes: Vec<&str> = hexgate_ports::ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let mut schema = serde_json::Map::new();
    schema.insert("type".into(), "string".into());
    schema.insert("enum".into(), codes.into());
    schema.into()
}

/// A page of a list; every list endpoint answers this shape. A page asked for by `cursor` is not
/// counted: its `total`, `page` and `pages` are `null`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct PageResponse<T: JsonSchema> {
    pub items: Vec<T>,
    /// How many items pass the filters; `null` for a page asked for by `cursor`.
    #[schemars(schema_with = "count_or_null")]
    pub total: Option<u64>,
    /// This page's number; `null` for a page asked for by `cursor`.
    #[schemars(schema_with = "count_or_null")]
    pub page: Option<u64>,
    pub page_size: u64,
    /// 0 when `total` is 0; `null` for a page asked for by `cursor`.
    #[schemars(schema_with = "count_or_null")]
    pub pages: Option<u64>,
    pub has_next: bool,
    /// `true` on every page but the first, including every page asked for by `cursor`.
    pub has_previous: bool,
    /// Send it back as `cursor` (instead of `page`), with the same filters and sort, for the page
    /// right after this one: keyset paging, as fast at any depth, unmoved by rows added before
    /// it. Opaque; `null` on the last page. Every page has one, page 1 too.
    #[schemars(schema_with = "text_or_null")]
    pub next_cursor: Option<String>,
}

// Always present, sometimes `null`: a schema of their own keeps these fields `required` (schemars
// leaves an `Option` out of `required`), so a generated client types them `T | null`, not `T?`.
fn count_or_null(_: &mut apistos::schemars::SchemaGenerator) -> apistos::schemars::Schema {
    apistos::schemars::json_schema!({"type": ["integer", "null"], "format": "uint64", "minimum": 0})
}

fn text_or_null(_: &mut apistos::schemars::SchemaGenerator) -> apistos::schemars::Schema {
    apistos::schemars::json_schema!({"type": ["string", "null"]})
}

impl<T: JsonSchema> PageResponse<T> {
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let page = page.map(f);
        Self {
            items: page.items,
            total: page.total,
            page: page.page,
            page_size: page.page_size,
            pages: page.pages,
            has_next: page.has_next,
            has_previous: page.has_previous,
            next_cursor: page.next_cursor,
        }
    }
}

/// The page a list query asks for, as the domain's [`PageRequest`]; a rule broken is reported on
/// `page` or `page_size`, whichever it concerns (`page` when both it and `cursor` are sent: the
/// cursor is what the server gave, the page number is the extra).
///
/// [`PageRequest`]: hexgate_domain::PageRequest
pub(crate) fn page_request(
    rules: &mut crate::extract::Rules,
    page: Option<u64>,
    page_size: u64,
    cursor: Option<String>,
) -> Option<hexgate_domain::PageRequest> {
    use hexgate_domain::pagination::PageError;
    let parsed = hexgate_domain::PageRequest::from_query(page, page_size, cursor);
    let field = match &parsed {
        Err(PageError::PageSizeOutOfRange { .. }) => "page_size",
        _ => "page",
    };
    rules.check(field, parsed)
}
