use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_ports::{PortError, RevocationList};

/// Revoked token ids with the time they stop mattering; expired entries are dropped on write.
#[derive(Debug, Default)]
pub struct InMemoryRevocationList {
    entries: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl InMemoryRevocationList {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RevocationList for InMemoryRevocationList {
    async fn revoke(&self, jti: &str, until: DateTime<Utc>) -> Result<(), PortError> {
        let now = Utc::now();
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, until| *until > now);
        entries.insert(jti.to_owned(), until);
        Ok(())
    }

    async fn is_revoked(&self, jti: &str) -> Result<bool, PortError> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(entries.get(jti).is_some_and(|until| *until > Utc::now()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[tokio::test]
    async fn a_revoked_id_is_revoked_until_it_expires() {
        let list = InMemoryRevocationList::new();
        list.revoke("a", Utc::now() + Duration::minutes(5)).await.expect("revoke");
        list.revoke("old", Utc::now() - Duration::seconds(1)).await.expect("revoke");
        assert!(list.is_revoked("a").await.expect("check"));
        assert!(!list.is_revoked("old").await.expect("check"));
        assert!(!list.is_revoked("b").await.expect("check"));
    }
}
