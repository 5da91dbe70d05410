use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use hexgate_domain::audit::{AuditEventType, UserChangeSummary};
use hexgate_domain::{User, UserId};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::PortError;

/// Where a request came from, as the driving adapter saw it: recorded with every audit event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub request_id: Option<String>,
    /// The client's address (the peer, or what a trusted proxy vouches for).
    pub ip: Option<String>,
    /// The first 256 characters of `User-Agent`.
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// A change made by the system itself (start-up, a command line, a job).
    #[must_use]
    pub fn system() -> Self {
        Self::default()
    }
}

/// Who did something, when, from where: everything an event needs but its type, subject and
/// details. Use cases make one per request and hand it to the repository that makes the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditStamp {
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub context: RequestContext,
}

impl AuditStamp {
    /// `at` is kept to the microsecond, what every store keeps, so a cursor made from an event
    /// read back finds it again.
    #[must_use]
    pub fn new(at: DateTime<Utc>, actor: Option<UserId>, context: &RequestContext) -> Self {
        Self { at: at.trunc_subsecs(6), actor, context: context.clone() }
    }

    #[must_use]
    pub fn event(&self, event_type: AuditEventType, subject: Option<UserId>, details: Value) -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            event_type,
            at: self.at,
            actor_id: self.actor,
            subject_id: subject,
            org_id: None,
            ip: self.context.ip.clone(),
            user_agent: self.context.user_agent.clone(),
            request_id: self.context.request_id.clone(),
            details,
        }
    }

    /// An event about organization `org` (listed by its audit route).
    #[must_use]
    pub fn org_event(
        &self,
        event_type: AuditEventType,
        org: hexgate_domain::org::OrgId,
        subject: Option<UserId>,
        details: Value,
    ) -> AuditEvent {
        AuditEvent { org_id: Some(org.as_uuid()), ..self.event(event_type, subject, details) }
    }

    /// The events a change of a user record makes: `permissions_changed` (before and after),
    /// `password_changed`, `user_updated` (the names of the changed fields, never their values).
    /// Repositories call this with the row they read in the change's transaction.
    #[must_use]
    pub fn user_change_events(&self, before: &User, after: &User) -> Vec<AuditEvent> {
        let summary = UserChangeSummary::between(before, after);
        let subject = Some(after.id);
        let mut events = Vec::new();
        if summary.permissions_changed {
            events.push(self.event(
                AuditEventType::PermissionsChanged,
                subject,
                json!({"before": before.permissions.names(), "after": after.permissions.names()}),
            ));
        }
        if summary.password_changed {
            events.push(self.event(AuditEventType::PasswordChanged, subject, json!({})));
        }
        if !summary.changed_fields.is_empty() {
            events.push(self.event(AuditEventType::UserUpdated, subject, json!({"fields": summary.changed_fields})));
        }
        events
    }
}

/// One recorded security event. `details` is a JSON object that never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// UUIDv7.
    pub id: Uuid,
    pub event_type: AuditEventType,
    pub at: DateTime<Utc>,
    /// Who did it; `None` when anonymous (a failed login, a reset by mailed token).
    pub actor_id: Option<UserId>,
    /// Whose account it concerns.
    pub subject_id: Option<UserId>,
    pub org_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub details: Value,
}

/// Where a page of events starts: strictly older than this event, in (at, id) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPosition {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl From<&AuditEvent> for AuditPosition {
    fn from(event: &AuditEvent) -> Self {
        Self { at: event.at, id: event.id }
    }
}

/// Which events to list. Every field narrows; `since` is inclusive, `until` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub event_type: Option<AuditEventType>,
    pub actor_id: Option<UserId>,
    pub subject_id: Option<UserId>,
    pub org_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// Whether `event` passes the filter: what every store's query does, for stores that filter in
    /// memory.
    #[must_use]
    pub fn matches(&self, event: &AuditEvent) -> bool {
        self.event_type.is_none_or(|t| t == event.event_type)
            && self.actor_id.is_none_or(|a| Some(a) == event.actor_id)
            && self.subject_id.is_none_or(|s| Some(s) == event.subject_id)
            && self.org_id.is_none_or(|o| Some(o) == event.org_id)
            && self.since.is_none_or(|since| event.at >= since)
            && self.until.is_none_or(|until| event.at < until)
    }
}

/// The append-only audit log. Events caused by a change are written by that change's repository
/// method, in its transaction; [`AuditLog::append`] is for events with no change of their own (a
/// failed login, a detected refresh-token reuse). Nothing updates or deletes an event but
/// [`AuditLog::prune`], the retention job's.
///
/// # Errors
/// [`PortError::Unavailable`] when the store cannot be reached.
#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn append(&self, event: &AuditEvent) -> Result<(), PortError>;

    /// Up to `limit` events passing `filter`, newest first (by `at`, then `id`), strictly after
    /// `after` in that order. Keyset paging: as cheap on the last page as on the first, and
    /// events added meanwhile never shift a page.
    async fn list(
        &self,
        filter: &AuditFilter,
        after: Option<AuditPosition>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, PortError>;

    /// Deletes the events older than `before` (retention). Returns how many.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, PortError>;
}

/// Seals and opens paging cursors: opaque to clients and tamper-evident (a MAC keyed from the
/// service's secret), so a cursor cannot be forged to skip a filter.
pub trait CursorSealer: Send + Sync {
    fn seal(&self, payload: &str) -> String;
    /// The payload of a cursor this service sealed; `None` for anything else.
    fn open(&self, cursor: &str) -> Option<String>;
}
