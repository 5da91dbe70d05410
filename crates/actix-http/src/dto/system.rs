use std::collections::BTreeMap;

use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"status": "healthy"}))]
pub struct HealthResponse {
    pub status: &'static str,
}

#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"status": "ready", "checks": {"database": "ok", "cache": "ok"}}))]
pub struct ReadyResponse {
    pub status: &'static str,
    /// `ok`, or the reason the dependency is down.
    pub checks: BTreeMap<String, String>,
}

/// `/ready`'s 503: the error shape plus `status` and `checks`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct NotReadyResponse {
    pub detail: String,
    /// Always `unavailable`.
    #[schemars(schema_with = "super::common::error_code_schema")]
    pub code: String,
    pub errors: Option<Vec<super::FieldError>>,
    pub request_id: String,
    pub status: &'static str,
    pub checks: BTreeMap<String, String>,
}
