use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::preferences::Preferences;
use hexgate_ports::{PortError, PreferencesRepository};

use super::InMemoryStore;

#[async_trait]
impl PreferencesRepository for InMemoryStore {
    async fn get(&self, user: UserId) -> Result<Option<Preferences>, PortError> {
        Ok(self.lock().preferences.get(&user).cloned())
    }

    async fn put(&self, user: UserId, preferences: &Preferences, _now: DateTime<Utc>) -> Result<(), PortError> {
        let mut state = self.lock();
        // The foreign key: preferences of a user who is gone are refused.
        if !state.users.contains_key(&user) {
            return Err(PortError::NotFound);
        }
        state.preferences.insert(user, preferences.clone());
        Ok(())
    }
}
