//! Keyset windows ([`Window::After`]) on every paginated list (users, products, orders): walking
//! a list window by window, each continuing after the last row of the one before, gives every row
//! exactly once in the list's order — for each users sort and direction, across ties on the sort
//! key, timestamps a microsecond apart, and names whose byte order is not a locale's — and rows
//! added or removed before the position move nothing after it.
//!
//! The expected orders are computed here from the ports' documented rule (sort value, then id;
//! text by its bytes), not by asking any store.

use std::cmp::Ordering;

use chrono::{DateTime, Duration, DurationRound, Utc};
use hexgate_domain::order::{Order, OrderId, OrderLine};
use hexgate_domain::product::Product;
use hexgate_domain::{
    Email, FullName, NewUser, PasswordHash, PermissionSet, Position, Slice, User, UserFilter, UserId, UserSort,
    Username, Window,
};
use hexgate_ports::OrderFilter;

use super::support::{now, product, stored_user};
use crate::Storage;

const SORTS: [UserSort; 6] = [
    UserSort::CreatedAt,
    UserSort::CreatedAtDesc,
    UserSort::Username,
    UserSort::UsernameDesc,
    UserSort::Email,
    UserSort::EmailDesc,
];

/// A whole second, so that the offsets below give timestamps with no, three and six decimals.
fn whole_second() -> DateTime<Utc> {
    now().duration_trunc(Duration::seconds(1)).expect("a whole second")
}

fn account(username: &str, email: &str, at: DateTime<Utc>, is_active: bool) -> User {
    NewUser {
        email: Email::parse(email).expect("email"),
        username: Username::parse(username).expect("username"),
        full_name: FullName::parse("Keyset Walker").expect("full name"),
        is_active,
        permissions: PermissionSet::EMPTY,
        password_hash: PasswordHash::from_phc(format!("$argon2id$fake${username}")),
    }
    .into_user(UserId::new(), at)
}

/// Users whose sorts are easy to get wrong: three share a `created_at` (and two more another),
/// others are a microsecond or a millisecond apart or on a whole second; usernames and e-mail
/// addresses where `-` and `_` sort before digits and letters and `é` after `z` by bytes, which
/// a locale's collation would order otherwise; two inactive users among them.
async fn awkward_users(s: &Storage) -> Vec<User> {
    let t = whole_second();
    let us = Duration::microseconds;
    let rows = [
        ("a-b", "emma@example.com", t, true),
        ("a_c", "élise@example.com", t, true),
        ("ab0", "e-mma@example.com", t, false),
        ("abc", "e_mma@example.com", t + us(1), true),
        ("ab-", "zed@example.com", t + us(100_000), true),
        ("a0z", "e.mma@example.com", t + us(100_001), true),
        ("zz9", "emma0@example.com", t + us(500_000), true),
        ("-xa", "a|b@example.com", t + Duration::seconds(1), true),
        ("_xa", "emm@example.com", t + Duration::seconds(1), false),
        ("xa-", "zoë@example.com", t + us(1_999_999), true),
    ];
    let mut users = Vec::new();
    for (username, email, at, active) in rows {
        let user = account(username, email, at, active);
        s.users.insert(&user).await.expect("insert user");
        users.push(user);
    }
    users
}

/// The order the users port documents: the sort's value (text by its bytes), then the id, both
/// in the sort's direction.
fn documented_order(users: &[User], filter: &UserFilter) -> Vec<String> {
    let mut users: Vec<&User> = users.iter().filter(|u| filter.is_active.is_none_or(|a| u.is_active == a)).collect();
    users.sort_by(|a, b| {
        let by_value = match filter.sort {
            UserSort::CreatedAt | UserSort::CreatedAtDesc => a.created_at.cmp(&b.created_at),
            UserSort::Username | UserSort::UsernameDesc => {
                a.username.as_str().as_bytes().cmp(b.username.as_str().as_bytes())
            }
            UserSort::Email | UserSort::EmailDesc => a.email.as_str().as_bytes().cmp(b.email.as_str().as_bytes()),
        };
        let order = by_value.then(a.id.as_uuid().as_bytes().cmp(b.id.as_uuid().as_bytes()));
        if filter.sort.is_descending() { order.reverse() } else { order }
    });
    users.into_iter().map(|u| u.username.as_str().to_owned()).collect()
}

fn position_of(user: &User, sort: UserSort) -> Position<hexgate_domain::UserSortKey> {
    Position { key: sort.key_of(user), id: user.id.as_uuid() }
}

/// A whole list, `size` rows at a time, as a client following `next_cursor` reads it: the first
/// window by offset, every later one after the last row of the one before.
async fn walk<K, T>(
    size: u64,
    position: impl Fn(&T) -> Position<K>,
    mut page: impl AsyncFnMut(Window<K>) -> Vec<T>,
) -> Vec<T> {
    let mut walked: Vec<T> = Vec::new();
    let mut window = Window::Offset { offset: 0, limit: size };
    loop {
        let items = page(window).await;
        let full = items.len() as u64 == size;
        walked.extend(items);
        match walked.last() {
            Some(last) if full => window = Window::After { after: position(last), limit: size },
            _ => return walked,
        }
    }
}

async fn walk_users(s: &Storage, filter: &UserFilter, size: u64) -> Vec<String> {
    let users = walk(
        size,
        |u: &User| position_of(u, filter.sort),
        async |window| s.users.list(filter, window).await.expect("list").items,
    )
    .await;
    users.iter().map(|u| u.username.as_str().to_owned()).collect()
}

pub async fn every_users_sort_walks_each_row_once_in_order(s: Storage) {
    let users = awkward_users(&s).await;
    for sort in SORTS {
        let filter = UserFilter { sort, ..UserFilter::default() };
        let expected = documented_order(&users, &filter);
        assert_eq!(
            s.users.list(&filter, Window::Offset { offset: 0, limit: 100 }).await.expect("list").items.len(),
            users.len()
        );
        for size in [1, 2, 3] {
            assert_eq!(walk_users(&s, &filter, size).await, expected, "{sort:?}, {size} at a time");
        }
        let active = UserFilter { sort, is_active: Some(true), ..UserFilter::default() };
        assert_eq!(walk_users(&s, &active, 2).await, documented_order(&users, &active), "{sort:?}, active only");
    }
    let searched = UserFilter { q: Some("-".into()), sort: UserSort::Email, ..UserFilter::default() };
    let names = walk_users(&s, &searched, 1).await;
    // By e-mail bytes: a|b@, e-mma@, emma@, zed@, zoë@.
    assert_eq!(names, ["-xa", "ab0", "a-b", "ab-", "xa-"], "a search walks in the sort's order too");
}

pub async fn a_keyset_window_counts_nothing_and_starts_strictly_after_its_position(s: Storage) {
    let users = awkward_users(&s).await;
    let filter = UserFilter { sort: UserSort::CreatedAt, ..UserFilter::default() };
    let order = documented_order(&users, &filter);
    let second = users.iter().find(|u| u.username.as_str() == order[1]).expect("second row");
    let after = Window::After { after: position_of(second, filter.sort), limit: 3 };
    let slice = s.users.list(&filter, after).await.expect("list");
    assert_eq!(slice.total, None, "a keyset window is not counted");
    let names: Vec<&str> = slice.items.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, order[2..5].iter().map(String::as_str).collect::<Vec<_>>(), "the tie's third member first");
}

pub async fn a_walk_is_not_shifted_by_rows_added_or_removed_before_its_position(s: Storage) {
    let users = awkward_users(&s).await;
    for sort in [UserSort::CreatedAt, UserSort::UsernameDesc, UserSort::Email] {
        let filter = UserFilter { sort, ..UserFilter::default() };
        let first = s.users.list(&filter, Window::Offset { offset: 0, limit: 4 }).await.expect("first window");
        let last = first.items.last().expect("four rows");
        let expected_after = documented_order(&users, &filter)[4..].to_vec();

        // A newcomer that sorts first in every one of these sorts, and a row before the position
        // deleted: an offset would now start one row off; a position does not move.
        let t = users.iter().map(|u| u.created_at).min().expect("users") - Duration::seconds(1);
        let (early_name, early_mail) = match sort {
            UserSort::UsernameDesc => ("zzzz", "early@example.com"),
            _ => ("---", "-early@example.com"),
        };
        let early = account(early_name, early_mail, t, true);
        s.users.insert(&early).await.expect("insert");
        s.users.delete(first.items[0].id).await.expect("delete");

        let mut window = Window::After { after: position_of(last, sort), limit: 2 };
        let mut rest = Vec::new();
        loop {
            let slice: Slice<User> = s.users.list(&filter, window).await.expect("list");
            rest.extend(slice.items.iter().map(|u| u.username.as_str().to_owned()));
            match slice.items.last() {
                Some(last) if slice.items.len() == 2 => {
                    window = Window::After { after: position_of(last, sort), limit: 2 };
                }
                _ => break,
            }
        }
        assert_eq!(rest, expected_after, "{sort:?}: what follows the position is what followed it");

        // Put things back for the next sort.
        s.users.delete(early.id).await.expect("delete");
        s.users.insert(&first.items[0]).await.expect("insert");
    }
}

fn newest_first<T>(rows: &mut [T], key: impl Fn(&T) -> (DateTime<Utc>, uuid::Uuid)) {
    rows.sort_by(|a, b| {
        let (a, b) = (key(a), key(b));
        match b.0.cmp(&a.0) {
            Ordering::Equal => b.1.as_bytes().cmp(a.1.as_bytes()),
            other => other,
        }
    });
}

pub async fn products_and_orders_walk_newest_first_each_row_once(s: Storage) {
    let t = whole_second();
    let us = Duration::microseconds;
    let mut products: Vec<Product> = Vec::new();
    for (i, at) in [t, t, t, t + us(1), t + us(100_000), t + Duration::seconds(1), t + Duration::seconds(1)]
        .into_iter()
        .enumerate()
    {
        let p = product(&format!("Walker {i}"), "1.00", at);
        s.products.insert(&p).await.expect("insert product");
        products.push(p);
    }
    newest_first(&mut products, |p| (p.created_at, p.id.0));
    for size in [1, 2, 3] {
        let walked = walk(
            size,
            |p: &Product| Position { key: p.created_at, id: p.id.0 },
            async |window| s.products.list(None, window).await.expect("list").items,
        )
        .await;
        let ids = |rows: &[Product]| rows.iter().map(|p| p.id).collect::<Vec<_>>();
        assert_eq!(ids(&walked), ids(&products), "products, {size} at a time");
    }

    let (buyer, other) = (stored_user(&s, "walker").await, stored_user(&s, "bystander").await);
    let line = [OrderLine { product_id: products[0].id, quantity: 1 }];
    let mut mine: Vec<Order> = Vec::new();
    for at in [t, t, t + us(1), t + us(1), t + Duration::seconds(2), t + Duration::seconds(3)] {
        mine.push(s.orders.place(OrderId::new(), buyer.id, &line, at).await.expect("place"));
        s.orders.place(OrderId::new(), other.id, &line, at).await.expect("place someone else's");
    }
    newest_first(&mut mine, |o| (o.created_at, o.id.0));
    let filter = OrderFilter { user: Some(buyer.id), ..OrderFilter::default() };
    for size in [1, 4] {
        let walked = walk(
            size,
            |o: &Order| Position { key: o.created_at, id: o.id.0 },
            async |window| s.orders.list(&filter, window).await.expect("list").items,
        )
        .await;
        let ids = |rows: &[Order]| rows.iter().map(|o| o.id).collect::<Vec<_>>();
        assert_eq!(ids(&walked), ids(&mine), "one user's orders, {size} at a time");
    }
}
