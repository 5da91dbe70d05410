//! The audit log. Events caused by a change are inserted by that change's repository method
//! through [`record_in`], on its transaction; [`SqlAuditLog`] appends the others, lists and prunes.

use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_ports::{AuditEvent, AuditFilter, AuditLog, AuditPosition, PortError};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::entity::audit_events::{ActiveModel, Column, Entity, Model};
use crate::error::port_error;

#[derive(Clone)]
pub struct SqlAuditLog {
    db: DatabasePools,
}

impl SqlAuditLog {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

fn to_active(e: &AuditEvent) -> ActiveModel {
    ActiveModel {
        id: Set(e.id),
        event_type: Set(e.event_type.as_str().to_owned()),
        at: Set(e.at),
        actor_id: Set(e.actor_id.map(UserId::as_uuid)),
        subject_id: Set(e.subject_id.map(UserId::as_uuid)),
        org_id: Set(e.org_id),
        ip: Set(e.ip.clone()),
        user_agent: Set(e.user_agent.as_ref().map(|ua| ua.chars().take(256).collect())),
        request_id: Set(e.request_id.clone()),
        details: Set(e.details.to_string()),
    }
}

fn to_event(m: Model) -> Result<AuditEvent, PortError> {
    Ok(AuditEvent {
        id: m.id,
        event_type: m
            .event_type
            .parse()
            .map_err(|_| PortError::Internal(format!("audit event {} has an unknown type", m.id)))?,
        at: m.at,
        actor_id: m.actor_id.map(UserId::from_uuid),
        subject_id: m.subject_id.map(UserId::from_uuid),
        org_id: m.org_id,
        ip: m.ip,
        user_agent: m.user_agent,
        request_id: m.request_id,
        details: serde_json::from_str(&m.details)
            .map_err(|_| PortError::Internal(format!("audit event {} has unreadable details", m.id)))?,
    })
}

/// Inserts `events` on `conn` — the transaction of the change they record.
pub(crate) async fn record_in(conn: &impl ConnectionTrait, events: &[AuditEvent]) -> Result<(), PortError> {
    if events.is_empty() {
        return Ok(());
    }
    Entity::insert_many(events.iter().map(to_active)).exec_without_returning(conn).await.map_err(port_error)?;
    Ok(())
}

#[async_trait]
impl AuditLog for SqlAuditLog {
    async fn append(&self, event: &AuditEvent) -> Result<(), PortError> {
        record_in(self.db.conn(), std::slice::from_ref(event)).await
    }

    async fn list(
        &self,
        filter: &AuditFilter,
        after: Option<AuditPosition>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, PortError> {
        let mut condition = Condition::all();
        if let Some(t) = filter.event_type {
            condition = condition.add(Column::EventType.eq(t.as_str()));
        }
        if let Some(actor) = filter.actor_id {
            condition = condition.add(Column::ActorId.eq(actor.as_uuid()));
        }
        if let Some(subject) = filter.subject_id {
            condition = condition.add(Column::SubjectId.eq(subject.as_uuid()));
        }
        if let Some(org) = filter.org_id {
            condition = condition.add(Column::OrgId.eq(org));
        }
        if let Some(since) = filter.since {
            condition = condition.add(Column::At.gte(since));
        }
        if let Some(until) = filter.until {
            condition = condition.add(Column::At.lt(until));
        }
        if let Some(after) = after {
            condition = condition.add(
                Condition::any()
                    .add(Column::At.lt(after.at))
                    .add(Condition::all().add(Column::At.eq(after.at)).add(Column::Id.lt(after.id))),
            );
        }
        Entity::find()
            .filter(condition)
            .order_by_desc(Column::At)
            .order_by_desc(Column::Id)
            .limit(limit)
            .all(self.db.conn())
            .await
            .map_err(port_error)?
            .into_iter()
            .map(to_event)
            .collect()
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, PortError> {
        let done =
            Entity::delete_many().filter(Column::At.lt(before)).exec(self.db.conn()).await.map_err(port_error)?;
        Ok(done.rows_affected)
    }
}
