use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_ports::{AuditEvent, AuditFilter, AuditLog, AuditPosition, PortError};

use super::InMemoryStore;

#[async_trait]
impl AuditLog for InMemoryStore {
    async fn append(&self, event: &AuditEvent) -> Result<(), PortError> {
        self.lock().record(std::slice::from_ref(event));
        Ok(())
    }

    async fn list(
        &self,
        filter: &AuditFilter,
        after: Option<AuditPosition>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, PortError> {
        let state = self.lock();
        let mut events: Vec<AuditEvent> = state
            .audit_events
            .iter()
            .filter(|e| filter.matches(e))
            .filter(|e| after.is_none_or(|p| (e.at, e.id) < (p.at, p.id)))
            .cloned()
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
        events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(events)
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, PortError> {
        let mut state = self.lock();
        let was = state.audit_events.len();
        state.audit_events.retain(|e| e.at >= before);
        Ok((was - state.audit_events.len()) as u64)
    }
}
