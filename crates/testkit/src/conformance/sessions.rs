//! [`SessionRepository`](hexgate_ports::SessionRepository): refresh rotation and reuse detection,
//! rotation that is atomic under concurrent refreshes of one token, expiry, and revocation by the
//! owner only.

use chrono::Duration;
use hexgate_domain::SessionId;
use hexgate_ports::RefreshOutcome;

use super::support::{hash, now, race, session, stored_user};
use crate::Storage;

pub async fn refresh_rotates_and_a_replayed_token_revokes_its_family(s: Storage) {
    let u = stored_user(&s, "sessy").await;
    let t0 = now();
    let family = session(u.id, t0);
    s.sessions.create(&family, &hash("t1")).await.expect("create");
    let principal = s.sessions.principal(u.id, family.id, t0).await.expect("principal");
    assert_eq!(principal.map(|p| p.id), Some(u.id), "a live session yields its user");

    let (grace, later) = (Duration::zero(), t0 + Duration::days(30));
    let issued = RefreshOutcome::Issued { user_id: u.id, session_id: family.id };
    assert_eq!(s.sessions.refresh(&hash("t1"), &hash("t2"), t0, grace, later).await.expect("refresh"), issued);
    let t1 = t0 + Duration::seconds(1);
    assert_eq!(
        s.sessions.refresh(&hash("t1"), &hash("t3"), t1, grace, later).await.expect("refresh"),
        RefreshOutcome::ReuseDetected { user_id: u.id, session_id: family.id },
        "a spent token presented again past the grace is reuse"
    );
    assert_eq!(
        s.sessions.refresh(&hash("t2"), &hash("t4"), t1, grace, later).await.expect("refresh"),
        RefreshOutcome::Invalid,
        "the family is dead: its newest token too"
    );
    assert_eq!(s.sessions.principal(u.id, family.id, t1).await.expect("principal"), None, "and its access tokens");
    assert_eq!(
        s.sessions.refresh(&hash("nope"), &hash("t5"), t1, grace, later).await.expect("refresh"),
        RefreshOutcome::Invalid,
        "an unknown token is invalid, not an error"
    );
}

pub async fn concurrent_refreshes_of_one_token_rotate_it_once(s: Storage) {
    let u = stored_user(&s, "racer").await;
    let t0 = now();
    let family = session(u.id, t0);
    s.sessions.create(&family, &hash("p1")).await.expect("create");
    // A negative grace reissues nothing, not even at the same instant: every refresh after the
    // first that rotates the token is reuse, so a store that let two rotate would issue twice.
    let (grace, later) = (Duration::seconds(-1), t0 + Duration::days(30));
    let outcomes =
        race(4, |i| {
            let sessions = s.sessions.clone();
            async move {
                sessions.refresh(&hash("p1"), &hash(&format!("next{i}")), t0, grace, later).await.expect("refresh")
            }
        })
        .await;
    let issued = outcomes.iter().filter(|o| matches!(o, RefreshOutcome::Issued { .. })).count();
    assert_eq!(issued, 1, "exactly one refresh rotates the token: {outcomes:?}");
    assert!(
        outcomes.iter().any(|o| matches!(o, RefreshOutcome::ReuseDetected { .. })),
        "a losing refresh is reuse: {outcomes:?}"
    );
    assert_eq!(s.sessions.principal(u.id, family.id, t0).await.expect("principal"), None, "the family is revoked");
}

pub async fn concurrent_refreshes_within_grace_stay_in_one_family(s: Storage) {
    let u = stored_user(&s, "tabby").await;
    let t0 = now();
    let family = session(u.id, t0);
    s.sessions.create(&family, &hash("p1")).await.expect("create");
    let (grace, later) = (Duration::seconds(10), t0 + Duration::days(30));
    let outcomes = race(2, |i| {
        let sessions = s.sessions.clone();
        async move { sessions.refresh(&hash("p1"), &hash(&format!("tab{i}")), t0, grace, later).await.expect("refresh") }
    })
    .await;
    let issued = RefreshOutcome::Issued { user_id: u.id, session_id: family.id };
    assert_eq!(outcomes, vec![issued, issued], "two tabs refreshing at once both get a pair");
    assert_eq!(s.sessions.list_live(u.id, t0).await.expect("list").len(), 1, "of one family");
    for i in 0..2 {
        let found = s.sessions.find_by_token(u.id, &hash(&format!("tab{i}"))).await.expect("find");
        assert_eq!(found, Some(family.id));
    }
}

pub async fn expired_tokens_and_sessions_are_dead(s: Storage) {
    let u = stored_user(&s, "expiry").await;
    let t0 = now();
    let mut short = session(u.id, t0);
    short.expires_at = t0 + Duration::hours(1);
    s.sessions.create(&short, &hash("e1")).await.expect("create");
    let after = t0 + Duration::hours(2);
    let (presented, successor) = (hash("e1"), hash("e2"));
    let outcome =
        s.sessions.refresh(&presented, &successor, after, Duration::seconds(10), after + Duration::days(1)).await;
    assert_eq!(outcome.expect("refresh"), RefreshOutcome::Invalid, "an expired token");
    assert_eq!(s.sessions.principal(u.id, short.id, after).await.expect("principal"), None, "an expired session");
    assert!(s.sessions.list_live(u.id, after).await.expect("list").is_empty(), "is not live");
    assert!(!s.sessions.revoke(u.id, short.id, after).await.expect("revoke"), "and cannot be revoked");
    let outcome = s.sessions.principal(u.id, short.id, t0 + Duration::minutes(59)).await.expect("principal");
    assert_eq!(outcome.map(|p| p.id), Some(u.id), "before its end it was live");
}

pub async fn sessions_are_revoked_only_by_their_owner_and_listed_newest_first(s: Storage) {
    let (u, v) = (stored_user(&s, "owner").await, stored_user(&s, "thief").await);
    let t0 = now();
    let (s1, s2, s3) =
        (session(u.id, t0), session(u.id, t0 + Duration::seconds(1)), session(u.id, t0 + Duration::seconds(2)));
    for (family, token) in [(&s1, "s1"), (&s2, "s2"), (&s3, "s3")] {
        s.sessions.create(family, &hash(token)).await.expect("create");
    }
    let at = t0 + Duration::seconds(3);
    let live = |list: Vec<hexgate_domain::session::Session>| list.into_iter().map(|s| s.id).collect::<Vec<SessionId>>();
    assert_eq!(live(s.sessions.list_live(u.id, at).await.expect("list")), vec![s3.id, s2.id, s1.id], "newest first");
    assert_eq!(s.sessions.principal(v.id, s1.id, at).await.expect("principal"), None, "not another user's session");
    assert!(!s.sessions.revoke(v.id, s1.id, at).await.expect("revoke"), "another user cannot revoke it");
    assert_eq!(s.sessions.find_by_token(v.id, &hash("s1")).await.expect("find"), None, "nor find it");
    assert_eq!(s.sessions.find_by_token(u.id, &hash("s1")).await.expect("find"), Some(s1.id));

    assert!(s.sessions.revoke(u.id, s3.id, at).await.expect("revoke"), "the owner can");
    assert!(!s.sessions.revoke(u.id, s3.id, at).await.expect("revoke"), "once");
    assert_eq!(s.sessions.principal(u.id, s3.id, at).await.expect("principal"), None, "its access tokens die");
    assert_eq!(s.sessions.revoke_all(u.id, Some(s1.id), at).await.expect("revoke all"), 1, "all but s1: s2");
    assert_eq!(live(s.sessions.list_live(u.id, at).await.expect("list")), vec![s1.id]);
    assert_eq!(s.sessions.revoke_all(u.id, None, at).await.expect("revoke all"), 1);
    assert!(s.sessions.list_live(u.id, at).await.expect("list").is_empty());
}
