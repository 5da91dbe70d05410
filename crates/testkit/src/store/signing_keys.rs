use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_ports::{PortError, SigningKeyRecord, SigningKeyRepository};

use super::InMemoryStore;

/// Newest first, as the SQL adapter orders them (created_at, then kid, both descending).
fn newest_first(mut keys: Vec<SigningKeyRecord>) -> Vec<SigningKeyRecord> {
    keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.kid.cmp(&a.kid)));
    keys
}

#[async_trait]
impl SigningKeyRepository for InMemoryStore {
    async fn create_first(&self, key: &SigningKeyRecord) -> Result<bool, PortError> {
        let mut state = self.lock();
        if state.signing_keys.iter().any(SigningKeyRecord::is_active) {
            return Ok(false);
        }
        state.signing_keys.push(SigningKeyRecord { rotated_at: None, retired_at: None, ..key.clone() });
        Ok(true)
    }

    async fn rotate(&self, key: &SigningKeyRecord, now: DateTime<Utc>) -> Result<(), PortError> {
        let mut state = self.lock();
        for old in state.signing_keys.iter_mut().filter(|k| k.is_active()) {
            old.rotated_at = Some(now);
        }
        state.signing_keys.push(SigningKeyRecord { rotated_at: None, retired_at: None, ..key.clone() });
        Ok(())
    }

    async fn live(&self) -> Result<Vec<SigningKeyRecord>, PortError> {
        Ok(newest_first(self.lock().signing_keys.iter().filter(|k| !k.is_retired()).cloned().collect()))
    }

    async fn list(&self) -> Result<Vec<SigningKeyRecord>, PortError> {
        Ok(newest_first(self.lock().signing_keys.clone()))
    }

    async fn retire(&self, rotated_before: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<String>, PortError> {
        let mut state = self.lock();
        let mut retired = Vec::new();
        for key in &mut state.signing_keys {
            if key.retired_at.is_none() && key.rotated_at.is_some_and(|at| at <= rotated_before) {
                key.retired_at = Some(now);
                retired.push(key.kid.clone());
            }
        }
        Ok(retired)
    }
}
