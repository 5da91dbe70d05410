use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::audit::AuditEventType;
use hexgate_domain::org::{
    Invitation, InvitationId, Membership, OrgId, OrgName, OrgRefusal, OrgRole, Organization, decide_removal,
    decide_role_change,
};
use hexgate_ports::{
    AuditEvent, AuditStamp, Conflict, MemberView, NewJob, OrganizationRepository, PortError, TokenHash,
};
use serde_json::json;

use super::{InMemoryStore, InvitationRow, State};

impl State {
    fn role_of(&self, org: OrgId, user: UserId) -> Option<OrgRole> {
        self.memberships.iter().find(|m| m.org_id == org && m.user_id == user).map(|m| m.role)
    }

    fn owners(&self, org: OrgId) -> u64 {
        self.memberships.iter().filter(|m| m.org_id == org && m.role == OrgRole::Owner).count() as u64
    }

    fn member_view(&self, m: &Membership) -> Result<MemberView, PortError> {
        let user = self.users.get(&m.user_id).ok_or_else(|| PortError::Internal("membership without user".into()))?;
        Ok(MemberView {
            user_id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            role: m.role,
            joined_at: m.joined_at,
        })
    }

    /// What `ON DELETE CASCADE` does when an organization row goes.
    fn cascade_org(&mut self, org: OrgId) {
        self.memberships.retain(|m| m.org_id != org);
        self.invitations.retain(|_, i| i.invitation.org_id != org);
    }
}

#[async_trait]
impl OrganizationRepository for InMemoryStore {
    async fn create(&self, org: &Organization, owner: UserId, events: &[AuditEvent]) -> Result<(), PortError> {
        let mut state = self.lock();
        if state.orgs.values().any(|o| o.slug == org.slug) {
            return Err(PortError::Conflict(Conflict::OrgSlugTaken));
        }
        if !state.users.contains_key(&owner) {
            return Err(PortError::NotFound);
        }
        state.orgs.insert(org.id, org.clone());
        state.memberships.push(Membership {
            org_id: org.id,
            user_id: owner,
            role: OrgRole::Owner,
            joined_at: org.created_at,
        });
        state.record(events);
        Ok(())
    }

    async fn membership(&self, org: OrgId, user: UserId) -> Result<Option<(Organization, OrgRole)>, PortError> {
        let state = self.lock();
        Ok(state.role_of(org, user).and_then(|role| state.orgs.get(&org).map(|o| (o.clone(), role))))
    }

    async fn list_for_user(&self, user: UserId) -> Result<Vec<(Organization, OrgRole)>, PortError> {
        let state = self.lock();
        Ok(state
            .memberships
            .iter()
            .filter(|m| m.user_id == user)
            .filter_map(|m| state.orgs.get(&m.org_id).map(|o| (o.clone(), m.role)))
            .collect())
    }

    async fn rename(&self, org: OrgId, name: &OrgName, events: &[AuditEvent]) -> Result<Organization, PortError> {
        let mut state = self.lock();
        let found = state.orgs.get_mut(&org).ok_or(PortError::NotFound)?;
        found.name = name.clone();
        let renamed = found.clone();
        state.record(events);
        Ok(renamed)
    }

    async fn delete(&self, org: OrgId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let mut state = self.lock();
        if state.orgs.remove(&org).is_none() {
            return Ok(false);
        }
        state.cascade_org(org);
        state.record(events);
        Ok(true)
    }

    async fn members(&self, org: OrgId) -> Result<Vec<MemberView>, PortError> {
        let state = self.lock();
        state.memberships.iter().filter(|m| m.org_id == org).map(|m| state.member_view(m)).collect()
    }

    async fn change_role(
        &self,
        org: OrgId,
        actor: UserId,
        target: UserId,
        role: OrgRole,
        stamp: &AuditStamp,
    ) -> Result<MemberView, PortError> {
        let mut state = self.lock();
        if !state.orgs.contains_key(&org) {
            return Err(OrgRefusal::NotMember.into());
        }
        let before = state.role_of(org, target);
        decide_role_change(state.role_of(org, actor), before, role, state.owners(org))?;
        let before = before.ok_or(PortError::NotFound)?;
        let row =
            state.memberships.iter_mut().find(|m| m.org_id == org && m.user_id == target).ok_or(PortError::NotFound)?;
        row.role = role;
        let row = row.clone();
        if before != role {
            let event = stamp.org_event(
                AuditEventType::OrgRoleChanged,
                org,
                Some(target),
                json!({"before": before.as_str(), "after": role.as_str()}),
            );
            state.record(&[event]);
        }
        state.member_view(&row)
    }

    async fn remove_member(
        &self,
        org: OrgId,
        actor: UserId,
        target: UserId,
        stamp: &AuditStamp,
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        if !state.orgs.contains_key(&org) {
            return Err(OrgRefusal::NotMember.into());
        }
        let before = state.role_of(org, target);
        decide_removal(state.role_of(org, actor), actor == target, before, state.owners(org))?;
        let before = before.ok_or(PortError::NotFound)?;
        state.memberships.retain(|m| !(m.org_id == org && m.user_id == target));
        let event = stamp.org_event(
            AuditEventType::OrgMemberRemoved,
            org,
            Some(target),
            json!({"role": before.as_str(), "left": actor == target}),
        );
        state.record(&[event]);
        Ok(())
    }

    async fn create_invitation(
        &self,
        invitation: &Invitation,
        job: &NewJob,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        if !state.orgs.contains_key(&invitation.org_id) {
            return Err(PortError::NotFound);
        }
        state.invitations.insert(invitation.id, InvitationRow { invitation: invitation.clone(), hash: None });
        state.enqueue(job, now);
        state.record(events);
        Ok(())
    }

    async fn pending_invitations(&self, org: OrgId, now: DateTime<Utc>) -> Result<Vec<Invitation>, PortError> {
        let state = self.lock();
        let mut found: Vec<Invitation> = state
            .invitations
            .values()
            .filter(|i| i.invitation.org_id == org && i.invitation.is_pending(now))
            .map(|i| i.invitation.clone())
            .collect();
        found.sort_by_key(|i| std::cmp::Reverse((i.created_at, i.id)));
        Ok(found)
    }

    async fn revoke_invitation(&self, org: OrgId, id: InvitationId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let mut state = self.lock();
        let revocable = state
            .invitations
            .get(&id)
            .is_some_and(|i| i.invitation.org_id == org && i.invitation.accepted_at.is_none());
        if !revocable {
            return Ok(false);
        }
        state.invitations.remove(&id);
        state.record(events);
        Ok(true)
    }

    async fn invitation(&self, id: InvitationId) -> Result<Option<(Invitation, Organization)>, PortError> {
        let state = self.lock();
        Ok(state
            .invitations
            .get(&id)
            .and_then(|i| state.orgs.get(&i.invitation.org_id).map(|o| (i.invitation.clone(), o.clone()))))
    }

    async fn set_invitation_token(
        &self,
        id: InvitationId,
        token: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        match state.invitations.get_mut(&id) {
            Some(row) if row.invitation.is_pending(now) => {
                row.hash = Some(token.0.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn find_invitation_by_token(&self, token: &TokenHash) -> Result<Option<Invitation>, PortError> {
        let state = self.lock();
        Ok(state
            .invitations
            .values()
            .find(|i| i.hash.as_deref() == Some(token.0.as_str()))
            .map(|i| i.invitation.clone()))
    }

    async fn accept_invitation(
        &self,
        id: InvitationId,
        token: &TokenHash,
        user: UserId,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<Option<Membership>, PortError> {
        let mut state = self.lock();
        let Some(row) = state.invitations.get(&id) else { return Ok(None) };
        if row.hash.as_deref() != Some(token.0.as_str()) || !row.invitation.is_pending(now) {
            return Ok(None);
        }
        let invitation = row.invitation.clone();
        if state.role_of(invitation.org_id, user).is_some() {
            return Err(PortError::Conflict(Conflict::AlreadyMember));
        }
        if !state.users.contains_key(&user) {
            return Err(PortError::NotFound);
        }
        if let Some(row) = state.invitations.get_mut(&id) {
            row.invitation.accepted_at = Some(now);
        }
        let membership = Membership { org_id: invitation.org_id, user_id: user, role: invitation.role, joined_at: now };
        state.memberships.push(membership.clone());
        state.record(events);
        Ok(Some(membership))
    }
}
