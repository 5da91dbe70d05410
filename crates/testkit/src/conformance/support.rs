//! Fixtures the checks share.

use std::future::Future;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use hexgate_domain::money::{Money, TaxRate};
use hexgate_domain::product::{Product, ProductId, ProductName};
use hexgate_domain::session::Session;
use hexgate_domain::{
    Email, FullName, NewUser, PasswordHash, Permission, PermissionSet, SessionId, User, UserId, Username, Window,
};
use hexgate_ports::TokenHash;

use crate::Storage;

/// Now, in microseconds: what PostgreSQL keeps, so a value read back equals the one written.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Page `n` of `size` rows, counted: the window a numbered page asks a store for.
pub(crate) fn page<K>(n: u64, size: u64) -> Window<K> {
    Window::Offset { offset: (n - 1) * size, limit: size }
}

/// Every row of the checks' small lists, counted.
pub(crate) fn all<K>() -> Window<K> {
    page(1, 1000)
}

pub(crate) fn admin_set() -> PermissionSet {
    PermissionSet::EMPTY.with(Permission::Admin)
}

/// An active user called `name` (`name@example.com`, full name `Full name`), not stored.
pub(crate) fn user(name: &str, permissions: PermissionSet) -> User {
    NewUser {
        email: Email::parse(&format!("{name}@example.com")).expect("email"),
        username: Username::parse(name).expect("username"),
        full_name: FullName::parse(&format!("Full {name}")).expect("full name"),
        is_active: true,
        permissions,
        password_hash: PasswordHash::from_phc(format!("$argon2id$fake${name}")),
    }
    .into_user(UserId::new(), now())
}

/// A plain user called `name`, stored.
pub(crate) async fn stored_user(s: &Storage, name: &str) -> User {
    let u = user(name, PermissionSet::EMPTY);
    s.users.insert(&u).await.expect("insert user");
    u
}

/// A session of `user` started at `at`, for 30 days.
pub(crate) fn session(user: UserId, at: DateTime<Utc>) -> Session {
    Session {
        id: SessionId::new(),
        user_id: user,
        created_at: at,
        last_used_at: at,
        expires_at: at + Duration::days(30),
        user_agent: Some("conformance".into()),
        ip: Some("127.0.0.1".into()),
    }
}

/// A token hash (64 hex-ish characters, as SHA-256 gives) made from `s`.
pub(crate) fn hash(s: &str) -> TokenHash {
    TokenHash(format!("{s:0>64}"))
}

pub(crate) fn product(name: &str, price: &str, at: DateTime<Utc>) -> Product {
    Product {
        id: ProductId::new(),
        name: ProductName::parse(name).expect("name"),
        price: Money::parse(price).expect("price"),
        tax_rate: TaxRate::default_rate(),
        created_at: at,
        updated_at: at,
    }
}

/// Runs `n` copies of a task at once, on the runtime's threads, and answers their outcomes in
/// task order.
pub(crate) async fn race<T, F, Fut>(n: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(task(i))).collect();
    let mut outcomes = Vec::with_capacity(n);
    for handle in handles {
        outcomes.push(handle.await.expect("a racing task panicked"));
    }
    outcomes
}
