use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::preferences::{Language, Preferences};
use hexgate_ports::{PortError, PreferencesRepository};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set, SqlErr};

use crate::entity::user_preferences::{ActiveModel, Column, Entity};
use crate::error::port_error;

#[derive(Clone)]
pub struct SqlPreferencesRepository {
    db: DatabasePools,
}

impl SqlPreferencesRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

#[async_trait]
impl PreferencesRepository for SqlPreferencesRepository {
    async fn get(&self, user: UserId) -> Result<Option<Preferences>, PortError> {
        let Some(m) = Entity::find_by_id(user.as_uuid()).one(self.db.conn()).await.map_err(port_error)? else {
            return Ok(None);
        };
        let corrupt = |what: &str| PortError::Internal(format!("preferences of {user} have an invalid {what}"));
        Ok(Some(Preferences {
            theme: m.theme.parse().map_err(|_| corrupt("theme"))?,
            language: Language::parse(&m.language).map_err(|_| corrupt("language"))?,
            notifications_enabled: m.notifications_enabled,
        }))
    }

    async fn put(&self, user: UserId, preferences: &Preferences, now: DateTime<Utc>) -> Result<(), PortError> {
        let row = ActiveModel {
            user_id: Set(user.as_uuid()),
            theme: Set(preferences.theme.as_str().to_owned()),
            language: Set(preferences.language.as_str().to_owned()),
            notifications_enabled: Set(preferences.notifications_enabled),
            updated_at: Set(now),
        };
        let upsert = OnConflict::column(Column::UserId)
            .update_columns([Column::Theme, Column::Language, Column::NotificationsEnabled, Column::UpdatedAt])
            .to_owned();
        match Entity::insert(row).on_conflict(upsert).exec_without_returning(self.db.conn()).await {
            Ok(_) => Ok(()),
            // The user does not exist (or was deleted meanwhile).
            Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => Err(PortError::NotFound),
            Err(e) => Err(port_error(e)),
        }
    }
}
