//! The SQL repositories against both databases they serve: a temporary SQLite file and the
//! machine's real PostgreSQL, each test in a fresh database dropped afterwards.

mod support;

use chrono::{Duration, Utc};
use hexgate_domain::session::Session;
use hexgate_domain::{
    Email, FullName, NewUser, PasswordHash, Permission, PermissionSet, SessionId, User, UserFilter, UserId, UserSort,
    UserUpdate, Username, Window,
};
use hexgate_ports::{Conflict, PortError, RefreshOutcome, SessionRepository, TokenHash, UserRepository};
use hexgate_postgres_adapter::{SqlSessionRepository, SqlUserRepository};
use support::on_both;

fn user(name: &str, permissions: PermissionSet) -> User {
    NewUser {
        email: Email::parse(&format!("{name}@example.com")).expect("email"),
        username: Username::parse(name).expect("username"),
        full_name: FullName::parse(&format!("Full {name}")).expect("name"),
        is_active: true,
        permissions,
        password_hash: PasswordHash::from_phc(format!("$argon2id$fake${name}")),
    }
    .into_user(UserId::new(), Utc::now().trunc_subsecs_micro())
}

trait Micros {
    fn trunc_subsecs_micro(self) -> Self;
}
impl Micros for chrono::DateTime<Utc> {
    fn trunc_subsecs_micro(self) -> Self {
        chrono::SubsecRound::trunc_subsecs(self, 6)
    }
}

fn admin_set() -> PermissionSet {
    PermissionSet::EMPTY.with(Permission::Admin)
}

#[tokio::test]
async fn a_user_round_trips_with_every_field() {
    on_both(|db| async move {
        let repo = SqlUserRepository::new(db);
        let u = user("roundtrip", admin_set().with(Permission::CatalogManager));
        repo.insert(&u).await.expect("insert");
        assert_eq!(repo.get(u.id).await.expect("get"), Some(u.clone()));
        assert_eq!(repo.find_by_login("roundtrip").await.expect("find"), Some(u.clone()));
        assert_eq!(repo.find_by_login("roundtrip@example.com").await.expect("find"), Some(u.clone()));
        assert_eq!(repo.get(UserId::new()).await.expect("get"), None);
    })
    .await;
}

#[tokio::test]
async fn unique_violations_say_which_rule_broke() {
    on_both(|db| async move {
        let repo = SqlUserRepository::new(db);
        let first = user("unique", PermissionSet::EMPTY);
        repo.insert(&first).await.expect("insert");
        let same_email = User { id: UserId::new(), username: Username::parse("other").expect("u"), ..first.clone() };
        assert!(matches!(repo.insert(&same_email).await, Err(PortError::Conflict(Conflict::EmailTaken))));
        let same_name = User { id: UserId::new(), email: Email::parse("o@example.com").expect("e"), ..first.clone() };
        assert!(matches!(repo.insert(&same_name).await, Err(PortError::Conflict(Conflict::UsernameTaken))));
    })
    .await;
}

#[tokio::test]
async fn insert_many_is_all_or_nothing() {
    on_both(|db| async move {
        let repo = SqlUserRepository::new(db);
        let taken = user("taken", PermissionSet::EMPTY);
        repo.insert(&taken).await.expect("insert");
        let batch = vec![user("fresh", PermissionSet::EMPTY), User { id: UserId::new(), ..taken.clone() }];
        assert!(repo.insert_many(&batch).await.is_err());
        assert_eq!(repo.find_by_login("fresh").await.expect("find"), None);
        let ok = vec![user("one", PermissionSet::EMPTY), user("two", PermissionSet::EMPTY)];
        repo.insert_many(&ok).await.expect("batch");
        let emails: Vec<Email> = ["one@example.com", "two@example.com", "nope@example.com"]
            .iter()
            .map(|e| Email::parse(e).expect("e"))
            .collect();
        assert_eq!(repo.taken_emails(&emails).await.expect("taken").len(), 2);
    })
    .await;
}

#[tokio::test]
async fn listing_filters_sorts_pages_and_escapes_wildcards() {
    on_both(|db| async move {
        let repo = SqlUserRepository::new(db);
        for name in ["carol", "alice", "bob_x", "dave"] {
            repo.insert(&user(name, PermissionSet::EMPTY)).await.expect("insert");
        }
        let mut inactive = user("erin", PermissionSet::EMPTY);
        inactive.is_active = false;
        repo.insert(&inactive).await.expect("insert");
        let by_name = UserFilter { sort: UserSort::Username, ..UserFilter::default() };
        let page = repo.list(&by_name, Window::Offset { offset: 2, limit: 2 }).await.expect("list");
        let names: Vec<&str> = page.items.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, vec!["carol", "dave"]);
        assert_eq!(page.total, Some(5));
        let first = || Window::Offset { offset: 0, limit: 20 };
        let q = UserFilter { q: Some("_".into()), ..UserFilter::default() };
        assert_eq!(repo.list(&q, first()).await.expect("list").total, Some(1));
        let q = UserFilter { q: Some("FULL CAR".into()), ..UserFilter::default() };
        assert_eq!(repo.list(&q, first()).await.expect("list").total, Some(1));
        let active = UserFilter { is_active: Some(false), ..UserFilter::default() };
        assert_eq!(repo.list(&active, first()).await.expect("list").items[0].username.as_str(), "erin");
        let desc = UserFilter { sort: UserSort::EmailDesc, ..UserFilter::default() };
        assert_eq!(repo.list(&desc, first()).await.expect("list").items[0].username.as_str(), "erin");
    })
    .await;
}

#[tokio::test]
async fn updates_apply_and_keep_uniqueness_and_the_last_admin() {
    on_both(|db| async move {
        let repo = SqlUserRepository::new(db);
        let admin = user("boss", admin_set());
        let other = user("worker", PermissionSet::EMPTY);
        repo.insert(&admin).await.expect("insert");
        repo.insert(&other).await.expect("insert");
        let now = Utc::now().trunc_subsecs_micro();
        let clash = UserUpdate { email: Some(admin.email.clone()), ..UserUpdate::default() };
        assert!(matches!(repo.update(other.id, &clash, now).await, Err(PortError::Conflict(Conflict::EmailTaken))));
        let demote = UserUpdate { permissions: Some(PermissionSet::EMPTY), ..UserUpdate::default() };
        assert!(matches!(repo.update(admin.id, &demote, now).await, Err(PortError::Rule(_))));
        assert!(matches!(repo.delete(admin.id).await, Err(PortError::Rule(_))));
        assert!(matches!(repo.update(UserId::new(), &demote, now).await, Err(PortError::NotFound)));
        assert!(matches!(repo.delete(UserId::new()).await, Err(PortError::NotFound)));
        let promote = UserUpdate { permissions: Some(admin_set()), ..UserUpdate::default() };
        repo.update(other.id, &promote, now).await.expect("promote");
        repo.update(admin.id, &demote, now).await.expect("now the first may step down");
        assert_eq!(repo.get(admin.id).await.expect("get").expect("user").permissions, PermissionSet::EMPTY);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    on_both(|db| async move {
        let repo = SqlUserRepository::new(db);
        let a = user("admina", admin_set());
        let b = user("adminb", admin_set());
        repo.insert(&a).await.expect("insert");
        repo.insert(&b).await.expect("insert");
        let demote = UserUpdate { permissions: Some(PermissionSet::EMPTY), ..UserUpdate::default() };
        let now = Utc::now();
        let (ra, rb) = tokio::join!(repo.update(a.id, &demote, now), repo.update(b.id, &demote, now));
        assert_eq!(usize::from(ra.is_ok()) + usize::from(rb.is_ok()), 1, "{ra:?} {rb:?}");
        let admins = [repo.get(a.id).await, repo.get(b.id).await]
            .into_iter()
            .filter(|u| u.as_ref().ok().and_then(Option::as_ref).is_some_and(|u| u.permissions.is_admin()))
            .count();
        assert_eq!(admins, 1);
    })
    .await;
}

fn session(user: &User, now: chrono::DateTime<Utc>) -> Session {
    Session {
        id: SessionId::new(),
        user_id: user.id,
        created_at: now,
        last_used_at: now,
        expires_at: now + Duration::days(30),
        user_agent: Some("test-agent".into()),
        ip: Some("127.0.0.1".into()),
    }
}

fn hash(s: &str) -> TokenHash {
    TokenHash(format!("{s:0>64}"))
}

#[tokio::test]
async fn refresh_rotates_detects_reuse_and_guards_principals() {
    on_both(|db| async move {
        let users = SqlUserRepository::new(db.clone());
        let sessions = SqlSessionRepository::new(db);
        let u = user("sessy", PermissionSet::EMPTY);
        users.insert(&u).await.expect("insert");
        let now = Utc::now();
        let s = session(&u, now);
        sessions.create(&s, &hash("t1")).await.expect("create");
        assert_eq!(sessions.principal(u.id, s.id, now).await.expect("principal").map(|p| p.id), Some(u.id));
        let grace = Duration::zero();
        let later = now + Duration::days(30);
        let issued = sessions.refresh(&hash("t1"), &hash("t2"), now, grace, later).await.expect("refresh");
        assert_eq!(issued, RefreshOutcome::Issued { user_id: u.id, session_id: s.id });
        let again = now + Duration::seconds(1);
        let reuse = sessions.refresh(&hash("t1"), &hash("t3"), again, grace, later).await.expect("refresh");
        assert_eq!(reuse, RefreshOutcome::ReuseDetected { user_id: u.id, session_id: s.id });
        // The family is dead: its newest token too, and the access tokens naming it.
        let dead = sessions.refresh(&hash("t2"), &hash("t4"), again, grace, later).await.expect("refresh");
        assert_eq!(dead, RefreshOutcome::Invalid);
        assert_eq!(sessions.principal(u.id, s.id, again).await.expect("principal"), None);
        let unknown = sessions.refresh(&hash("nope"), &hash("t5"), again, grace, later).await.expect("refresh");
        assert_eq!(unknown, RefreshOutcome::Invalid);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_within_grace_both_succeed_in_one_family() {
    on_both(|db| async move {
        let users = SqlUserRepository::new(db.clone());
        let sessions = SqlSessionRepository::new(db);
        let u = user("tabby", PermissionSet::EMPTY);
        users.insert(&u).await.expect("insert");
        let now = Utc::now();
        let s = session(&u, now);
        sessions.create(&s, &hash("p1")).await.expect("create");
        let grace = Duration::seconds(10);
        let later = now + Duration::days(30);
        let (p1, a1, b1) = (hash("p1"), hash("a1"), hash("b1"));
        let (a, b) =
            tokio::join!(sessions.refresh(&p1, &a1, now, grace, later), sessions.refresh(&p1, &b1, now, grace, later));
        let issued = RefreshOutcome::Issued { user_id: u.id, session_id: s.id };
        assert_eq!((a.expect("a"), b.expect("b")), (issued, issued));
        assert_eq!(sessions.list_live(u.id, now).await.expect("list").len(), 1);
    })
    .await;
}

#[tokio::test]
async fn sessions_are_revoked_only_by_their_owner_and_go_with_the_user() {
    on_both(|db| async move {
        let users = SqlUserRepository::new(db.clone());
        let sessions = SqlSessionRepository::new(db);
        let (u, v) = (user("owner", PermissionSet::EMPTY), user("thief", PermissionSet::EMPTY));
        users.insert(&u).await.expect("insert");
        users.insert(&v).await.expect("insert");
        let now = Utc::now();
        let (s1, s2) = (session(&u, now), session(&u, now));
        sessions.create(&s1, &hash("s1")).await.expect("create");
        sessions.create(&s2, &hash("s2")).await.expect("create");
        assert!(!sessions.revoke(v.id, s1.id, now).await.expect("revoke"));
        assert_eq!(sessions.find_by_token(v.id, &hash("s1")).await.expect("find"), None);
        assert_eq!(sessions.find_by_token(u.id, &hash("s1")).await.expect("find"), Some(s1.id));
        assert_eq!(sessions.revoke_all(u.id, Some(s1.id), now).await.expect("revoke all"), 1);
        let live: Vec<SessionId> =
            sessions.list_live(u.id, now).await.expect("list").into_iter().map(|s| s.id).collect();
        assert_eq!(live, vec![s1.id]);
        users.delete(u.id).await.expect("delete");
        assert_eq!(sessions.list_live(u.id, now).await.expect("list").len(), 0);
        assert_eq!(sessions.find_by_token(u.id, &hash("s1")).await.expect("find"), None);
    })
    .await;
}
