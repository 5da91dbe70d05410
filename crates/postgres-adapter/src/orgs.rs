//! Organizations, memberships and invitations.
//!
//! Membership changes (role changes, removals) run as one transaction that first takes the
//! organization's row lock (`FOR UPDATE` on PostgreSQL; SQLite's write lock, taken up front by
//! [`become_writer`]), then reads the caller's and the target's roles and counts the owners, decides
//! with the domain's rules, and writes. Every such change of one organization is therefore
//! serialised: two owners demoting each other at once leave one owner, like the last-admin rule.
//! Acceptance spends the invitation with one conditional UPDATE and inserts the membership under
//! a unique (organization, user) index: an invitation accepted twice at once makes one membership.

use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::audit::AuditEventType;
use hexgate_domain::org::{
    Invitation, InvitationId, Membership, OrgId, OrgName, OrgRole, OrgSlug, Organization, decide_removal,
    decide_role_change,
};
use hexgate_domain::{Email, UserId};
use hexgate_ports::{AuditEvent, AuditStamp, MemberView, NewJob, OrganizationRepository, PortError, TokenHash};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit::record_in;
use crate::entity::{org_invitations, org_memberships, organizations, users};
use crate::error::port_error;
use crate::lock::{become_writer, for_update};

#[derive(Clone)]
pub struct SqlOrganizationRepository {
    db: DatabasePools,
}

impl SqlOrganizationRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

fn corrupt(what: &str, id: Uuid) -> PortError {
    PortError::Internal(format!("{what} {id} has an invalid value"))
}

fn to_org(m: organizations::Model) -> Result<Organization, PortError> {
    Ok(Organization {
        id: OrgId::from_uuid(m.id),
        name: OrgName::parse(&m.name).map_err(|_| corrupt("organization", m.id))?,
        slug: OrgSlug::parse(&m.slug).map_err(|_| corrupt("organization", m.id))?,
        created_at: m.created_at,
    })
}

fn role_of(text: &str, id: Uuid) -> Result<OrgRole, PortError> {
    text.parse().map_err(|_| corrupt("membership", id))
}

fn to_membership(m: &org_memberships::Model) -> Result<Membership, PortError> {
    Ok(Membership {
        org_id: OrgId::from_uuid(m.org_id),
        user_id: UserId::from_uuid(m.user_id),
        role: role_of(&m.role, m.id)?,
        joined_at: m.joined_at,
    })
}

fn to_invitation(m: org_invitations::Model) -> Result<Invitation, PortError> {
    Ok(Invitation {
        id: InvitationId::from_uuid(m.id),
        org_id: OrgId::from_uuid(m.org_id),
        email: Email::parse(&m.email).map_err(|_| corrupt("invitation", m.id))?,
        role: m.role.parse().map_err(|_| corrupt("invitation", m.id))?,
        invited_by: UserId::from_uuid(m.invited_by),
        created_at: m.created_at,
        expires_at: m.expires_at,
        accepted_at: m.accepted_at,
    })
}

fn to_member(m: &org_memberships::Model, user: Option<users::Model>) -> Result<MemberView, PortError> {
    let user = crate::users::to_domain(user.ok_or_else(|| corrupt("membership", m.id))?)?;
    Ok(MemberView {
        user_id: user.id,
        username: user.username,
        email: user.email,
        role: role_of(&m.role, m.id)?,
        joined_at: m.joined_at,
    })
}

fn membership_row(org: OrgId, user: UserId, role: OrgRole, at: DateTime<Utc>) -> org_memberships::ActiveModel {
    org_memberships::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.as_uuid()),
        user_id: Set(user.as_uuid()),
        role: Set(role.as_str().to_owned()),
        joined_at: Set(at),
    }
}

/// A membership row, within `txn`.
async fn member_row(
    txn: &DatabaseTransaction,
    org: OrgId,
    user: UserId,
) -> Result<Option<org_memberships::Model>, PortError> {
    org_memberships::Entity::find()
        .filter(org_memberships::Column::OrgId.eq(org.as_uuid()))
        .filter(org_memberships::Column::UserId.eq(user.as_uuid()))
        .one(txn)
        .await
        .map_err(port_error)
}

/// Starts a membership change of `org`: serialised against every other one of the same
/// organization (its row locked), with the caller's and the target's rows and the owner count
/// read after the lock. `NotMember` when the organization is gone.
async fn begin_membership_change(
    db: &DatabaseConnection,
    org: OrgId,
    actor: UserId,
    target: UserId,
) -> Result<(DatabaseTransaction, Option<org_memberships::Model>, Option<org_memberships::Model>, u64), PortError> {
    let txn = db.begin().await.map_err(port_error)?;
    become_writer(&txn).await.map_err(port_error)?;
    let locked =
        for_update(&txn, organizations::Entity::find_by_id(org.as_uuid())).one(&txn).await.map_err(port_error)?;
    if locked.is_none() {
        return Err(hexgate_domain::org::OrgRefusal::NotMember.into());
    }
    let actor_row = member_row(&txn, org, actor).await?;
    let target_row = if actor == target { actor_row.clone() } else { member_row(&txn, org, target).await? };
    let owners = org_memberships::Entity::find()
        .filter(org_memberships::Column::OrgId.eq(org.as_uuid()))
        .filter(org_memberships::Column::Role.eq(OrgRole::Owner.as_str()))
        .count(&txn)
        .await
        .map_err(port_error)?;
    Ok((txn, actor_row, target_row, owners))
}

fn role_in(row: Option<&org_memberships::Model>) -> Result<Option<OrgRole>, PortError> {
    row.map(|m| role_of(&m.role, m.id)).transpose()
}

#[async_trait]
impl OrganizationRepository for SqlOrganizationRepository {
    async fn create(&self, org: &Organization, owner: UserId, events: &[AuditEvent]) -> Result<(), PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        organizations::Entity::insert(organizations::ActiveModel {
            id: Set(org.id.as_uuid()),
            name: Set(org.name.as_str().to_owned()),
            slug: Set(org.slug.as_str().to_owned()),
            created_at: Set(org.created_at),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(port_error)?;
        org_memberships::Entity::insert(membership_row(org.id, owner, OrgRole::Owner, org.created_at))
            .exec_without_returning(&txn)
            .await
            .map_err(port_error)?;
        record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)
    }

    async fn membership(&self, org: OrgId, user: UserId) -> Result<Option<(Organization, OrgRole)>, PortError> {
        // One probe of the unique (org_id, user_id) index joined to the organization: the same
        // statement and plan whether the organization is missing or the user is no member.
        let found = org_memberships::Entity::find()
            .filter(org_memberships::Column::OrgId.eq(org.as_uuid()))
            .filter(org_memberships::Column::UserId.eq(user.as_uuid()))
            .find_also_related(organizations::Entity)
            .one(self.db.conn())
            .await
            .map_err(port_error)?;
        match found {
            Some((m, Some(o))) => Ok(Some((to_org(o)?, role_of(&m.role, m.id)?))),
            _ => Ok(None),
        }
    }

    async fn list_for_user(&self, user: UserId) -> Result<Vec<(Organization, OrgRole)>, PortError> {
        let rows = org_memberships::Entity::find()
            .filter(org_memberships::Column::UserId.eq(user.as_uuid()))
            .find_also_related(organizations::Entity)
            .order_by_asc(org_memberships::Column::JoinedAt)
            .order_by_asc(org_memberships::Column::Id)
            .all(self.db.conn())
            .await
            .map_err(port_error)?;
        rows.into_iter()
            .filter_map(|(m, o)| o.map(|o| (m, o)))
            .map(|(m, o)| Ok((to_org(o)?, role_of(&m.role, m.id)?)))
            .collect()
    }

    async fn rename(&self, org: OrgId, name: &OrgName, events: &[AuditEvent]) -> Result<Organization, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let done = organizations::Entity::update_many()
            .col_expr(organizations::Column::Name, Expr::value(name.as_str()))
            .filter(organizations::Column::Id.eq(org.as_uuid()))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        if done.rows_affected == 0 {
            return Err(PortError::NotFound);
        }
        let row = organizations::Entity::find_by_id(org.as_uuid())
            .one(&txn)
            .await
            .map_err(port_error)?
            .ok_or(PortError::NotFound)?;
        record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)?;
        to_org(row)
    }

    async fn delete(&self, org: OrgId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        // Memberships and invitations go by ON DELETE CASCADE.
        let done = organizations::Entity::delete_by_id(org.as_uuid()).exec(&txn).await.map_err(port_error)?;
        if done.rows_affected == 0 {
            return Ok(false);
        }
        record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)?;
        Ok(true)
    }

    async fn members(&self, org: OrgId) -> Result<Vec<MemberView>, PortError> {
        let rows = org_memberships::Entity::find()
            .filter(org_memberships::Column::OrgId.eq(org.as_uuid()))
            .find_also_related(users::Entity)
            .order_by_asc(org_memberships::Column::JoinedAt)
            .order_by_asc(org_memberships::Column::Id)
            .all(self.db.conn())
            .await
            .map_err(port_error)?;
        rows.into_iter().map(|(m, u)| to_member(&m, u)).collect()
    }

    async fn change_role(
        &self,
        org: OrgId,
        actor: UserId,
        target: UserId,
        role: OrgRole,
        stamp: &AuditStamp,
    ) -> Result<MemberView, PortError> {
        let (txn, actor_row, target_row, owners) = begin_membership_change(self.db.conn(), org, actor, target).await?;
        let before = role_in(target_row.as_ref())?;
        decide_role_change(role_in(actor_row.as_ref())?, before, role, owners)?;
        let (row, before) = target_row.zip(before).ok_or(PortError::NotFound)?;
        if before != role {
            org_memberships::Entity::update_many()
                .col_expr(org_memberships::Column::Role, Expr::value(role.as_str()))
                .filter(org_memberships::Column::Id.eq(row.id))
                .exec(&txn)
                .await
                .map_err(port_error)?;
            let event = stamp.org_event(
                AuditEventType::OrgRoleChanged,
                org,
                Some(target),
                json!({"before": before.as_str(), "after": role.as_str()}),
            );
            record_in(&txn, &[event]).await?;
        }
        let user = users::Entity::find_by_id(target.as_uuid()).one(&txn).await.map_err(port_error)?;
        txn.commit().await.map_err(port_error)?;
        let updated = org_memberships::Model { role: role.as_str().to_owned(), ..row };
        to_member(&updated, user)
    }

    async fn remove_member(
        &self,
        org: OrgId,
        actor: UserId,
        target: UserId,
        stamp: &AuditStamp,
    ) -> Result<(), PortError> {
        let (txn, actor_row, target_row, owners) = begin_membership_change(self.db.conn(), org, actor, target).await?;
        let before = role_in(target_row.as_ref())?;
        decide_removal(role_in(actor_row.as_ref())?, actor == target, before, owners)?;
        let (row, before) = target_row.zip(before).ok_or(PortError::NotFound)?;
        org_memberships::Entity::delete_by_id(row.id).exec(&txn).await.map_err(port_error)?;
        let event = stamp.org_event(
            AuditEventType::OrgMemberRemoved,
            org,
            Some(target),
            json!({"role": before.as_str(), "left": actor == target}),
        );
        record_in(&txn, &[event]).await?;
        txn.commit().await.map_err(port_error)
    }

    async fn create_invitation(
        &self,
        invitation: &Invitation,
        job: &NewJob,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<(), PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        org_invitations::Entity::insert(org_invitations::ActiveModel {
            id: Set(invitation.id.as_uuid()),
            org_id: Set(invitation.org_id.as_uuid()),
            email: Set(invitation.email.as_str().to_owned()),
            role: Set(invitation.role.as_str().to_owned()),
            invited_by: Set(invitation.invited_by.as_uuid()),
            token_hash: Set(None),
            created_at: Set(invitation.created_at),
            expires_at: Set(invitation.expires_at),
            accepted_at: Set(None),
            accepted_by: Set(None),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(port_error)?;
        crate::jobs::enqueue_in(&txn, job, now).await?;
        record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)
    }

    async fn pending_invitations(&self, org: OrgId, now: DateTime<Utc>) -> Result<Vec<Invitation>, PortError> {
        org_invitations::Entity::find()
            .filter(org_invitations::Column::OrgId.eq(org.as_uuid()))
            .filter(org_invitations::Column::AcceptedAt.is_null())
            .filter(org_invitations::Column::ExpiresAt.gt(now))
            .order_by_desc(org_invitations::Column::CreatedAt)
            .order_by_desc(org_invitations::Column::Id)
            .all(self.db.conn())
            .await
            .map_err(port_error)?
            .into_iter()
            .map(to_invitation)
            .collect()
    }

    async fn revoke_invitation(&self, org: OrgId, id: InvitationId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        let done = org_invitations::Entity::delete_many()
            .filter(org_invitations::Column::Id.eq(id.as_uuid()))
            .filter(org_invitations::Column::OrgId.eq(org.as_uuid()))
            .filter(org_invitations::Column::AcceptedAt.is_null())
            .exec(&txn)
            .await
            .map_err(port_error)?;
        if done.rows_affected == 0 {
            return Ok(false);
        }
        record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)?;
        Ok(true)
    }

    async fn invitation(&self, id: InvitationId) -> Result<Option<(Invitation, Organization)>, PortError> {
        let found = org_invitations::Entity::find_by_id(id.as_uuid())
            .find_also_related(organizations::Entity)
            .one(self.db.conn())
            .await
            .map_err(port_error)?;
        match found {
            Some((i, Some(o))) => Ok(Some((to_invitation(i)?, to_org(o)?))),
            _ => Ok(None),
        }
    }

    async fn set_invitation_token(
        &self,
        id: InvitationId,
        token: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let done = org_invitations::Entity::update_many()
            .col_expr(org_invitations::Column::TokenHash, Expr::value(token.0.as_str()))
            .filter(org_invitations::Column::Id.eq(id.as_uuid()))
            .filter(org_invitations::Column::AcceptedAt.is_null())
            .filter(org_invitations::Column::ExpiresAt.gt(now))
            .exec(self.db.conn())
            .await
            .map_err(port_error)?;
        Ok(done.rows_affected > 0)
    }

    async fn find_invitation_by_token(&self, token: &TokenHash) -> Result<Option<Invitation>, PortError> {
        org_invitations::Entity::find()
            .filter(org_invitations::Column::TokenHash.eq(token.0.as_str()))
            .one(self.db.conn())
            .await
            .map_err(port_error)?
            .map(to_invitation)
            .transpose()
    }

    async fn accept_invitation(
        &self,
        id: InvitationId,
        token: &TokenHash,
        user: UserId,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<Option<Membership>, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        become_writer(&txn).await.map_err(port_error)?;
        // Single use: of two acceptances racing, one updates the row, the other finds it spent.
        let spent = org_invitations::Entity::update_many()
            .col_expr(org_invitations::Column::AcceptedAt, Expr::value(now))
            .col_expr(org_invitations::Column::AcceptedBy, Expr::value(user.as_uuid()))
            .filter(org_invitations::Column::Id.eq(id.as_uuid()))
            .filter(org_invitations::Column::TokenHash.eq(token.0.as_str()))
            .filter(org_invitations::Column::AcceptedAt.is_null())
            .filter(org_invitations::Column::ExpiresAt.gt(now))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        if spent.rows_affected == 0 {
            txn.rollback().await.map_err(port_error)?;
            return Ok(None);
        }
        let invitation = org_invitations::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await
            .map_err(port_error)?
            .ok_or(PortError::NotFound)
            .and_then(to_invitation)?;
        let row = membership_row(invitation.org_id, user, invitation.role, now);
        // A user who is a member already hits the unique (org_id, user_id) index: AlreadyMember,
        // and the invitation stays unspent (the transaction rolls back).
        org_memberships::Entity::insert(row.clone()).exec_without_returning(&txn).await.map_err(port_error)?;
        record_in(&txn, events).await?;
        txn.commit().await.map_err(port_error)?;
        let model = org_memberships::Model {
            id: row.id.unwrap(),
            org_id: row.org_id.unwrap(),
            user_id: row.user_id.unwrap(),
            role: row.role.unwrap(),
            joined_at: row.joined_at.unwrap(),
        };
        to_membership(&model).map(Some)
    }
}
