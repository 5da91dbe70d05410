use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hexgate_domain::api_key::{ApiKey, ApiKeyId};
use hexgate_domain::{User, UserId};
use hexgate_ports::{ApiKeyRepository, AuditEvent, PortError, TokenHash};

use super::InMemoryStore;

#[async_trait]
impl ApiKeyRepository for InMemoryStore {
    async fn create(&self, key: &ApiKey, hash: &TokenHash, events: &[AuditEvent]) -> Result<(), PortError> {
        let mut state = self.lock();
        // The foreign key: a key for a user who is gone is refused.
        if !state.users.contains_key(&key.user_id) {
            return Err(PortError::NotFound);
        }
        if state.api_keys.values().any(|(_, h)| *h == hash.0) || state.api_keys.contains_key(&key.id) {
            return Err(PortError::Internal("unique violation: api_keys".into()));
        }
        state.api_keys.insert(key.id, (key.clone(), hash.0.clone()));
        state.record(events);
        Ok(())
    }

    async fn list(&self, user: UserId) -> Result<Vec<ApiKey>, PortError> {
        let mut keys: Vec<ApiKey> =
            self.lock().api_keys.values().filter(|(k, _)| k.user_id == user).map(|(k, _)| k.clone()).collect();
        keys.sort_by_key(|k| std::cmp::Reverse((k.created_at, k.id)));
        Ok(keys)
    }

    async fn delete(&self, user: UserId, id: ApiKeyId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let mut state = self.lock();
        if state.api_keys.get(&id).is_none_or(|(k, _)| k.user_id != user) {
            return Ok(false);
        }
        state.api_keys.remove(&id);
        state.record(events);
        Ok(true)
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<(ApiKey, User)>, PortError> {
        let state = self.lock();
        let Some((key, _)) = state.api_keys.values().find(|(_, h)| *h == hash.0) else { return Ok(None) };
        Ok(state.users.get(&key.user_id).map(|user| (key.clone(), user.clone())))
    }

    async fn touch(&self, id: ApiKeyId, now: DateTime<Utc>, interval: Duration) -> Result<bool, PortError> {
        let mut state = self.lock();
        let Some((key, _)) = state.api_keys.get_mut(&id) else { return Ok(false) };
        if key.last_used_at.is_some_and(|last| last > now - interval) {
            return Ok(false);
        }
        key.last_used_at = Some(now);
        Ok(true)
    }
}
