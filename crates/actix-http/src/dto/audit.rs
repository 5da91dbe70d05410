use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use garde::Validate;
use hexgate_domain::UserId;
use hexgate_domain::audit::AuditEventType;
use hexgate_ports::{
    AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, AuditEvent, AuditFilter, AuditPage, AuditQuery, FieldViolation,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{IntoDomain, Rules};

/// Every event type, as an enum in the document, from the domain's one list.
fn event_type_schema(_: &mut apistos::schemars::SchemaGenerator) -> apistos::schemars::Schema {
    let names: Vec<&str> = AuditEventType::ALL.iter().map(|t| t.as_str()).collect();
    let mut schema = serde_json::Map::new();
    schema.insert("type".into(), "string".into());
    schema.insert("enum".into(), names.into());
    schema.into()
}

const fn default_limit() -> u64 {
    AUDIT_PAGE_DEFAULT
}

/// Filters and paging. `since` is inclusive, `until` exclusive (RFC 3339).
#[derive(Debug, Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos")]
#[garde(allow_unvalidated)]
pub struct AuditListQuery {
    /// One event type.
    #[serde(rename = "type", default)]
    #[schemars(schema_with = "event_type_schema")]
    pub event_type: Option<String>,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    /// Events at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Events before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    #[serde(default = "default_limit")]
    #[garde(range(min = 1, max = AUDIT_PAGE_MAX))]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u64,
    /// The `next_cursor` of the previous page; opaque.
    #[garde(length(max = 1024))]
    #[schemars(length(max = 1024))]
    pub cursor: Option<String>,
}

impl IntoDomain for AuditListQuery {
    type Domain = AuditQuery;

    fn into_domain(self) -> Result<AuditQuery, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let event_type = rules.check_optional("type", self.event_type.as_deref().map(str::parse::<AuditEventType>));
        rules.finish(|| {
            Some(AuditQuery {
                filter: AuditFilter {
                    event_type: event_type?,
                    actor_id: self.actor_id.map(UserId::from_uuid),
                    subject_id: self.subject_id.map(UserId::from_uuid),
                    org_id: self.org_id,
                    since: self.since,
                    until: self.until,
                },
                limit: self.limit,
                cursor: self.cursor,
            })
        })
    }
}

/// One security event. `details` never holds a password, token, key or code.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b", "type": "permissions_changed",
    "at": "2026-01-01T00:00:00Z", "actor_id": "0193a3c4-0000-7000-8000-000000000001",
    "subject_id": "0193a3c4-0000-7000-8000-000000000002", "org_id": null, "ip": "203.0.113.7",
    "user_agent": "curl/8.5.0", "request_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7c",
    "details": {"before": [], "after": ["user_manager"]}}))]
pub struct AuditEventResponse {
    pub id: Uuid,
    #[serde(rename = "type")]
    #[schemars(schema_with = "event_type_schema")]
    pub event_type: String,
    pub at: DateTime<Utc>,
    /// Who did it; `null` when anonymous.
    pub actor_id: Option<Uuid>,
    /// Whose account it concerns.
    pub subject_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// An object; what it holds depends on `type` (see docs/audit.md).
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl From<AuditEvent> for AuditEventResponse {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id,
            event_type: e.event_type.as_str().to_owned(),
            at: e.at,
            actor_id: e.actor_id.map(UserId::as_uuid),
            subject_id: e.subject_id.map(UserId::as_uuid),
            org_id: e.org_id,
            ip: e.ip,
            user_agent: e.user_agent,
            request_id: e.request_id,
            details: match e.details {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            },
        }
    }
}

/// A page of events, newest first. `next_cursor` is `null` on the last page.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct AuditPageResponse {
    pub items: Vec<AuditEventResponse>,
    pub next_cursor: Option<String>,
}

impl From<AuditPage> for AuditPageResponse {
    fn from(page: AuditPage) -> Self {
        Self { items: page.items.into_iter().map(AuditEventResponse::from).collect(), next_cursor: page.next_cursor }
    }
}
