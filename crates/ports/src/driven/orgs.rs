use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::org::{Invitation, InvitationId, Membership, OrgId, OrgName, OrgRole, Organization};
use hexgate_domain::{Email, UserId, Username};

use crate::{AuditEvent, AuditStamp, NewJob, PortError, TokenHash};

/// A member as listed: the membership and who the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub user_id: UserId,
    pub username: Username,
    pub email: Email,
    pub role: OrgRole,
    pub joined_at: DateTime<Utc>,
}

/// Organizations, their memberships and invitations.
///
/// The two rules that must hold under concurrency are kept here, inside one transaction each:
/// the last-owner rule ([`Self::change_role`], [`Self::remove_member`] re-read the caller's and
/// the target's roles and the owners with the rows locked — `FOR UPDATE` on PostgreSQL, the write
/// lock on SQLite — and decide with `hexgate_domain::org::decide_*`), and single use of an
/// invitation ([`Self::accept_invitation`]: a conditional UPDATE of the invitation and a unique
/// (organization, user) membership).
///
/// # Errors
/// [`PortError::Conflict`] with `OrgSlugTaken` when a slug is taken, `AlreadyMember` when the user
/// is a member already; [`PortError::Org`] with the refusal of a membership change;
/// [`PortError::Unavailable`] when the store cannot be reached.
#[async_trait]
pub trait OrganizationRepository: Send + Sync {
    /// Stores the organization, `owner` as its first owner and `events`, in one transaction.
    async fn create(&self, org: &Organization, owner: UserId, events: &[AuditEvent]) -> Result<(), PortError>;

    /// The organization and `user`'s role in it, in one indexed read (membership joined to the
    /// organization) that costs the same whether the organization does not exist or the user is
    /// not a member: `None` for both.
    async fn membership(&self, org: OrgId, user: UserId) -> Result<Option<(Organization, OrgRole)>, PortError>;

    /// The user's organizations with their role, oldest membership first.
    async fn list_for_user(&self, user: UserId) -> Result<Vec<(Organization, OrgRole)>, PortError>;

    /// Renames the organization and writes `events`. [`PortError::NotFound`] when it is gone.
    async fn rename(&self, org: OrgId, name: &OrgName, events: &[AuditEvent]) -> Result<Organization, PortError>;

    /// Deletes the organization with its memberships and invitations, and writes `events`.
    /// `false` (and no event) when it was gone already.
    async fn delete(&self, org: OrgId, events: &[AuditEvent]) -> Result<bool, PortError>;

    /// The members, oldest first.
    async fn members(&self, org: OrgId) -> Result<Vec<MemberView>, PortError>;

    /// Sets `target`'s role on behalf of `actor`, re-checking both roles and the owners inside
    /// the transaction; writes an `org_role_changed` event (details `before`, `after`) from
    /// `stamp` when the role changes.
    async fn change_role(
        &self,
        org: OrgId,
        actor: UserId,
        target: UserId,
        role: OrgRole,
        stamp: &AuditStamp,
    ) -> Result<MemberView, PortError>;

    /// Removes `target` on behalf of `actor` (themself: leaving), re-checked as
    /// [`Self::change_role`]; writes an `org_member_removed` event.
    async fn remove_member(
        &self,
        org: OrgId,
        actor: UserId,
        target: UserId,
        stamp: &AuditStamp,
    ) -> Result<(), PortError>;

    /// Stores the invitation (without a token yet), the job that mails it and `events`, in one
    /// transaction.
    async fn create_invitation(
        &self,
        invitation: &Invitation,
        job: &NewJob,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<(), PortError>;

    /// The organization's pending invitations (not accepted, not expired), newest first.
    async fn pending_invitations(&self, org: OrgId, now: DateTime<Utc>) -> Result<Vec<Invitation>, PortError>;

    /// Deletes a not-yet-accepted invitation of the organization and writes `events`. `false`
    /// (and no event) when there is none.
    async fn revoke_invitation(&self, org: OrgId, id: InvitationId, events: &[AuditEvent]) -> Result<bool, PortError>;

    /// An invitation and its organization, by id (for the job that mails it).
    async fn invitation(&self, id: InvitationId) -> Result<Option<(Invitation, Organization)>, PortError>;

    /// Gives a pending invitation the hash of its (new) token. `false` when it is no longer
    /// pending (accepted, revoked, expired).
    async fn set_invitation_token(
        &self,
        id: InvitationId,
        token: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError>;

    /// The invitation whose token has this hash, in whatever state.
    async fn find_invitation_by_token(&self, token: &TokenHash) -> Result<Option<Invitation>, PortError>;

    /// Spends the invitation (one conditional UPDATE: still unaccepted, unexpired, with this
    /// token) and makes `user` a member with its role, writing `events`, in one transaction.
    /// `None` when the invitation was no longer pending (another acceptance won the race).
    async fn accept_invitation(
        &self,
        id: InvitationId,
        token: &TokenHash,
        user: UserId,
        now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<Option<Membership>, PortError>;
}
