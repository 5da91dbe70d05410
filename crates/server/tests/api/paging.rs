//! Keyset paging over HTTP on every paginated list (users, products, orders): a walk by
//! `next_cursor` gives every item once in the list's order, a cursor page is not counted, and a
//! cursor that is garbage, tampered with, or from another list, sort, filter or user is 422 on
//! `query.cursor`; `page` with `cursor` is 422 on `query.page`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_shape, fields};

const SORTS: [&str; 6] = ["created_at", "-created_at", "username", "-username", "email", "-email"];

async fn page(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let res = app.get(path, token).await;
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.expect("json")
}

/// `key` of every item of `list` (a path with its query), following `next_cursor` from page 1;
/// also checks what every page by cursor says about itself.
async fn walk(app: &TestApp, list: &str, token: Option<&str>, key: &str) -> Vec<String> {
    let text = |item: &Value| item[key].as_str().map_or_else(|| item[key].to_string(), str::to_owned);
    let first = page(app, list, token).await;
    assert!(first["total"].is_u64() && first["page"] == 1, "page 1 is counted: {first}");
    let mut seen: Vec<String> = first["items"].as_array().expect("items").iter().map(text).collect();
    let mut next = first["next_cursor"].as_str().map(str::to_owned);
    assert_eq!(next.is_some(), first["has_next"] == true, "page 1 offers a cursor exactly when more follow");
    while let Some(cursor) = next {
        let later = page(app, &format!("{list}&cursor={cursor}"), token).await;
        assert!(
            later["total"].is_null() && later["page"].is_null() && later["pages"].is_null(),
            "a page by cursor is not counted: {later}"
        );
        assert_eq!(later["has_previous"], true, "{later}");
        seen.extend(later["items"].as_array().expect("items").iter().map(text));
        next = later["next_cursor"].as_str().map(str::to_owned);
        assert_eq!(next.is_some(), later["has_next"] == true, "{later}");
    }
    seen
}

/// `key` of every item, in one offset page.
async fn everything(app: &TestApp, list: &str, token: Option<&str>, key: &str) -> Vec<String> {
    let all = page(app, &format!("{list}&page_size=100"), token).await;
    assert_eq!(all["has_next"], false, "one page holds the whole list: {all}");
    all["items"].as_array().expect("items").iter().map(|i| i[key].as_str().expect("key").to_owned()).collect()
}

async fn refused(app: &TestApp, path: &str, token: Option<&str>, field: &str, code: &str) {
    let body = error_shape(app.get(path, token).await, 422).await;
    assert_eq!(fields(&body), vec![field.to_owned()], "{path}: {body}");
    assert_eq!(body["errors"][0]["code"], code, "{path}: {body}");
}

async fn some_users(app: &TestApp, admin: &Tokens) {
    // Names whose byte order is not a dictionary's: `-` and `_` before digits and letters.
    let names = ["a-b", "a_c", "ab0", "abc", "ab-", "a0z", "zz9", "-xa", "_xa", "xa-", "carol"];
    let batch: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"username": n, "email": format!("{}{i}@example.com", n.replace('a', "e")), "password": "Password123"}))
        .collect();
    let res = app.post_json("/api/v1/users/batch", Some(&admin.access), &Value::Array(batch)).await;
    assert_eq!(res.status(), 201);
}

#[actix_web::test]
async fn the_users_list_walks_by_cursor_in_every_sort_as_its_offset_pages_order_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    some_users(&app, &admin).await;
    for sort in SORTS {
        let list = format!("/api/v1/users?sort={sort}");
        let expected = everything(&app, &list, Some(&admin.access), "username").await;
        assert_eq!(expected.len(), 12);
        for size in [1, 5] {
            let walked = walk(&app, &format!("{list}&page_size={size}"), Some(&admin.access), "username").await;
            assert_eq!(walked, expected, "sort={sort}, {size} a page");
        }
    }
    // Filters carry on: the same filters with the cursor continue the filtered list.
    let list = "/api/v1/users?sort=-username&q=a&is_active=true&page_size=2";
    let walked = walk(&app, list, Some(&admin.access), "username").await;
    assert_eq!(
        walked,
        everything(&app, "/api/v1/users?sort=-username&q=a&is_active=true", Some(&admin.access), "username").await
    );
}

#[actix_web::test]
async fn products_and_orders_walk_by_cursor_newest_first_and_a_newcomer_shifts_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut product_ids = Vec::new();
    for i in 0..7 {
        let res = app
            .post_json("/api/v1/products", Some(&admin.access), &json!({"name": format!("Walker {i}"), "price": 1}))
            .await;
        assert_eq!(res.status(), 201);
        product_ids.push(res.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned());
    }
    let expected = everything(&app, "/api/v1/products?q=walker", None, "id").await;
    assert_eq!(expected.len(), 7);
    assert_eq!(walk(&app, "/api/v1/products?q=walker&page_size=2", None, "id").await, expected);

    // A product added after the first page sorts first (newest): the cursor still continues
    // right after the last product that page showed, where an offset would repeat one.
    let first = page(&app, "/api/v1/products?page_size=3", None).await;
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();
    let res = app.post_json("/api/v1/products", Some(&admin.access), &json!({"name": "Newcomer", "price": 2})).await;
    assert_eq!(res.status(), 201);
    let next = page(&app, &format!("/api/v1/products?page_size=3&cursor={cursor}"), None).await;
    let ids: Vec<&str> =
        next["items"].as_array().expect("items").iter().map(|p| p["id"].as_str().expect("id")).collect();
    assert_eq!(ids, expected[3..6].iter().map(String::as_str).collect::<Vec<_>>());
    let offset = page(&app, "/api/v1/products?page_size=3&page=2", None).await;
    assert_eq!(offset["items"][0]["id"].as_str(), Some(expected[2].as_str()), "an offset page shifts by one");

    let (buyer, tokens) = app.user("walker").await;
    for _ in 0..5 {
        let line = json!({"items": [{"product_id": product_ids[0], "quantity": 1}]});
        assert_eq!(app.post_json("/api/v1/orders", Some(&tokens.access), &line).await.status(), 201);
    }
    let mine = everything(&app, "/api/v1/orders?page=1", Some(&tokens.access), "id").await;
    assert_eq!(mine.len(), 5);
    assert_eq!(walk(&app, "/api/v1/orders?page_size=2", Some(&tokens.access), "id").await, mine);
    let theirs = format!("/api/v1/orders?user_id={}&page_size=2", buyer["id"].as_str().expect("id"));
    assert_eq!(walk(&app, &theirs, Some(&admin.access), "id").await, mine, "an admin walks one user's orders");
}

#[actix_web::test]
async fn a_cursor_that_is_garbage_tampered_or_made_for_another_list_is_422_on_query_cursor() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    some_users(&app, &admin).await;
    for i in 0..3 {
        let body = json!({"name": format!("Item {i}"), "price": 1});
        assert_eq!(app.post_json("/api/v1/products", Some(&admin.access), &body).await.status(), 201);
    }
    let a = Some(admin.access.as_str());
    let cursor_of = |page: Value| page["next_cursor"].as_str().expect("a next page").to_owned();
    let users = cursor_of(page(&app, "/api/v1/users?sort=username&page_size=2", a).await);
    let products = cursor_of(page(&app, "/api/v1/products?page_size=1", None).await);
    let audit = cursor_of(page(&app, "/api/v1/audit-events?limit=1", a).await);
    let (payload, mac) = users.split_once('.').expect("payload.mac");
    let mut bytes = payload.as_bytes().to_vec();
    bytes[payload.len() / 2] = if bytes[payload.len() / 2] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{}.{mac}", String::from_utf8(bytes).expect("ascii"));

    // The same list, sort and filter accepts it, with any page size.
    assert_eq!(
        page(&app, &format!("/api/v1/users?sort=username&page_size=7&cursor={users}"), a).await["items"][0]["username"],
        "a-b"
    );

    for path in [
        "/api/v1/users?cursor=garbage".to_owned(),
        "/api/v1/users?cursor=".to_owned(),
        format!("/api/v1/users?sort=username&cursor={tampered}"),
        format!("/api/v1/users?sort=username&cursor={payload}"),
        format!("/api/v1/users?sort=-username&cursor={users}"),
        format!("/api/v1/users?sort=email&cursor={users}"),
        format!("/api/v1/users?cursor={users}"),
        format!("/api/v1/users?sort=username&q=a&cursor={users}"),
        format!("/api/v1/users?sort=username&is_active=true&cursor={users}"),
        format!("/api/v1/users?cursor={products}"),
        format!("/api/v1/users?cursor={audit}"),
        format!("/api/v1/orders?cursor={users}"),
        format!("/api/v1/audit-events?cursor={users}"),
    ] {
        refused(&app, &path, a, "query.cursor", "cursor_invalid").await;
    }
    refused(&app, &format!("/api/v1/products?cursor={users}"), None, "query.cursor", "cursor_invalid").await;
    refused(&app, &format!("/api/v1/products?q=item&cursor={products}"), None, "query.cursor", "cursor_invalid").await;

    // One user's orders cursor is not another's.
    let item = page(&app, "/api/v1/products?page_size=1", None).await["items"][0]["id"].clone();
    let (_, first) = app.user("first").await;
    let (_, second) = app.user("second").await;
    for _ in 0..2 {
        let line = json!({"items": [{"product_id": item, "quantity": 1}]});
        assert_eq!(app.post_json("/api/v1/orders", Some(&first.access), &line).await.status(), 201);
    }
    let orders = cursor_of(page(&app, "/api/v1/orders?page_size=1", Some(&first.access)).await);
    refused(&app, &format!("/api/v1/orders?cursor={orders}"), Some(&second.access), "query.cursor", "cursor_invalid")
        .await;
    refused(&app, &format!("/api/v1/orders?cursor={orders}"), a, "query.cursor", "cursor_invalid").await;
}

#[actix_web::test]
async fn page_with_cursor_is_422_on_query_page_and_every_page_offers_a_cursor() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    some_users(&app, &admin).await;
    let a = Some(admin.access.as_str());
    let third = page(&app, "/api/v1/users?page=3&page_size=2", a).await;
    let cursor = third["next_cursor"].as_str().expect("an offset page offers a cursor too").to_owned();
    assert_eq!((third["total"].as_u64(), third["pages"].as_u64()), (Some(12), Some(6)));
    for path in [
        format!("/api/v1/users?page=4&page_size=2&cursor={cursor}"),
        format!("/api/v1/users?page=1&cursor={cursor}"),
        // Checked before the cursor is opened, so any cursor will do on the other lists.
        format!("/api/v1/products?page=2&cursor={cursor}"),
        format!("/api/v1/orders?page=2&cursor={cursor}"),
    ] {
        refused(&app, &path, a, "query.page", "page_with_cursor").await;
    }
    // The cursor of page 3 continues exactly where page 4 starts.
    let by_cursor = page(&app, &format!("/api/v1/users?page_size=2&cursor={cursor}"), a).await;
    let by_number = page(&app, "/api/v1/users?page=4&page_size=2", a).await;
    assert_eq!(by_cursor["items"], by_number["items"]);
    assert_eq!(by_cursor["next_cursor"].is_string(), by_number["next_cursor"].is_string());
    let last = page(&app, "/api/v1/users?page=6&page_size=2", a).await;
    assert_eq!((last["has_next"].as_bool(), last["next_cursor"].is_null()), (Some(false), true), "{last}");
}
