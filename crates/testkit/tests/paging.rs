//! The list use cases' cursors (`UserService`, `CatalogService`, `OrderService`) over the
//! in-memory store, with the real HMAC sealer: a walk by `next_cursor` visits every row once, in
//! the order of the numbered pages; a cursor changed in any character, or sent back with another
//! sort, filter, list or user, is `BadCursor`.

use std::sync::Arc;

use chrono::Duration;
use hexgate_crypto_adapter::HmacCursorSealer;
use hexgate_domain::money::{Money, TaxRate};
use hexgate_domain::order::{DateRange, OrderLine};
use hexgate_domain::product::{Product, ProductId, ProductName};
use hexgate_domain::{
    Email, FullName, NewUser, Page, PageRequest, PasswordHash, Permission, PermissionSet, User, UserFilter, UserId,
    UserSort, Username,
};
use hexgate_ports::{
    CatalogService, Clock, CursorSealer, OrderService, ProductRepository, ServiceError, UserRepository, UserService,
};
use hexgate_testkit::{FastHasher, InMemoryStore, ManualClock};
use secrecy::SecretString;

struct Lists {
    store: Arc<InMemoryStore>,
    users: UserService,
    catalog: CatalogService,
    orders: OrderService,
    admin: User,
}

fn user(name: &str, permissions: PermissionSet, at: chrono::DateTime<chrono::Utc>) -> User {
    NewUser {
        email: Email::parse(&format!("{name}@example.com")).expect("email"),
        username: Username::parse(name).expect("username"),
        full_name: FullName::default(),
        is_active: !name.starts_with('z'),
        permissions,
        password_hash: PasswordHash::from_phc("x".into()),
    }
    .into_user(UserId::new(), at)
}

async fn lists() -> Lists {
    let store = Arc::new(InMemoryStore::new());
    let clock = Arc::new(ManualClock::at_now());
    let sealer: Arc<dyn CursorSealer> =
        Arc::new(HmacCursorSealer::new(&SecretString::from("paging-test-key-0123456789abcdef".to_owned())));
    let admin = user("admin", PermissionSet::EMPTY.with(Permission::Admin), clock.now());
    UserRepository::insert(&*store, &admin).await.expect("admin");
    // Names and e-mails out of step with each other, some sharing a created_at.
    let t = clock.now();
    for (i, name) in ["mia", "a-b", "zed", "a_c", "bob", "zoe", "ab0", "cy-", "-xy"].into_iter().enumerate() {
        let at = t + Duration::milliseconds(i64::try_from(i / 2).expect("small"));
        UserRepository::insert(&*store, &user(name, PermissionSet::EMPTY, at)).await.expect("user");
    }
    for i in 0..5 {
        let at = t + Duration::milliseconds(i / 2);
        let product = Product {
            id: ProductId::new(),
            name: ProductName::parse(&format!("Thing {i}")).expect("name"),
            price: Money::parse("1.00").expect("price"),
            tax_rate: TaxRate::default_rate(),
            created_at: at,
            updated_at: at,
        };
        ProductRepository::insert(&*store, &product).await.expect("product");
    }
    Lists {
        users: UserService::new(store.clone(), Arc::new(FastHasher), clock.clone(), sealer.clone(), true),
        catalog: CatalogService::new(store.clone(), clock.clone(), sealer.clone()),
        orders: OrderService::new(store.clone(), clock, sealer),
        store,
        admin,
    }
}

fn names(page: &Page<User>) -> Vec<String> {
    page.items.iter().map(|u| u.username.as_str().to_owned()).collect()
}

impl Lists {
    async fn users_page(&self, filter: &UserFilter, request: PageRequest) -> Result<Page<User>, ServiceError> {
        self.users.list(&self.admin, filter, request).await
    }

    /// Every username, `size` at a time, following `next_cursor` from page 1.
    async fn walk_users(&self, filter: &UserFilter, size: u64) -> Vec<String> {
        let mut page = self.users_page(filter, PageRequest::new(1, size).expect("page")).await.expect("page 1");
        let mut seen = names(&page);
        while let Some(cursor) = page.next_cursor.clone() {
            page = self.users_page(filter, PageRequest::after(cursor, size).expect("request")).await.expect("page");
            assert_eq!((page.total, page.page, page.pages, page.has_previous), (None, None, None, true));
            seen.extend(names(&page));
        }
        seen
    }
}

#[tokio::test]
async fn walking_users_by_cursor_gives_the_numbered_order_in_every_sort() {
    let l = lists().await;
    for sort in UserSort::NAMES.map(|n| n.parse::<UserSort>().expect("sort")) {
        for is_active in [None, Some(true)] {
            let filter = UserFilter { sort, is_active, ..UserFilter::default() };
            let all = l.users_page(&filter, PageRequest::new(1, 100).expect("page")).await.expect("all");
            for size in [1, 2, 4] {
                assert_eq!(l.walk_users(&filter, size).await, names(&all), "{sort:?} {is_active:?}, {size} a page");
            }
        }
    }
}

#[tokio::test]
async fn a_cursor_changed_or_sent_to_another_sort_filter_or_list_is_refused() {
    let l = lists().await;
    let by_name = UserFilter { sort: UserSort::Username, ..UserFilter::default() };
    let first = l.users_page(&by_name, PageRequest::new(1, 2).expect("page")).await.expect("page 1");
    let cursor = first.next_cursor.expect("more follow");
    let again = |cursor: &str| PageRequest::after(cursor, 2).expect("request");
    assert!(l.users_page(&by_name, again(&cursor)).await.is_ok(), "its own list takes it");

    // Every single-character change of the cursor is refused.
    for i in 0..cursor.len() {
        let mut changed = cursor.clone().into_bytes();
        changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(changed).expect("ascii");
        let outcome = l.users_page(&by_name, again(&changed)).await;
        assert!(matches!(outcome, Err(ServiceError::BadCursor)), "character {i} changed: {outcome:?}");
    }
    for other in [
        UserFilter { sort: UserSort::UsernameDesc, ..UserFilter::default() },
        UserFilter { sort: UserSort::Email, ..UserFilter::default() },
        UserFilter { q: Some("a".into()), ..by_name.clone() },
        UserFilter { is_active: Some(true), ..by_name.clone() },
    ] {
        let outcome = l.users_page(&other, again(&cursor)).await;
        assert!(matches!(outcome, Err(ServiceError::BadCursor)), "{other:?}: {outcome:?}");
    }
    // The search is compared as the list applies it: trimmed and lowercased.
    let searched = UserFilter { q: Some("A".into()), ..by_name.clone() };
    let page = l.users_page(&searched, PageRequest::new(1, 1).expect("page")).await.expect("page");
    let searched_cursor = page.next_cursor.expect("more follow");
    let same = UserFilter { q: Some(" a ".into()), ..by_name.clone() };
    assert!(l.users_page(&same, again(&searched_cursor)).await.is_ok(), "the same search, written otherwise");

    let products = l.catalog.list(None, again(&cursor)).await;
    assert!(matches!(products, Err(ServiceError::BadCursor)), "a users cursor on products: {products:?}");
    let page = l.catalog.list(None, PageRequest::new(1, 2).expect("page")).await.expect("products");
    let product_cursor = page.next_cursor.expect("more products");
    let users = l.users_page(&UserFilter::default(), again(&product_cursor)).await;
    assert!(matches!(users, Err(ServiceError::BadCursor)), "a products cursor on users: {users:?}");
    let searched = l.catalog.list(Some("thing"), again(&product_cursor)).await;
    assert!(matches!(searched, Err(ServiceError::BadCursor)), "another search: {searched:?}");
}

#[tokio::test]
async fn one_users_orders_cursor_does_not_open_on_anothers_list() {
    let l = lists().await;
    let product = l.catalog.list(None, PageRequest::default()).await.expect("products").items[0].id;
    let line = [OrderLine { product_id: product, quantity: 1 }];
    let find = |name: &'static str| UserRepository::find_by_login(&*l.store, name);
    let first = find("mia").await.expect("find").expect("mia");
    let second = find("bob").await.expect("find").expect("bob");
    let (first, second) = (&first, &second);
    for _ in 0..3 {
        l.orders.place(first, &line).await.expect("order");
    }
    let everything = DateRange::default();
    let page = l.orders.list(first, None, everything, PageRequest::new(1, 1).expect("page")).await.expect("orders");
    let cursor = page.next_cursor.expect("more orders");
    let again = PageRequest::after(cursor, 1).expect("request");
    assert_eq!(l.orders.list(first, None, everything, again.clone()).await.expect("own").items.len(), 1);
    let theirs = l.orders.list(second, None, everything, again.clone()).await;
    assert!(matches!(theirs, Err(ServiceError::BadCursor)), "another user: {theirs:?}");
    let admin_all = l.orders.list(&l.admin, None, everything, again.clone()).await;
    assert!(matches!(admin_all, Err(ServiceError::BadCursor)), "the admin's list of everyone's: {admin_all:?}");
    let admin_one = l.orders.list(&l.admin, Some(first.id), everything, again).await;
    assert!(admin_one.is_ok(), "the admin's list of that user's orders is the same list: {admin_one:?}");
}
