//! [`UserRepository`](hexgate_ports::UserRepository): uniqueness (also under concurrent sign-ups),
//! all-or-nothing batches, jobs written with their user, list filters, sorts and pages, and the
//! last-admin rule (also when two admins step down at once).

use chrono::Duration;
use hexgate_domain::{
    DomainError, Email, Permission, PermissionSet, Slice, User, UserFilter, UserId, UserSort, UserUpdate, Username,
};
use hexgate_ports::{Conflict, NewJob, PortError};

use super::support::{admin_set, all, now, page, race, stored_user, user};
use crate::Storage;

pub async fn round_trip(s: Storage) {
    let u = user("roundtrip", admin_set().with(Permission::CatalogManager));
    s.users.insert(&u).await.expect("insert");
    assert_eq!(s.users.get(u.id).await.expect("get"), Some(u.clone()), "a user reads back as written");
    assert_eq!(s.users.find_by_login("roundtrip").await.expect("find"), Some(u.clone()), "found by username");
    assert_eq!(s.users.find_by_login("roundtrip@example.com").await.expect("find"), Some(u.clone()), "by e-mail");
    assert_eq!(s.users.get(UserId::new()).await.expect("get"), None, "an unknown id is None, not an error");
    assert_eq!(s.users.find_by_login("nobody").await.expect("find"), None);
}

pub async fn email_and_username_are_unique_whatever_their_case(s: Storage) {
    let first = stored_user(&s, "unique").await;
    let same_email = User {
        id: UserId::new(),
        username: Username::parse("other").expect("username"),
        email: Email::parse("UNIQUE@Example.COM").expect("email"),
        ..first.clone()
    };
    let outcome = s.users.insert(&same_email).await;
    assert!(matches!(outcome, Err(PortError::Conflict(Conflict::EmailTaken))), "taken e-mail: {outcome:?}");
    let same_name = User {
        id: UserId::new(),
        email: Email::parse("o@example.com").expect("email"),
        username: Username::parse("UNIQUE").expect("username"),
        ..first.clone()
    };
    let outcome = s.users.insert(&same_name).await;
    assert!(matches!(outcome, Err(PortError::Conflict(Conflict::UsernameTaken))), "taken username: {outcome:?}");

    let other = stored_user(&s, "second").await;
    let clash = UserUpdate { email: Some(first.email.clone()), ..UserUpdate::default() };
    let outcome = s.users.update(other.id, &clash, now()).await;
    assert!(matches!(outcome, Err(PortError::Conflict(Conflict::EmailTaken))), "update to a taken e-mail: {outcome:?}");
    assert_eq!(s.users.get(other.id).await.expect("get").expect("user").email, other.email, "nothing changed");
}

pub async fn concurrent_sign_ups_with_one_email_let_exactly_one_in(s: Storage) {
    let outcomes = race(6, |i| {
        let users = s.users.clone();
        async move {
            let candidate = User {
                email: Email::parse("race@example.com").expect("email"),
                ..user(&format!("racer{i}"), PermissionSet::EMPTY)
            };
            users.insert(&candidate).await
        }
    })
    .await;
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(won, 1, "exactly one sign-up wins: {outcomes:?}");
    for lost in outcomes.iter().filter(|o| o.is_err()) {
        assert!(matches!(lost, Err(PortError::Conflict(Conflict::EmailTaken))), "the others conflict: {lost:?}");
    }
}

pub async fn a_user_and_their_jobs_are_written_together(s: Storage) {
    let job = NewJob { kind: "welcome_mail".into(), payload: "{}".into(), max_attempts: 3 };
    let u = user("jobbed", PermissionSet::EMPTY);
    s.users.insert_with_jobs(&u, std::slice::from_ref(&job), now()).await.expect("insert");
    let lease = std::time::Duration::from_secs(30);
    let claimed = s.jobs.claim("w", now(), lease).await.expect("claim").expect("the user's job is queued");
    assert_eq!((claimed.kind.as_str(), claimed.payload.as_str()), ("welcome_mail", "{}"));

    let refused = User { id: UserId::new(), username: Username::parse("jobbed2").expect("u"), ..u };
    let outcome = s.users.insert_with_jobs(&refused, &[job], now()).await;
    assert!(matches!(outcome, Err(PortError::Conflict(Conflict::EmailTaken))), "{outcome:?}");
    assert_eq!(s.jobs.claim("w", now(), lease).await.expect("claim"), None, "a refused user queues no job");
}

pub async fn insert_many_is_all_or_nothing(s: Storage) {
    let taken = stored_user(&s, "taken").await;
    let batch = vec![user("fresh", PermissionSet::EMPTY), User { id: UserId::new(), ..taken.clone() }];
    let outcome = s.users.insert_many(&batch).await;
    assert!(matches!(outcome, Err(PortError::Conflict(_))), "a taken user in the batch: {outcome:?}");
    assert_eq!(s.users.find_by_login("fresh").await.expect("find"), None, "nothing of a refused batch is stored");

    let twin = User { email: Email::parse("twin@example.com").expect("e"), ..user("twina", PermissionSet::EMPTY) };
    let twin2 = User { id: UserId::new(), username: Username::parse("twinb").expect("u"), ..twin.clone() };
    let outcome = s.users.insert_many(&[twin, twin2]).await;
    assert!(matches!(outcome, Err(PortError::Conflict(Conflict::EmailTaken))), "a clash inside: {outcome:?}");
    assert_eq!(s.users.find_by_login("twina").await.expect("find"), None);

    s.users.insert_many(&[user("one", PermissionSet::EMPTY), user("two", PermissionSet::EMPTY)]).await.expect("ok");
    let emails: Vec<Email> = ["one@example.com", "two@example.com", "nope@example.com"]
        .iter()
        .map(|e| Email::parse(e).expect("e"))
        .collect();
    assert_eq!(s.users.taken_emails(&emails).await.expect("taken"), emails[..2].to_vec());
    let names: Vec<Username> = ["one", "ghost", "taken"].iter().map(|n| Username::parse(n).expect("u")).collect();
    assert_eq!(s.users.taken_usernames(&names).await.expect("taken"), vec![names[0].clone(), names[2].clone()]);
    s.users.insert_many(&[]).await.expect("an empty batch is fine");
}

pub async fn lists_filter_sort_and_page(s: Storage) {
    let t0 = now();
    let mut inserted = Vec::new();
    for (i, name) in ["carol", "alice", "bob_x", "dave"].into_iter().enumerate() {
        let at = t0 + Duration::seconds(i64::try_from(i).expect("small"));
        let u = User { created_at: at, updated_at: at, ..user(name, PermissionSet::EMPTY) };
        s.users.insert(&u).await.expect("insert");
        inserted.push(u);
    }
    let at = t0 + Duration::seconds(10);
    let inactive = User { is_active: false, created_at: at, updated_at: at, ..user("erin", PermissionSet::EMPTY) };
    s.users.insert(&inactive).await.expect("insert");

    let names = |slice: &Slice<User>| slice.items.iter().map(|u| u.username.as_str().to_owned()).collect::<Vec<_>>();
    let by_name = UserFilter { sort: UserSort::Username, ..UserFilter::default() };
    let second = s.users.list(&by_name, page(2, 2)).await.expect("list");
    assert_eq!(names(&second), ["carol", "dave"], "sorted by username, second page of two");
    assert_eq!(second.total, Some(5), "an offset window counts every row passing the filter");
    let past = s.users.list(&by_name, page(4, 2)).await.expect("list");
    assert!(past.items.is_empty() && past.total == Some(5), "past the end: no items, the total still counts");

    let oldest = s.users.list(&UserFilter::default(), all()).await.expect("list");
    assert_eq!(names(&oldest), ["carol", "alice", "bob_x", "dave", "erin"], "created_at is the default sort");
    let newest = UserFilter { sort: UserSort::CreatedAtDesc, ..UserFilter::default() };
    let newest = s.users.list(&newest, all()).await.expect("list");
    assert_eq!(names(&newest), ["erin", "dave", "bob_x", "alice", "carol"]);
    let desc = UserFilter { sort: UserSort::EmailDesc, ..UserFilter::default() };
    assert_eq!(names(&s.users.list(&desc, all()).await.expect("list"))[0], "erin");

    let q = |q: &str| UserFilter { q: Some(q.into()), ..UserFilter::default() };
    let total = |slice: Slice<User>| slice.total;
    assert_eq!(total(s.users.list(&q("_"), all()).await.expect("list")), Some(1), "`_` is no wildcard");
    assert_eq!(total(s.users.list(&q("%"), all()).await.expect("list")), Some(0), "`%` is no wildcard");
    assert_eq!(total(s.users.list(&q("FULL CAR"), all()).await.expect("list")), Some(1), "full name, any case");
    assert_eq!(total(s.users.list(&q("@EXAMPLE"), all()).await.expect("list")), Some(5), "e-mail");
    let inactive_only = UserFilter { is_active: Some(false), ..UserFilter::default() };
    assert_eq!(names(&s.users.list(&inactive_only, all()).await.expect("list")), ["erin"]);

    // Ties on the sort key still page deterministically: by id, in the sort's direction.
    let tied_at = t0 + Duration::seconds(20);
    let mut tied: Vec<User> = Vec::new();
    for name in ["tiea", "tieb", "tiec"] {
        let u = User { created_at: tied_at, updated_at: tied_at, ..user(name, PermissionSet::EMPTY) };
        s.users.insert(&u).await.expect("insert");
        tied.push(u);
    }
    tied.sort_by_key(|u| u.id);
    let listed = s.users.list(&UserFilter::default(), all()).await.expect("list");
    let ids: Vec<UserId> = listed.items[5..].iter().map(|u| u.id).collect();
    assert_eq!(ids, tied.iter().map(|u| u.id).collect::<Vec<_>>(), "ties by id, ascending");
    let listed = s.users.list(&newest_filter(), all()).await.expect("list");
    let ids: Vec<UserId> = listed.items[..3].iter().map(|u| u.id).collect();
    assert_eq!(ids, tied.iter().rev().map(|u| u.id).collect::<Vec<_>>(), "ties by id, descending");
    drop(inserted);
}

fn newest_filter() -> UserFilter {
    UserFilter { sort: UserSort::CreatedAtDesc, ..UserFilter::default() }
}

fn is_last_admin(outcome: &Result<impl std::fmt::Debug, PortError>) -> bool {
    matches!(outcome, Err(PortError::Rule(DomainError::LastAdmin)))
}

pub async fn the_last_active_admin_cannot_be_demoted_deactivated_or_deleted(s: Storage) {
    let admin = user("boss", admin_set());
    s.users.insert(&admin).await.expect("insert");
    let other = stored_user(&s, "worker").await;
    let demote = UserUpdate { permissions: Some(PermissionSet::EMPTY), ..UserUpdate::default() };
    let deactivate = UserUpdate { is_active: Some(false), ..UserUpdate::default() };
    let outcome = s.users.update(admin.id, &demote, now()).await;
    assert!(is_last_admin(&outcome), "demoting the last admin: {outcome:?}");
    let outcome = s.users.update(admin.id, &deactivate, now()).await;
    assert!(is_last_admin(&outcome), "deactivating the last admin: {outcome:?}");
    let outcome = s.users.delete(admin.id).await;
    assert!(is_last_admin(&outcome), "deleting the last admin: {outcome:?}");
    assert_eq!(s.users.get(admin.id).await.expect("get"), Some(admin.clone()), "the admin is untouched");

    let outcome = s.users.update(UserId::new(), &demote, now()).await;
    assert!(matches!(outcome, Err(PortError::NotFound)), "updating a missing user: {outcome:?}");
    let outcome = s.users.delete(UserId::new()).await;
    assert!(matches!(outcome, Err(PortError::NotFound)), "deleting a missing user: {outcome:?}");

    let promote = UserUpdate { permissions: Some(admin_set()), ..UserUpdate::default() };
    s.users.update(other.id, &promote, now()).await.expect("promote");
    let after = s.users.update(admin.id, &demote, now()).await.expect("with another admin, the first may step down");
    assert_eq!(after.permissions, PermissionSet::EMPTY);
    assert_eq!(s.users.get(admin.id).await.expect("get").expect("user").permissions, PermissionSet::EMPTY);
    s.users.delete(admin.id).await.expect("a non-admin may be deleted");
}

async fn count_admins(s: &Storage, ids: &[UserId]) -> usize {
    let mut admins = 0;
    for id in ids {
        let u = s.users.get(*id).await.expect("get");
        admins += usize::from(u.is_some_and(|u| u.is_active && u.permissions.is_admin()));
    }
    admins
}

pub async fn two_admins_demoting_each_other_at_once_leave_one_admin(s: Storage) {
    let (a, b) = (user("admina", admin_set()), user("adminb", admin_set()));
    s.users.insert(&a).await.expect("insert");
    s.users.insert(&b).await.expect("insert");
    let ids = [a.id, b.id];
    let outcomes = race(2, |i| {
        let users = s.users.clone();
        let demote = UserUpdate { permissions: Some(PermissionSet::EMPTY), ..UserUpdate::default() };
        async move { users.update(ids[i], &demote, now()).await }
    })
    .await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "one demotion wins: {outcomes:?}");
    assert!(outcomes.iter().any(is_last_admin), "the other meets the last-admin rule: {outcomes:?}");
    assert_eq!(count_admins(&s, &ids).await, 1);
}

pub async fn two_admins_deleted_at_once_leave_one_admin(s: Storage) {
    let (a, b) = (user("admina", admin_set()), user("adminb", admin_set()));
    s.users.insert(&a).await.expect("insert");
    s.users.insert(&b).await.expect("insert");
    let ids = [a.id, b.id];
    let outcomes = race(2, |i| {
        let users = s.users.clone();
        async move { users.delete(ids[i]).await }
    })
    .await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "one delete wins: {outcomes:?}");
    assert!(outcomes.iter().any(is_last_admin), "the other meets the last-admin rule: {outcomes:?}");
    assert_eq!(count_admins(&s, &ids).await, 1);
}
