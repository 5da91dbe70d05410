//! [`OrganizationRepository`](hexgate_ports::OrganizationRepository): unique slugs, one membership
//! read that is `None` alike for a non-member and an unknown organization, membership changes
//! decided with the last-owner rule inside their transaction (so racing owners leave one owner),
//! invitations spent once even when accepted concurrently, and the cascades of the schema.

use chrono::Duration;
use hexgate_domain::audit::AuditEventType;
use hexgate_domain::org::{
    INVITATION_TTL, Invitation, InvitationId, OrgId, OrgName, OrgRefusal, OrgRole, OrgSlug, Organization,
};
use hexgate_domain::{User, UserId};
use hexgate_ports::{AuditFilter, AuditStamp, Conflict, NewJob, PortError, RequestContext};

use super::support::{hash, now, race, stored_user};
use crate::Storage;

fn org(slug: &str) -> Organization {
    Organization {
        id: OrgId::new(),
        name: OrgName::parse(&format!("Org {slug}")).expect("name"),
        slug: OrgSlug::parse(slug).expect("slug"),
        created_at: now(),
    }
}

fn stamp(actor: UserId) -> AuditStamp {
    AuditStamp::new(now(), Some(actor), &RequestContext::default())
}

fn invitation(org: OrgId, to: &User, role: OrgRole, by: UserId) -> Invitation {
    let at = now();
    Invitation {
        id: InvitationId::new(),
        org_id: org,
        email: to.email.clone(),
        role,
        invited_by: by,
        created_at: at,
        expires_at: at + INVITATION_TTL,
        accepted_at: None,
    }
}

fn job(id: InvitationId) -> NewJob {
    NewJob { kind: "org_invitation_mail".into(), payload: id.to_string(), max_attempts: 5 }
}

/// Makes `user` a member of `org` with `role` through an accepted invitation.
async fn add_member(s: &Storage, org: OrgId, user: &User, role: OrgRole, by: UserId, token: &str) {
    let inv = invitation(org, user, role, by);
    s.orgs.create_invitation(&inv, &job(inv.id), now(), &[]).await.expect("invite");
    assert!(s.orgs.set_invitation_token(inv.id, &hash(token), now()).await.expect("token"));
    s.orgs.accept_invitation(inv.id, &hash(token), user.id, now(), &[]).await.expect("accept").expect("pending");
}

fn refusal(outcome: &Result<impl std::fmt::Debug, PortError>) -> Option<OrgRefusal> {
    match outcome {
        Err(PortError::Org(r)) => Some(*r),
        _ => None,
    }
}

pub async fn organizations_round_trip_with_unique_slugs_and_their_creator_as_owner(s: Storage) {
    let ada = stored_user(&s, "orgada").await;
    let bob = stored_user(&s, "orgbob").await;
    let acme = org("acme");
    let created = stamp(ada.id).org_event(AuditEventType::OrgCreated, acme.id, Some(ada.id), serde_json::json!({}));
    s.orgs.create(&acme, ada.id, std::slice::from_ref(&created)).await.expect("create");
    let taken = Organization { id: OrgId::new(), ..org("acme") };
    assert!(matches!(s.orgs.create(&taken, bob.id, &[]).await, Err(PortError::Conflict(Conflict::OrgSlugTaken))));
    assert_eq!(s.orgs.membership(acme.id, ada.id).await.expect("read"), Some((acme.clone(), OrgRole::Owner)));
    assert_eq!(s.orgs.membership(acme.id, bob.id).await.expect("read"), None, "a non-member");
    assert_eq!(s.orgs.membership(OrgId::new(), ada.id).await.expect("read"), None, "an unknown organization");
    assert_eq!(s.orgs.list_for_user(ada.id).await.expect("list"), vec![(acme.clone(), OrgRole::Owner)]);
    assert!(s.orgs.list_for_user(bob.id).await.expect("list").is_empty());
    let renamed = s.orgs.rename(acme.id, &OrgName::parse("Acme 2").expect("name"), &[]).await.expect("rename");
    assert_eq!((renamed.name.as_str(), renamed.slug.as_str()), ("Acme 2", "acme"));
    let members = s.orgs.members(acme.id).await.expect("members");
    assert_eq!(members.len(), 1);
    assert_eq!((members[0].user_id, members[0].role, &members[0].username), (ada.id, OrgRole::Owner, &ada.username));
    let filter = AuditFilter { org_id: Some(acme.id.as_uuid()), ..Default::default() };
    let events = s.audit.list(&filter, None, 10).await.expect("events");
    assert_eq!(events, vec![created], "written with the organization");
}

pub async fn membership_changes_follow_the_roles_and_the_last_owner_rule(s: Storage) {
    let (ada, bob, cat) =
        (stored_user(&s, "ruleada").await, stored_user(&s, "rulebob").await, stored_user(&s, "rulecat").await);
    let o = org("rules");
    s.orgs.create(&o, ada.id, &[]).await.expect("create");
    add_member(&s, o.id, &bob, OrgRole::Admin, ada.id, "t-bob").await;
    add_member(&s, o.id, &cat, OrgRole::Member, ada.id, "t-cat").await;
    let nobody = stored_user(&s, "rulenobody").await;
    let outcome = s.orgs.change_role(o.id, nobody.id, cat.id, OrgRole::Admin, &stamp(nobody.id)).await;
    assert_eq!(refusal(&outcome), Some(OrgRefusal::NotMember));
    let outcome = s.orgs.change_role(OrgId::new(), ada.id, cat.id, OrgRole::Admin, &stamp(ada.id)).await;
    assert_eq!(refusal(&outcome), Some(OrgRefusal::NotMember), "an unknown organization");
    let outcome = s.orgs.change_role(o.id, bob.id, ada.id, OrgRole::Member, &stamp(bob.id)).await;
    assert_eq!(refusal(&outcome), Some(OrgRefusal::Forbidden), "an admin never demotes an owner");
    let outcome = s.orgs.change_role(o.id, ada.id, nobody.id, OrgRole::Admin, &stamp(ada.id)).await;
    assert_eq!(refusal(&outcome), Some(OrgRefusal::TargetNotMember));
    let outcome = s.orgs.change_role(o.id, ada.id, ada.id, OrgRole::Admin, &stamp(ada.id)).await;
    assert_eq!(refusal(&outcome), Some(OrgRefusal::LastOwner));
    let outcome = s.orgs.remove_member(o.id, ada.id, ada.id, &stamp(ada.id)).await;
    assert_eq!(refusal(&outcome), Some(OrgRefusal::LastOwner), "the last owner cannot leave");
    let changed = s.orgs.change_role(o.id, bob.id, cat.id, OrgRole::Admin, &stamp(bob.id)).await.expect("change");
    assert_eq!((changed.user_id, changed.role), (cat.id, OrgRole::Admin));
    s.orgs.remove_member(o.id, cat.id, cat.id, &stamp(cat.id)).await.expect("leave");
    assert_eq!(s.orgs.membership(o.id, cat.id).await.expect("read"), None);
    let filter = AuditFilter { org_id: Some(o.id.as_uuid()), ..Default::default() };
    let events = s.audit.list(&filter, None, 10).await.expect("events");
    let types: Vec<AuditEventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        vec![AuditEventType::OrgMemberRemoved, AuditEventType::OrgRoleChanged],
        "refusals record nothing"
    );
}

pub async fn two_owners_demoting_each_other_at_once_leave_one_owner(s: Storage) {
    let (ada, bob) = (stored_user(&s, "raceada").await, stored_user(&s, "racebob").await);
    let o = org("racers");
    s.orgs.create(&o, ada.id, &[]).await.expect("create");
    add_member(&s, o.id, &bob, OrgRole::Owner, ada.id, "t-race").await;
    for round in 0..10 {
        let pairs = [(ada.id, bob.id), (bob.id, ada.id)];
        let outcomes = race(2, |i| {
            let orgs = s.orgs.clone();
            let (actor, target) = pairs[i];
            async move { orgs.change_role(o.id, actor, target, OrgRole::Admin, &stamp(actor)).await }
        })
        .await;
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "round {round}: one wins: {outcomes:?}");
        let members = s.orgs.members(o.id).await.expect("members");
        let owners: Vec<UserId> = members.iter().filter(|m| m.role == OrgRole::Owner).map(|m| m.user_id).collect();
        assert_eq!(owners.len(), 1, "round {round}: one owner left");
        let loser = if owners[0] == ada.id { bob.id } else { ada.id };
        s.orgs.change_role(o.id, owners[0], loser, OrgRole::Owner, &stamp(owners[0])).await.expect("restore");
    }
    let outcomes = race(2, |i| {
        let orgs = s.orgs.clone();
        let who = [ada.id, bob.id][i];
        async move { orgs.remove_member(o.id, who, who, &stamp(who)).await }
    })
    .await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "one leaves: {outcomes:?}");
    assert!(outcomes.iter().any(|o| refusal(o) == Some(OrgRefusal::LastOwner)), "{outcomes:?}");
}

pub async fn an_invitation_is_spent_once_even_when_accepted_concurrently(s: Storage) {
    let (ada, grace) = (stored_user(&s, "invada").await, stored_user(&s, "invgrace").await);
    let o = org("inviters");
    s.orgs.create(&o, ada.id, &[]).await.expect("create");
    let inv = invitation(o.id, &grace, OrgRole::Member, ada.id);
    s.orgs.create_invitation(&inv, &job(inv.id), now(), &[]).await.expect("invite");
    assert_eq!(s.orgs.find_invitation_by_token(&hash("tok")).await.expect("find"), None, "no token before the mail");
    assert_eq!(s.orgs.pending_invitations(o.id, now()).await.expect("pending"), vec![inv.clone()]);
    assert_eq!(s.orgs.invitation(inv.id).await.expect("read"), Some((inv.clone(), o.clone())));
    assert!(s.orgs.set_invitation_token(inv.id, &hash("tok"), now()).await.expect("token"));
    assert_eq!(s.orgs.find_invitation_by_token(&hash("tok")).await.expect("find"), Some(inv.clone()));
    let at = now();
    let outcomes = race(4, |_| {
        let orgs = s.orgs.clone();
        async move { orgs.accept_invitation(inv.id, &hash("tok"), grace.id, at, &[]).await }
    })
    .await;
    let made: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok().and_then(Option::as_ref)).collect();
    assert_eq!(made.len(), 1, "one membership: {outcomes:?}");
    assert!(outcomes.iter().all(Result::is_ok), "the others find it spent: {outcomes:?}");
    assert_eq!((made[0].org_id, made[0].user_id, made[0].role), (o.id, grace.id, OrgRole::Member));
    assert_eq!(s.orgs.members(o.id).await.expect("members").len(), 2);
    assert!(s.orgs.pending_invitations(o.id, now()).await.expect("pending").is_empty());
    assert!(!s.orgs.set_invitation_token(inv.id, &hash("tok2"), now()).await.expect("token"), "spent");
    assert!(!s.orgs.revoke_invitation(o.id, inv.id, &[]).await.expect("revoke"), "an accepted one stays");

    // A member already: a conflict, and the invitation stays unspent.
    let again = invitation(o.id, &grace, OrgRole::Admin, ada.id);
    s.orgs.create_invitation(&again, &job(again.id), now(), &[]).await.expect("invite");
    assert!(s.orgs.set_invitation_token(again.id, &hash("tok3"), now()).await.expect("token"));
    let outcome = s.orgs.accept_invitation(again.id, &hash("tok3"), grace.id, now(), &[]).await;
    assert!(matches!(outcome, Err(PortError::Conflict(Conflict::AlreadyMember))), "{outcome:?}");
    assert_eq!(s.orgs.pending_invitations(o.id, now()).await.expect("pending").len(), 1);
    // Expired or revoked: nothing.
    let late = now() + INVITATION_TTL + Duration::seconds(1);
    assert_eq!(s.orgs.accept_invitation(again.id, &hash("tok3"), ada.id, late, &[]).await.expect("accept"), None);
    assert!(s.orgs.revoke_invitation(o.id, again.id, &[]).await.expect("revoke"));
    assert_eq!(s.orgs.find_invitation_by_token(&hash("tok3")).await.expect("find"), None);
}

pub async fn an_organization_takes_its_memberships_and_invitations_and_a_user_their_memberships(s: Storage) {
    let (ada, bob) = (stored_user(&s, "cascada").await, stored_user(&s, "cascbob").await);
    let (one, two) = (org("cascade-one"), org("cascade-two"));
    s.orgs.create(&one, ada.id, &[]).await.expect("create");
    s.orgs.create(&two, ada.id, &[]).await.expect("create");
    add_member(&s, one.id, &bob, OrgRole::Member, ada.id, "t-one").await;
    add_member(&s, two.id, &bob, OrgRole::Admin, ada.id, "t-two").await;
    let pending = invitation(one.id, &bob, OrgRole::Member, ada.id);
    s.orgs.create_invitation(&pending, &job(pending.id), now(), &[]).await.expect("invite");
    assert!(s.orgs.delete(one.id, &[]).await.expect("delete"));
    assert!(!s.orgs.delete(one.id, &[]).await.expect("delete"), "once");
    assert_eq!(s.orgs.membership(one.id, ada.id).await.expect("read"), None);
    assert_eq!(s.orgs.invitation(pending.id).await.expect("read"), None, "its invitations went with it");
    assert_eq!(s.orgs.list_for_user(bob.id).await.expect("list"), vec![(two.clone(), OrgRole::Admin)]);
    s.users.delete(bob.id).await.expect("delete user");
    assert_eq!(s.orgs.members(two.id).await.expect("members").len(), 1, "a user's memberships go with them");
}
