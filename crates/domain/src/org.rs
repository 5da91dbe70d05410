//! Organizations (tenants): users are global, organizations group them, each member with one role.
//! Who may do what inside an organization — change whose role to what, remove whom, invite as
//! which role — and the last-owner rule are pure functions here, so the whole matrix is unit-tested
//! once and the SQL adapter asks the same questions inside its transactions.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use thiserror::Error;
use uuid::Uuid;

use crate::{Email, RuleViolation, UserId};

/// An invitation's token works for this long, once.
pub const INVITATION_TTL: Duration = Duration::days(7);

macro_rules! uuid_id {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            #[must_use]
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            #[must_use]
            pub fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(OrgId);
uuid_id!(InvitationId);

crate::text::visible_name!(
    /// An organization's display name: 1..=100 characters, trimmed, no control characters.
    OrgName,
    OrgNameError,
    "org_name",
    100
);

/// An organization's unique handle: 3..=40 characters of `[a-z0-9-]`, taken as given (upper-case
/// letters are refused, not folded, so the slug a client sent is the slug it gets back).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgSlug(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum OrgSlugError {
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("may contain only lower-case letters, digits and '-'")]
    InvalidCharacter,
}

impl RuleViolation for OrgSlugError {
    fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "org_slug_too_short",
            Self::TooLong { .. } => "org_slug_too_long",
            Self::InvalidCharacter => "org_slug_invalid_character",
        }
    }
}

impl OrgSlug {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 40;
    /// The same rule as [`OrgSlug::parse`], for documents (OpenAPI) that describe it.
    pub const PATTERN: &'static str = "^[a-z0-9-]{3,40}$";

    /// # Errors
    /// [`OrgSlugError`] naming the rule the input breaks.
    pub fn parse(raw: &str) -> Result<Self, OrgSlugError> {
        if !raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(OrgSlugError::InvalidCharacter);
        }
        if raw.len() < Self::MIN_LEN {
            return Err(OrgSlugError::TooShort { min: Self::MIN_LEN });
        }
        if raw.len() > Self::MAX_LEN {
            return Err(OrgSlugError::TooLong { max: Self::MAX_LEN });
        }
        Ok(Self(raw.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A member's role. Owners may do everything (delete the organization, make owners); admins manage
/// members and admins, invitations and the name; members read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrgRole {
    Owner,
    Admin,
    Member,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown role {0:?}")]
pub struct UnknownOrgRole(pub String);

impl RuleViolation for UnknownOrgRole {
    fn code(&self) -> &'static str {
        "org_role_unknown"
    }
}

impl OrgRole {
    pub const ALL: [Self; 3] = [Self::Owner, Self::Admin, Self::Member];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// Owners and admins: those who manage the organization.
    #[must_use]
    pub const fn manages(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgRole {
    type Err = UnknownOrgRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownOrgRole(s.to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub name: OrgName,
    pub slug: OrgSlug,
    pub created_at: DateTime<Utc>,
}

/// One user's place in one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: OrgRole,
    pub joined_at: DateTime<Utc>,
}

/// An invitation to join `org_id` as `role`, for whoever proves they own `email`. Its token is
/// made when its mail is sent and stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub email: Email,
    pub role: OrgRole,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// Not yet accepted and not expired.
    #[must_use]
    pub fn is_pending(&self, now: DateTime<Utc>) -> bool {
        self.accepted_at.is_none() && now < self.expires_at
    }
}

/// What a member wants to do to the organization itself (not to another member).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgAction {
    /// Read the organization, its members; mint an organization token.
    View,
    /// Change the name.
    Rename,
    /// Delete the organization with its memberships and invitations.
    Delete,
    /// Invite, list and revoke invitations.
    ManageInvitations,
    /// Read the organization's audit events.
    ReadAudit,
}

/// Whether a member with `role` may do `action`.
#[must_use]
pub const fn org_allows(role: OrgRole, action: OrgAction) -> bool {
    match action {
        OrgAction::View => true,
        OrgAction::Rename | OrgAction::ManageInvitations | OrgAction::ReadAudit => role.manages(),
        OrgAction::Delete => matches!(role, OrgRole::Owner),
    }
}

/// Why an organization refused a change to a membership. The adapter answers these from inside
/// the change's transaction, with the rows it locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum OrgRefusal {
    /// The caller is not a member (or the organization does not exist: the same answer).
    #[error("organization not found")]
    NotMember,
    /// The target user is not a member of the organization.
    #[error("member not found")]
    TargetNotMember,
    /// The caller's role does not allow the change.
    #[error("insufficient role")]
    Forbidden,
    /// The change would leave the organization without an owner.
    #[error("the last owner cannot be demoted or removed")]
    LastOwner,
}

/// Whether `actor` may set `target`'s role (currently `current`) to `new`: an owner any role of
/// anyone (themself included); an admin only between `member` and `admin`, never touching an
/// owner; a member nothing.
#[must_use]
pub const fn may_change_role(actor: OrgRole, current: OrgRole, new: OrgRole) -> bool {
    match actor {
        OrgRole::Owner => true,
        OrgRole::Admin => !matches!(current, OrgRole::Owner) && !matches!(new, OrgRole::Owner),
        OrgRole::Member => false,
    }
}

/// Whether `actor` may remove `target`: anyone may leave (remove themself); an owner may remove
/// anyone; an admin anyone but an owner; a member nobody else.
#[must_use]
pub const fn may_remove(actor: OrgRole, is_self: bool, target: OrgRole) -> bool {
    if is_self {
        return true;
    }
    match actor {
        OrgRole::Owner => true,
        OrgRole::Admin => !matches!(target, OrgRole::Owner),
        OrgRole::Member => false,
    }
}

/// Whether `actor` may invite someone as `role`: owners any role, admins `member` or `admin`.
#[must_use]
pub const fn may_invite(actor: OrgRole, role: OrgRole) -> bool {
    match actor {
        OrgRole::Owner => true,
        OrgRole::Admin => !matches!(role, OrgRole::Owner),
        OrgRole::Member => false,
    }
}

/// The last-owner rule: a change that turns the only owner into a non-owner (a demotion, or
/// removal when `after` is `None`) is refused. `owners` counts the target too when it is one.
///
/// # Errors
/// [`OrgRefusal::LastOwner`].
pub const fn ensure_an_owner_remains(before: OrgRole, after: Option<OrgRole>, owners: u64) -> Result<(), OrgRefusal> {
    let loses_owner = matches!(before, OrgRole::Owner) && !matches!(after, Some(OrgRole::Owner));
    if loses_owner && owners <= 1 { Err(OrgRefusal::LastOwner) } else { Ok(()) }
}

/// The whole decision on a role change, as the adapter takes it inside its transaction: the
/// actor's and the target's current roles (`None`: not a member), and how many owners there are.
///
/// # Errors
/// The [`OrgRefusal`] that applies, in this order: the actor is no member, the target is none,
/// the actor's role does not allow it, the last owner would go.
pub fn decide_role_change(
    actor: Option<OrgRole>,
    target: Option<OrgRole>,
    new: OrgRole,
    owners: u64,
) -> Result<(), OrgRefusal> {
    let actor = actor.ok_or(OrgRefusal::NotMember)?;
    if !actor.manages() {
        return Err(OrgRefusal::Forbidden);
    }
    let current = target.ok_or(OrgRefusal::TargetNotMember)?;
    if !may_change_role(actor, current, new) {
        return Err(OrgRefusal::Forbidden);
    }
    ensure_an_owner_remains(current, Some(new), owners)
}

/// The whole decision on a removal (or, with `is_self`, leaving).
///
/// # Errors
/// As [`decide_role_change`].
pub fn decide_removal(
    actor: Option<OrgRole>,
    is_self: bool,
    target: Option<OrgRole>,
    owners: u64,
) -> Result<(), OrgRefusal> {
    let actor = actor.ok_or(OrgRefusal::NotMember)?;
    if !is_self && !actor.manages() {
        return Err(OrgRefusal::Forbidden);
    }
    let current = target.ok_or(OrgRefusal::TargetNotMember)?;
    if !may_remove(actor, is_self, current) {
        return Err(OrgRefusal::Forbidden);
    }
    ensure_an_owner_remains(current, None, owners)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrgRole::{Admin, Member, Owner};

    #[test]
    fn slugs_are_lower_case_letters_digits_and_dashes_within_bounds() {
        assert_eq!(OrgSlug::parse("acme-42").map(|s| s.as_str().to_owned()), Ok("acme-42".to_owned()));
        assert!(OrgSlug::parse("abc").is_ok() && OrgSlug::parse(&"a".repeat(40)).is_ok());
        assert_eq!(OrgSlug::parse("ab"), Err(OrgSlugError::TooShort { min: 3 }));
        assert_eq!(OrgSlug::parse(&"a".repeat(41)), Err(OrgSlugError::TooLong { max: 40 }));
        for bad in ["Acme", "ac me", "acme_co", "äcme", "a.b.c", ""] {
            assert!(OrgSlug::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(OrgName::parse("  Acme  ").map(|n| n.as_str().to_owned()), Ok("Acme".to_owned()));
        assert_eq!(OrgName::parse(" "), Err(OrgNameError::Empty));
        assert_eq!(OrgName::parse(&"x".repeat(101)), Err(OrgNameError::TooLong { max: 100 }));
        assert!(OrgName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(OrgName::parse("a\tb"), Err(OrgNameError::Control));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in OrgRole::ALL {
            assert_eq!(role.as_str().parse::<OrgRole>(), Ok(role));
        }
        assert!("Owner".parse::<OrgRole>().is_err());
    }

    #[test]
    fn members_view_admins_manage_and_only_owners_delete() {
        for role in OrgRole::ALL {
            assert!(org_allows(role, OrgAction::View));
        }
        for action in [OrgAction::Rename, OrgAction::ManageInvitations, OrgAction::ReadAudit] {
            assert!(org_allows(Owner, action) && org_allows(Admin, action) && !org_allows(Member, action));
        }
        assert!(org_allows(Owner, OrgAction::Delete));
        assert!(!org_allows(Admin, OrgAction::Delete) && !org_allows(Member, OrgAction::Delete));
    }

    #[test]
    fn an_owner_may_set_any_role_of_anyone() {
        for current in OrgRole::ALL {
            for new in OrgRole::ALL {
                assert!(may_change_role(Owner, current, new), "{current} -> {new}");
            }
        }
    }

    #[test]
    fn an_admin_moves_people_between_member_and_admin_only() {
        assert!(may_change_role(Admin, Member, Admin));
        assert!(may_change_role(Admin, Admin, Member));
        assert!(may_change_role(Admin, Member, Member));
        assert!(!may_change_role(Admin, Member, Owner), "no admin makes owners");
        assert!(!may_change_role(Admin, Owner, Admin), "no admin demotes an owner");
        assert!(!may_change_role(Admin, Owner, Member));
        for current in OrgRole::ALL {
            for new in OrgRole::ALL {
                assert!(!may_change_role(Member, current, new));
            }
        }
    }

    #[test]
    fn removal_anyone_may_leave_owners_remove_anyone_admins_anyone_but_owners() {
        for role in OrgRole::ALL {
            assert!(may_remove(role, true, role), "{role} may leave");
            assert!(may_remove(Owner, false, role));
        }
        assert!(may_remove(Admin, false, Member) && may_remove(Admin, false, Admin));
        assert!(!may_remove(Admin, false, Owner));
        assert!(!may_remove(Member, false, Member) && !may_remove(Member, false, Admin));
    }

    #[test]
    fn inviting_as_owner_needs_an_owner() {
        assert!(may_invite(Owner, Owner) && may_invite(Owner, Admin) && may_invite(Owner, Member));
        assert!(!may_invite(Admin, Owner) && may_invite(Admin, Admin) && may_invite(Admin, Member));
        for role in OrgRole::ALL {
            assert!(!may_invite(Member, role));
        }
    }

    #[test]
    fn the_last_owner_can_be_neither_demoted_nor_removed() {
        assert_eq!(ensure_an_owner_remains(Owner, Some(Admin), 1), Err(OrgRefusal::LastOwner));
        assert_eq!(ensure_an_owner_remains(Owner, None, 1), Err(OrgRefusal::LastOwner));
        assert_eq!(ensure_an_owner_remains(Owner, Some(Owner), 1), Ok(()), "owner to owner is no loss");
        assert_eq!(ensure_an_owner_remains(Owner, None, 2), Ok(()));
        assert_eq!(ensure_an_owner_remains(Admin, None, 0), Ok(()), "non-owners never count");
    }

    #[test]
    fn decisions_refuse_in_a_fixed_order() {
        assert_eq!(decide_role_change(None, Some(Member), Admin, 1), Err(OrgRefusal::NotMember));
        assert_eq!(decide_role_change(Some(Member), None, Admin, 1), Err(OrgRefusal::Forbidden));
        assert_eq!(decide_role_change(Some(Admin), None, Admin, 1), Err(OrgRefusal::TargetNotMember));
        assert_eq!(decide_role_change(Some(Admin), Some(Owner), Member, 2), Err(OrgRefusal::Forbidden));
        assert_eq!(decide_role_change(Some(Owner), Some(Owner), Admin, 1), Err(OrgRefusal::LastOwner));
        assert_eq!(decide_role_change(Some(Owner), Some(Owner), Admin, 2), Ok(()));
        assert_eq!(decide_removal(None, true, Some(Member), 1), Err(OrgRefusal::NotMember));
        assert_eq!(decide_removal(Some(Member), false, Some(Member), 1), Err(OrgRefusal::Forbidden));
        assert_eq!(decide_removal(Some(Member), true, Some(Member), 1), Ok(()), "a member may leave");
        assert_eq!(decide_removal(Some(Owner), true, Some(Owner), 1), Err(OrgRefusal::LastOwner));
        assert_eq!(decide_removal(Some(Admin), false, Some(Owner), 2), Err(OrgRefusal::Forbidden));
        assert_eq!(decide_removal(Some(Admin), false, None, 2), Err(OrgRefusal::TargetNotMember));
    }

    #[test]
    fn two_owners_demoting_each_other_one_after_the_other_leave_one_owner() {
        // Serialised as the adapter serialises them: the second decision sees the first's result.
        let mut roles = [Owner, Owner];
        let owners = |roles: &[OrgRole; 2]| roles.iter().filter(|r| **r == Owner).count() as u64;
        if decide_role_change(Some(roles[0]), Some(roles[1]), Admin, owners(&roles)).is_ok() {
            roles[1] = Admin;
        }
        let second = decide_role_change(Some(roles[1]), Some(roles[0]), Admin, owners(&roles));
        assert_eq!(second, Err(OrgRefusal::Forbidden), "the demoted owner is an admin now");
        assert_eq!(owners(&roles), 1);
    }
}
