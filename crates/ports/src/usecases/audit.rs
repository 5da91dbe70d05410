//! Reading the audit log (admins: everything; users: what concerns them) and its retention.
//! Writing is done by the use cases that make changes, through their repositories.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hexgate_domain::User;
use tracing::info;
use uuid::Uuid;

use crate::{AuditEvent, AuditFilter, AuditLog, AuditPosition, Clock, CursorSealer, ServiceError};

/// A page is at most this long.
pub const AUDIT_PAGE_MAX: u64 = 100;
/// And this long when the client does not say.
pub const AUDIT_PAGE_DEFAULT: u64 = 50;

/// What a client asks for: filters, a page size (1..=100) and where to continue.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub filter: AuditFilter,
    pub limit: u64,
    /// The `next_cursor` of the previous page, as the client got it.
    pub cursor: Option<String>,
}

pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
}

pub struct AuditService {
    log: Arc<dyn AuditLog>,
    sealer: Arc<dyn CursorSealer>,
    clock: Arc<dyn Clock>,
}

/// A cursor's payload: the listing and the filter it was made for, and the last event shown. A
/// cursor replayed against another listing or filter is refused rather than misread.
fn payload(listing: &str, filter: &AuditFilter, last: AuditPosition) -> String {
    format!("v1|{listing}|{}|{}|{}", fingerprint(filter), last.at.timestamp_micros(), last.id)
}

fn fingerprint(f: &AuditFilter) -> String {
    let opt = |v: Option<String>| v.unwrap_or_default();
    format!(
        "{};{};{};{};{};{}",
        opt(f.event_type.map(|t| t.as_str().to_owned())),
        opt(f.actor_id.map(|a| a.to_string())),
        opt(f.subject_id.map(|s| s.to_string())),
        opt(f.org_id.map(|o| o.to_string())),
        opt(f.since.map(|t| t.timestamp_micros().to_string())),
        opt(f.until.map(|t| t.timestamp_micros().to_string())),
    )
}

fn position(payload: &str, listing: &str, filter: &AuditFilter) -> Option<AuditPosition> {
    let mut parts = payload.split('|');
    let (version, list, print, at, id) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "v1" || list != listing || print != fingerprint(filter) || parts.next().is_some() {
        return None;
    }
    let at = DateTime::<Utc>::from_timestamp_micros(at.parse().ok()?)?;
    Some(AuditPosition { at, id: Uuid::parse_str(id).ok()? })
}

impl AuditService {
    #[must_use]
    pub fn new(log: Arc<dyn AuditLog>, sealer: Arc<dyn CursorSealer>, clock: Arc<dyn Clock>) -> Self {
        Self { log, sealer, clock }
    }

    /// Every event (admins only), newest first.
    ///
    /// # Errors
    /// `Forbidden` for a non-admin; `BadCursor`; store errors.
    pub async fn list_all(&self, actor: &User, query: AuditQuery) -> Result<AuditPage, ServiceError> {
        if !actor.permissions.is_admin() {
            return Err(ServiceError::Forbidden);
        }
        self.page("all", query).await
    }

    /// The events whose subject is the caller, newest first. A `subject_id` filter is replaced
    /// by the caller's own id: nobody reads another user's events here.
    ///
    /// # Errors
    /// `BadCursor`; store errors.
    pub async fn list_mine(&self, actor: &User, mut query: AuditQuery) -> Result<AuditPage, ServiceError> {
        query.filter.subject_id = Some(actor.id);
        self.page(&format!("me:{}", actor.id), query).await
    }

    /// The events of one organization, newest first. Whether the caller may read them is the
    /// organization service's to decide before calling this; an `org_id` filter is replaced by
    /// `org`.
    ///
    /// # Errors
    /// `BadCursor`; store errors.
    pub async fn list_org(&self, org: Uuid, mut query: AuditQuery) -> Result<AuditPage, ServiceError> {
        query.filter.org_id = Some(org);
        self.page(&format!("org:{org}"), query).await
    }

    async fn page(&self, listing: &str, query: AuditQuery) -> Result<AuditPage, ServiceError> {
        let limit = query.limit.clamp(1, AUDIT_PAGE_MAX);
        let after = match &query.cursor {
            Some(cursor) => Some(
                self.sealer
                    .open(cursor)
                    .and_then(|p| position(&p, listing, &query.filter))
                    .ok_or(ServiceError::BadCursor)?,
            ),
            None => None,
        };
        let mut items = self.log.list(&query.filter, after, limit + 1).await?;
        let more = items.len() as u64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_cursor = match items.last() {
            Some(last) if more => Some(self.sealer.seal(&payload(listing, &query.filter, last.into()))),
            _ => None,
        };
        Ok(AuditPage { items, next_cursor })
    }

    /// Deletes events older than `retention` (the retention job).
    ///
    /// # Errors
    /// Store errors.
    pub async fn prune(&self, retention: Duration) -> Result<u64, ServiceError> {
        let pruned = self.log.prune(self.clock.now() - retention).await?;
        if pruned > 0 {
            info!(pruned, "audit events past retention deleted");
        }
        Ok(pruned)
    }
}

/// The job kind that prunes the audit log.
pub const AUDIT_RETENTION: &str = "audit_retention";

/// Deletes audit events older than `retention`. Queued periodically by every instance that runs
/// jobs; a run finding nothing to delete costs one indexed DELETE.
pub struct AuditRetentionJob {
    pub audit: Arc<AuditService>,
    pub retention: Duration,
}

#[async_trait::async_trait]
impl super::jobs::JobHandler for AuditRetentionJob {
    async fn run(&self, _payload: &str) -> Result<(), String> {
        self.audit.prune(self.retention).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_payload_is_read_back_only_for_its_listing_and_filter() {
        let filter =
            AuditFilter { event_type: Some(hexgate_domain::audit::AuditEventType::Logout), ..Default::default() };
        let last = AuditPosition {
            at: DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("at"),
            id: Uuid::now_v7(),
        };
        let text = payload("all", &filter, last);
        assert_eq!(position(&text, "all", &filter), Some(last));
        assert_eq!(position(&text, "me:x", &filter), None);
        assert_eq!(position(&text, "all", &AuditFilter::default()), None);
        assert_eq!(position("v1|all|garbage", "all", &filter), None);
    }
}
