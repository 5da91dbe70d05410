//! [`AuditLog`](hexgate_ports::AuditLog): events written with the change they record (and none
//! when the change is refused), newest-first keyset pages that neither repeat nor skip while
//! events are added, filters, and retention.

use chrono::Duration;
use hexgate_domain::audit::AuditEventType;
use hexgate_domain::{PermissionSet, UserId, UserUpdate};
use hexgate_ports::{AuditEvent, AuditFilter, AuditPosition, AuditStamp, PortError, RequestContext};
use serde_json::json;

use super::support::{admin_set, now, stored_user, user};
use crate::Storage;

fn context() -> RequestContext {
    RequestContext {
        request_id: Some("req-1".into()),
        ip: Some("192.0.2.1".into()),
        user_agent: Some("conformance".into()),
    }
}

fn event(
    at: chrono::DateTime<chrono::Utc>,
    t: AuditEventType,
    actor: Option<UserId>,
    subject: Option<UserId>,
) -> AuditEvent {
    AuditStamp::new(at, actor, &context()).event(t, subject, json!({"n": 1}))
}

async fn all(s: &Storage, filter: &AuditFilter) -> Vec<AuditEvent> {
    s.audit.list(filter, None, 1000).await.expect("list")
}

pub async fn events_round_trip_newest_first_and_filter(s: Storage) {
    let (a, b) = (UserId::new(), UserId::new());
    let t0 = now() - Duration::minutes(10);
    let written = [
        event(t0, AuditEventType::LoginFailed, None, Some(a)),
        event(t0 + Duration::minutes(1), AuditEventType::LoginSucceeded, Some(a), Some(a)),
        event(t0 + Duration::minutes(2), AuditEventType::PermissionsChanged, Some(b), Some(a)),
        event(t0 + Duration::minutes(3), AuditEventType::Logout, Some(b), Some(b)),
    ];
    for e in &written {
        s.audit.append(e).await.expect("append");
    }
    let listed = all(&s, &AuditFilter::default()).await;
    let mut newest_first = written.to_vec();
    newest_first.reverse();
    assert_eq!(listed, newest_first, "every field reads back, newest first");
    assert_eq!(all(&s, &AuditFilter { subject_id: Some(a), ..Default::default() }).await.len(), 3);
    assert_eq!(all(&s, &AuditFilter { actor_id: Some(b), ..Default::default() }).await.len(), 2);
    let logouts = AuditFilter { event_type: Some(AuditEventType::Logout), ..Default::default() };
    assert_eq!(all(&s, &logouts).await.len(), 1);
    let window = AuditFilter {
        since: Some(t0 + Duration::minutes(1)),
        until: Some(t0 + Duration::minutes(3)),
        ..Default::default()
    };
    let got = all(&s, &window).await;
    assert_eq!(got.len(), 2, "since is inclusive, until exclusive");
    assert_eq!(got[0].event_type, AuditEventType::PermissionsChanged);
}

pub async fn pages_neither_repeat_nor_skip_while_events_are_added(s: Storage) {
    let t0 = now() - Duration::minutes(5);
    // Ties on `at` are broken by id.
    let mut before = Vec::new();
    for i in 0..25 {
        let e = event(t0 + Duration::seconds(i / 3), AuditEventType::LoginFailed, None, None);
        s.audit.append(&e).await.expect("append");
        before.push(e.id);
    }
    let mut seen = Vec::new();
    let mut after: Option<AuditPosition> = None;
    let mut added = 0;
    loop {
        let page = s.audit.list(&AuditFilter::default(), after, 4).await.expect("page");
        // Newer events arrive between pages.
        s.audit.append(&event(now(), AuditEventType::LoginFailed, None, None)).await.expect("append");
        added += 1;
        let Some(last) = page.last() else { break };
        after = Some(last.into());
        seen.extend(page.iter().map(|e| e.id));
    }
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    let mut expected = before.clone();
    expected.sort_unstable();
    assert_eq!(unique, expected, "every earlier event once, none of the {added} added meanwhile");
}

pub async fn a_refused_change_records_nothing_and_an_applied_one_its_events(s: Storage) {
    let admin = user("auditadmin", admin_set());
    let stamp = AuditStamp::new(now(), Some(admin.id), &context());
    let created = stamp.event(AuditEventType::UserCreated, Some(admin.id), json!({}));
    s.users.insert_audited(&admin, &[], std::slice::from_ref(&created), now()).await.expect("insert");
    let other = stored_user(&s, "auditother").await;
    // The last admin cannot be demoted: no permissions_changed.
    let demote = UserUpdate { permissions: Some(PermissionSet::EMPTY), ..Default::default() };
    let refused = s.users.update_audited(admin.id, &demote, now(), Some(&stamp)).await;
    assert!(matches!(refused, Err(PortError::Rule(_))), "{refused:?}");
    // A taken e-mail: no user_updated.
    let clash = UserUpdate { email: Some(admin.email.clone()), ..Default::default() };
    assert!(s.users.update_audited(other.id, &clash, now(), Some(&stamp)).await.is_err());
    // Deleting the last admin: no user_deleted.
    let gone = stamp.event(AuditEventType::UserDeleted, Some(admin.id), json!({}));
    assert!(s.users.delete_audited(admin.id, std::slice::from_ref(&gone)).await.is_err());
    assert_eq!(all(&s, &AuditFilter::default()).await, vec![created.clone()], "only the applied change's event");
    // An applied change records exactly what changed.
    let grant = UserUpdate {
        permissions: Some(admin_set()),
        full_name: Some(hexgate_domain::FullName::parse("New").expect("name")),
        ..Default::default()
    };
    s.users.update_audited(other.id, &grant, now(), Some(&stamp)).await.expect("update");
    let events = all(&s, &AuditFilter { subject_id: Some(other.id), ..Default::default() }).await;
    let mut types: Vec<AuditEventType> = events.iter().map(|e| e.event_type).collect();
    types.sort();
    assert_eq!(types, vec![AuditEventType::UserUpdated, AuditEventType::PermissionsChanged]);
    let perms = events.iter().find(|e| e.event_type == AuditEventType::PermissionsChanged).expect("event");
    assert_eq!(perms.details, json!({"before": [], "after": ["admin"]}));
    let updated = events.iter().find(|e| e.event_type == AuditEventType::UserUpdated).expect("event");
    assert_eq!(updated.details, json!({"fields": ["full_name"]}));
    // A session revoked writes its event; one that is not live writes none.
    let session = super::support::session(other.id, now());
    let login = stamp.event(AuditEventType::LoginSucceeded, Some(other.id), json!({"method": "password"}));
    s.sessions
        .create_audited(&session, &super::support::hash("a1"), std::slice::from_ref(&login))
        .await
        .expect("login");
    let revoke = stamp.event(AuditEventType::SessionRevoked, Some(other.id), json!({}));
    assert!(
        s.sessions.revoke_audited(other.id, session.id, now(), std::slice::from_ref(&revoke)).await.expect("revoke")
    );
    assert!(
        !s.sessions.revoke_audited(other.id, session.id, now(), std::slice::from_ref(&revoke)).await.expect("again")
    );
    let sessions =
        all(&s, &AuditFilter { event_type: Some(AuditEventType::SessionRevoked), ..Default::default() }).await;
    assert_eq!(sessions.len(), 1, "one revocation, one event");
}

pub async fn events_outlive_their_user_and_retention_prunes_only_old_ones(s: Storage) {
    let u = stored_user(&s, "auditgone").await;
    let old = event(now() - Duration::days(400), AuditEventType::LoginSucceeded, Some(u.id), Some(u.id));
    let recent = event(now() - Duration::days(1), AuditEventType::Logout, Some(u.id), Some(u.id));
    s.audit.append(&old).await.expect("append");
    s.audit.append(&recent).await.expect("append");
    s.users.delete(u.id).await.expect("delete");
    assert_eq!(all(&s, &AuditFilter::default()).await.len(), 2, "no cascade from users");
    assert_eq!(s.audit.prune(now() - Duration::days(365)).await.expect("prune"), 1);
    assert_eq!(all(&s, &AuditFilter::default()).await, vec![recent]);
}
