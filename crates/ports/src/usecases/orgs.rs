//! Organizations (multi-tenancy): creating and managing them, their members and invitations, and
//! minting organization tokens.
//!
//! Every operation on one organization starts the same way: one read of the caller's membership
//! joined to the organization ([`OrganizationRepository::membership`]). `None` — no such
//! organization, or the caller is not a member — is answered `NotFound(Organization)` right
//! there, so a non-member learns nothing, not even from timing, about whether it exists. Only a
//! member is then told 403 when their role falls short.

use std::sync::Arc;

use async_trait::async_trait;
use hexgate_domain::User;
use hexgate_domain::audit::AuditEventType;
use hexgate_domain::org::{
    INVITATION_TTL, Invitation, InvitationId, Membership, OrgAction, OrgId, OrgName, OrgRole, OrgSlug, Organization,
    may_invite, org_allows,
};
use hexgate_domain::{Email, UserId};
use secrecy::ExposeSecret;
use serde_json::json;
use tracing::info;

use super::jobs::JobHandler;
use super::mails::escape;
use crate::{
    AuditPage, AuditQuery, AuditService, AuditStamp, Caller, Clock, IssuedAccessToken, JobWakeup, Mail, Mailer,
    MemberView, NewJob, OrgClaim, OrganizationRepository, Principal, RequestContext, Resource, ServiceError,
    TokenIssuer,
};

/// The job kind that mails an invitation (payload: the invitation's id).
pub const ORG_INVITATION_MAIL: &str = "org_invitation_mail";

/// An organization to make, from parts that are already valid.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub name: OrgName,
    pub slug: OrgSlug,
}

/// An invitation to send, from parts that are already valid.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub email: Email,
    pub role: OrgRole,
}

/// An organization with the caller's role in it.
#[derive(Debug, Clone)]
pub struct OrgView {
    pub org: Organization,
    pub role: OrgRole,
}

pub struct OrgService {
    orgs: Arc<dyn OrganizationRepository>,
    audit: Arc<AuditService>,
    issuer: Arc<dyn TokenIssuer>,
    clock: Arc<dyn Clock>,
    wakeup: Option<Arc<dyn JobWakeup>>,
}

impl OrgService {
    #[must_use]
    pub fn new(
        orgs: Arc<dyn OrganizationRepository>,
        audit: Arc<AuditService>,
        issuer: Arc<dyn TokenIssuer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { orgs, audit, issuer, clock, wakeup: None }
    }

    /// Tells this instance's workers at once when an invitation mail is queued.
    #[must_use]
    pub fn with_wakeup(mut self, wakeup: Arc<dyn JobWakeup>) -> Self {
        self.wakeup = Some(wakeup);
        self
    }

    /// The caller's membership of `org`; a non-member and an unknown id get the same `NotFound`
    /// after the same single read.
    async fn member(&self, org: OrgId, user: UserId) -> Result<OrgView, ServiceError> {
        match self.orgs.membership(org, user).await? {
            Some((org, role)) => Ok(OrgView { org, role }),
            None => Err(ServiceError::NotFound(Resource::Organization)),
        }
    }

    /// As [`Self::member`], then 403 unless the member's role allows `action`.
    async fn member_for(&self, org: OrgId, user: UserId, action: OrgAction) -> Result<OrgView, ServiceError> {
        let view = self.member(org, user).await?;
        if org_allows(view.role, action) { Ok(view) } else { Err(ServiceError::Forbidden) }
    }

    /// Makes an organization with the caller as its owner.
    ///
    /// # Errors
    /// `OrgSlugTaken`; store errors.
    #[tracing::instrument(skip_all, fields(user_id = %caller.user.id))]
    pub async fn create(
        &self,
        caller: &Caller,
        draft: NewOrganization,
        context: &RequestContext,
    ) -> Result<OrgView, ServiceError> {
        let stamp = AuditStamp::new(self.clock.now(), Some(caller.user.id), context);
        let org = Organization { id: OrgId::new(), name: draft.name, slug: draft.slug, created_at: stamp.at };
        let event = stamp.org_event(
            AuditEventType::OrgCreated,
            org.id,
            Some(caller.user.id),
            json!({"name": org.name.as_str(), "slug": org.slug.as_str()}),
        );
        self.orgs.create(&org, caller.user.id, &[event]).await?;
        info!(org_id = %org.id, "organization created");
        Ok(OrgView { org, role: OrgRole::Owner })
    }

    /// The caller's organizations with their role.
    ///
    /// # Errors
    /// Store errors.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<OrgView>, ServiceError> {
        let found = self.orgs.list_for_user(caller.user.id).await?;
        Ok(found.into_iter().map(|(org, role)| OrgView { org, role }).collect())
    }

    /// # Errors
    /// `NotFound(Organization)` for a non-member or an unknown id.
    pub async fn get(&self, caller: &Caller, org: OrgId) -> Result<OrgView, ServiceError> {
        self.member(org, caller.user.id).await
    }

    /// Renames the organization (owners and admins).
    ///
    /// # Errors
    /// `NotFound(Organization)`; `Forbidden` for a member.
    pub async fn rename(
        &self,
        caller: &Caller,
        org: OrgId,
        name: OrgName,
        context: &RequestContext,
    ) -> Result<OrgView, ServiceError> {
        let view = self.member_for(org, caller.user.id, OrgAction::Rename).await?;
        let stamp = AuditStamp::new(self.clock.now(), Some(caller.user.id), context);
        let event = stamp.org_event(
            AuditEventType::OrgUpdated,
            org,
            None,
            json!({"fields": ["name"], "before": view.org.name.as_str(), "after": name.as_str()}),
        );
        let renamed = self.orgs.rename(org, &name, &[event]).await.map_err(gone)?;
        Ok(OrgView { org: renamed, role: view.role })
    }

    /// Deletes the organization with its memberships and invitations (owners).
    ///
    /// # Errors
    /// `NotFound(Organization)`; `Forbidden` for an admin or member.
    pub async fn delete(&self, caller: &Caller, org: OrgId, context: &RequestContext) -> Result<(), ServiceError> {
        let view = self.member_for(org, caller.user.id, OrgAction::Delete).await?;
        let stamp = AuditStamp::new(self.clock.now(), Some(caller.user.id), context);
        let event = stamp.org_event(AuditEventType::OrgDeleted, org, None, json!({"slug": view.org.slug.as_str()}));
        if self.orgs.delete(org, &[event]).await? {
            info!(org_id = %org, "organization deleted");
            Ok(())
        } else {
            Err(ServiceError::NotFound(Resource::Organization))
        }
    }

    /// # Errors
    /// `NotFound(Organization)`.
    pub async fn members(&self, caller: &Caller, org: OrgId) -> Result<Vec<MemberView>, ServiceError> {
        self.member(org, caller.user.id).await?;
        Ok(self.orgs.members(org).await?)
    }

    /// Sets a member's role. The adapter decides again inside its transaction (the caller's role
    /// may have changed meanwhile; the last owner may be at stake).
    ///
    /// # Errors
    /// `NotFound(Organization)`, `NotFound(Member)`, `Forbidden`, `LastOwner`.
    pub async fn change_role(
        &self,
        caller: &Caller,
        org: OrgId,
        target: UserId,
        role: OrgRole,
        context: &RequestContext,
    ) -> Result<MemberView, ServiceError> {
        let view = self.member(org, caller.user.id).await?;
        if !view.role.manages() {
            return Err(ServiceError::Forbidden);
        }
        let stamp = AuditStamp::new(self.clock.now(), Some(caller.user.id), context);
        Ok(self.orgs.change_role(org, caller.user.id, target, role, &stamp).await?)
    }

    /// Removes a member, or (the caller themself) leaves.
    ///
    /// # Errors
    /// As [`Self::change_role`].
    pub async fn remove_member(
        &self,
        caller: &Caller,
        org: OrgId,
        target: UserId,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let view = self.member(org, caller.user.id).await?;
        if target != caller.user.id && !view.role.manages() {
            return Err(ServiceError::Forbidden);
        }
        let stamp = AuditStamp::new(self.clock.now(), Some(caller.user.id), context);
        self.orgs.remove_member(org, caller.user.id, target, &stamp).await?;
        Ok(())
    }

    /// Invites an address; the mail (with a token made when it is sent) is queued by a job
    /// written in the same transaction as the invitation.
    ///
    /// # Errors
    /// `NotFound(Organization)`; `Forbidden` for a member, or an admin inviting an owner.
    pub async fn invite(
        &self,
        caller: &Caller,
        org: OrgId,
        draft: NewInvitation,
        context: &RequestContext,
    ) -> Result<Invitation, ServiceError> {
        let view = self.member_for(org, caller.user.id, OrgAction::ManageInvitations).await?;
        if !may_invite(view.role, draft.role) {
            return Err(ServiceError::Forbidden);
        }
        let now = self.clock.now();
        let stamp = AuditStamp::new(now, Some(caller.user.id), context);
        let invitation = Invitation {
            id: InvitationId::new(),
            org_id: org,
            email: draft.email,
            role: draft.role,
            invited_by: caller.user.id,
            created_at: stamp.at,
            expires_at: stamp.at + INVITATION_TTL,
            accepted_at: None,
        };
        // The address is the invitee's; it is kept in the event so admins can tell invitations
        // apart (it is no secret to whoever reads the organization's log).
        let event = stamp.org_event(
            AuditEventType::OrgInvitationCreated,
            org,
            None,
            json!({"invitation_id": invitation.id.to_string(), "email": invitation.email.as_str(),
                   "role": invitation.role.as_str()}),
        );
        let job = NewJob { kind: ORG_INVITATION_MAIL.to_owned(), payload: invitation.id.to_string(), max_attempts: 5 };
        self.orgs.create_invitation(&invitation, &job, now, &[event]).await?;
        if let Some(wakeup) = &self.wakeup {
            wakeup.job_queued();
        }
        info!(org_id = %org, invitation_id = %invitation.id, "invitation queued");
        Ok(invitation)
    }

    /// # Errors
    /// `NotFound(Organization)`; `Forbidden` for a member.
    pub async fn invitations(&self, caller: &Caller, org: OrgId) -> Result<Vec<Invitation>, ServiceError> {
        self.member_for(org, caller.user.id, OrgAction::ManageInvitations).await?;
        Ok(self.orgs.pending_invitations(org, self.clock.now()).await?)
    }

    /// # Errors
    /// `NotFound(Organization)`, `NotFound(Invitation)`; `Forbidden` for a member.
    pub async fn revoke_invitation(
        &self,
        caller: &Caller,
        org: OrgId,
        id: InvitationId,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        self.member_for(org, caller.user.id, OrgAction::ManageInvitations).await?;
        let stamp = AuditStamp::new(self.clock.now(), Some(caller.user.id), context);
        let event =
            stamp.org_event(AuditEventType::OrgInvitationRevoked, org, None, json!({"invitation_id": id.to_string()}));
        if self.orgs.revoke_invitation(org, id, &[event]).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(Resource::Invitation))
        }
    }

    /// Accepts an invitation with its mailed token: the caller's verified address must be the
    /// invited one.
    ///
    /// # Errors
    /// `InvalidToken` for an unknown, used or expired token (or one that lost a race to another
    /// acceptance); `Forbidden` when the caller's verified address is not the invited one;
    /// `AlreadyMember`.
    pub async fn accept(
        &self,
        caller: &Caller,
        token: &str,
        context: &RequestContext,
    ) -> Result<(Membership, MemberView), ServiceError> {
        let hash = self.issuer.hash_refresh(token);
        let now = self.clock.now();
        let invitation = match self.orgs.find_invitation_by_token(&hash).await? {
            Some(invitation) if invitation.is_pending(now) => invitation,
            _ => return Err(ServiceError::InvalidToken),
        };
        if !email_matches(&caller.user, &invitation.email) {
            return Err(ServiceError::Forbidden);
        }
        let stamp = AuditStamp::new(now, Some(caller.user.id), context);
        let event = stamp.org_event(
            AuditEventType::OrgMemberAdded,
            invitation.org_id,
            Some(caller.user.id),
            json!({"via": "invitation", "invitation_id": invitation.id.to_string(),
                   "role": invitation.role.as_str()}),
        );
        let membership = self
            .orgs
            .accept_invitation(invitation.id, &hash, caller.user.id, now, &[event])
            .await?
            .ok_or(ServiceError::InvalidToken)?;
        info!(org_id = %membership.org_id, "invitation accepted");
        let view = MemberView {
            user_id: caller.user.id,
            username: caller.user.username.clone(),
            email: caller.user.email.clone(),
            role: membership.role,
            joined_at: membership.joined_at,
        };
        Ok((membership, view))
    }

    /// An access token for the caller's session that also names the organization and the
    /// caller's role in it. No refresh token: a client asks again when it expires.
    ///
    /// # Errors
    /// `NotFound(Organization)`.
    pub async fn token(&self, caller: &Principal, org: OrgId) -> Result<IssuedAccessToken, ServiceError> {
        let view = self.member(org, caller.user.id).await?;
        let claim = OrgClaim { org_id: org, role: view.role };
        Ok(self.issuer.issue_org_access(caller.user.id, caller.claims.session_id, claim).await?)
    }

    /// The organization's audit events (owners and admins), with the audit log's paging.
    ///
    /// # Errors
    /// `NotFound(Organization)`; `Forbidden` for a member; `BadCursor`.
    pub async fn audit_events(
        &self,
        caller: &Caller,
        org: OrgId,
        query: AuditQuery,
    ) -> Result<AuditPage, ServiceError> {
        self.member_for(org, caller.user.id, OrgAction::ReadAudit).await?;
        self.audit.list_org(org.as_uuid(), query).await
    }
}

/// A store's bare `NotFound` after the membership check passed: the organization went meanwhile.
fn gone(err: crate::PortError) -> ServiceError {
    match err {
        crate::PortError::NotFound => ServiceError::NotFound(Resource::Organization),
        other => other.into(),
    }
}

/// The invitation is for this caller: their address is verified and is the invited one.
fn email_matches(user: &User, invited: &Email) -> bool {
    user.is_verified && &user.email == invited
}

/// What the invitation-mailing job needs.
pub struct OrgInvitationMailJob {
    pub orgs: Arc<dyn OrganizationRepository>,
    pub issuer: Arc<dyn TokenIssuer>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub base_url: String,
}

fn invitation_mail(invitation: &Invitation, org: &Organization, link: &str) -> Mail {
    let name = org.name.as_str();
    let role = invitation.role.as_str();
    Mail {
        to: invitation.email.to_string(),
        subject: format!("You are invited to join {name} on hexgate"),
        text: format!(
            "Hello,\n\nyou are invited to join the organization {name} as {role}.\n\nAccept the invitation: \
             {link}\n\nSign in with the account whose verified address is this one. The link works for \
             7 days, once.\n"
        ),
        html: format!(
            "<p>Hello,</p><p>you are invited to join the organization <b>{}</b> as {}.</p><p><a \
             href=\"{}\">Accept the invitation</a></p><p>Sign in with the account whose verified address is \
             this one. The link works for 7 days, once.</p>",
            escape(name),
            escape(role),
            escape(link)
        ),
    }
}

#[async_trait]
impl JobHandler for OrgInvitationMailJob {
    /// Makes the invitation's token (a retry makes a new one; only the last mailed works) and
    /// mails it. Nothing for an invitation revoked, accepted or expired meanwhile.
    async fn run(&self, payload: &str) -> Result<(), String> {
        let id: uuid::Uuid = payload.parse().map_err(|e| format!("bad payload: {e}"))?;
        let id = InvitationId::from_uuid(id);
        let Some((invitation, org)) = self.orgs.invitation(id).await.map_err(|e| e.to_string())? else {
            return Ok(());
        };
        let now = self.clock.now();
        if !invitation.is_pending(now) {
            return Ok(());
        }
        let secret = self.issuer.new_refresh_secret();
        if !self.orgs.set_invitation_token(id, &secret.hash, now).await.map_err(|e| e.to_string())? {
            return Ok(());
        }
        let link = format!("{}/invitations/accept?token={}", self.base_url, secret.token.expose_secret());
        self.mailer.send(&invitation_mail(&invitation, &org, &link)).await.map_err(|e| e.to_string())
    }
}
