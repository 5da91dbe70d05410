use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_shape, fields};

async fn product(app: &TestApp, admin: &Tokens, name: &str, price: f64, tax: f64) -> Value {
    let res = app
        .post_json("/api/v1/products", Some(&admin.access), &json!({"name": name, "price": price, "tax_rate": tax}))
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.expect("json")
}

async fn order(app: &TestApp, who: &Tokens, items: Value) -> reqwest::Response {
    app.post_json("/api/v1/orders", Some(&who.access), &json!({"items": items})).await
}

#[actix_web::test]
async fn products_are_exact_money_written_by_admins_and_catalog_managers_read_by_anyone() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let lamp = product(&app, &admin, "Desk lamp", 19.99, 0.2).await;
    assert_eq!(
        (lamp["price"].as_f64(), lamp["tax_rate"].as_f64(), lamp["price_with_tax"].as_f64()),
        (Some(19.99), Some(0.2), Some(23.99))
    );
    let cheap = product(&app, &admin, "Clip", 0.05, 0.1).await;
    assert_eq!(cheap["price_with_tax"].as_f64(), Some(0.06), "0.055 rounds half-even to 0.06");
    let default_tax: Value = app
        .post_json("/api/v1/products", Some(&admin.access), &json!({"name": "Pen", "price": 1}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(default_tax["tax_rate"].as_f64(), Some(0.1));

    let (plain_user, plain) = app.user("shopper").await;
    error_shape(app.post_json("/api/v1/products", Some(&plain.access), &json!({"name": "X", "price": 1})).await, 403)
        .await;
    error_shape(app.post_json("/api/v1/products", None, &json!({"name": "X", "price": 1})).await, 401).await;
    let id = plain_user["id"].as_str().expect("id");
    app.send_json(
        Method::PUT,
        &format!("/api/v1/users/{id}/permissions"),
        Some(&admin.access),
        &json!({"permissions": ["catalog_manager"]}),
    )
    .await;
    assert_eq!(
        app.post_json("/api/v1/products", Some(&plain.access), &json!({"name": "Mug", "price": 7.5})).await.status(),
        201
    );

    let page: Value = app.get("/api/v1/products?page_size=2", None).await.json().await.expect("json");
    assert_eq!(
        (page["total"].as_u64(), page["pages"].as_u64(), page["items"].as_array().map(Vec::len)),
        (Some(4), Some(2), Some(2))
    );
    let found: Value = app.get("/api/v1/products?q=LAMP", None).await.json().await.expect("json");
    assert_eq!(found["items"][0]["name"], "Desk lamp");
    let lamp_id = lamp["id"].as_str().expect("id");
    assert_eq!(app.get(&format!("/api/v1/products/{lamp_id}"), None).await.status(), 200);
    error_shape(app.get(&format!("/api/v1/products/{}", uuid::Uuid::now_v7()), None).await, 404).await;
}

#[actix_web::test]
async fn bad_product_bodies_list_every_failing_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let res = app
        .post_json("/api/v1/products", Some(&admin.access), &json!({"name": "", "price": 1.005, "tax_rate": 1.5}))
        .await;
    let body = error_shape(res, 422).await;
    assert_eq!(fields(&body), vec!["body.name", "body.price", "body.tax_rate"]);
    let codes: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().map(|e| e["code"].as_str().expect("code")).collect();
    assert!(codes.contains(&"money_too_precise") && codes.contains(&"tax_rate_out_of_range"), "{codes:?}");
    let body = error_shape(
        app.post_json("/api/v1/products", Some(&admin.access), &json!({"name": "N", "price": -1})).await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "money_negative");
    // Exact money however the number is written: a tiny exponent is not rounded to 0.00.
    for (raw, code) in [
        ("2.5890419884777833e-42", "money_too_precise"),
        ("1e-3", "money_too_precise"),
        ("0.12345678901234567", "money_too_precise"),
        ("1e30", "money_too_large"),
    ] {
        let res = app
            .request(reqwest::Method::POST, "/api/v1/products", Some(&admin.access))
            .header("content-type", "application/json")
            .body(format!("{{\"name\": \"Tiny\", \"price\": {raw}}}"))
            .send()
            .await
            .expect("send");
        let body = error_shape(res, 422).await;
        assert_eq!(
            (body["errors"][0]["field"].as_str(), body["errors"][0]["code"].as_str()),
            (Some("body.price"), Some(code)),
            "{raw}"
        );
    }
    let res = app
        .request(reqwest::Method::POST, "/api/v1/products", Some(&admin.access))
        .header("content-type", "application/json")
        .body(r#"{"name": "Exp", "price": 1.5e2}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<serde_json::Value>().await.expect("json")["price"], 150.0);
    let body = error_shape(
        app.post_json("/api/v1/products", Some(&admin.access), &json!({"name": "N", "price": "5"})).await,
        422,
    )
    .await;
    assert_eq!(fields(&body), vec!["body.price"]);
}

#[actix_web::test]
async fn products_are_patched_and_deleted_by_the_catalog_side_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let lamp = product(&app, &admin, "Lamp", 10.0, 0.1).await;
    let path = format!("/api/v1/products/{}", lamp["id"].as_str().expect("id"));
    let patched: Value = app
        .send_json(Method::PATCH, &path, Some(&admin.access), &json!({"price": 12.5}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (patched["price"].as_f64(), patched["name"].as_str(), patched["price_with_tax"].as_f64()),
        (Some(12.5), Some("Lamp"), Some(13.75))
    );
    let body =
        error_shape(app.send_json(Method::PATCH, &path, Some(&admin.access), &json!({"colour": "red"})).await, 422)
            .await;
    assert_eq!(fields(&body), vec!["body.colour"]);
    let (_, plain) = app.user("nosy").await;
    error_shape(app.send_json(Method::PATCH, &path, Some(&plain.access), &json!({"price": 1})).await, 403).await;
    error_shape(app.request(Method::DELETE, &path, Some(&plain.access)).send().await.expect("send"), 403).await;
    assert_eq!(app.request(Method::DELETE, &path, Some(&admin.access)).send().await.expect("send").status(), 204);
    error_shape(app.request(Method::DELETE, &path, Some(&admin.access)).send().await.expect("send"), 404).await;
}

#[actix_web::test]
async fn an_order_copies_prices_at_order_time_and_totals_exactly() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let lamp = product(&app, &admin, "Lamp", 19.99, 0.2).await;
    let clip = product(&app, &admin, "Clip", 0.01, 0.1).await;
    let (me, tokens) = app.user("buyer").await;
    let res = order(
        &app,
        &tokens,
        json!([{"product_id": lamp["id"], "quantity": 3}, {"product_id": clip["id"], "quantity": 1000}]),
    )
    .await;
    assert_eq!(res.status(), 201);
    let placed: Value = res.json().await.expect("json");
    assert_eq!((placed["total"].as_f64(), placed["status"].as_str()), (Some(69.97), Some("pending")));
    assert_eq!(placed["user_id"], me["id"]);
    assert_eq!(
        placed["items"][0],
        json!({"product_id": lamp["id"], "name": "Lamp", "unit_price": 19.99, "quantity": 3})
    );
    // A later price change leaves the order as it was.
    let path = format!("/api/v1/products/{}", lamp["id"].as_str().expect("id"));
    app.send_json(Method::PATCH, &path, Some(&admin.access), &json!({"price": 99})).await;
    let again: Value = app
        .get(&format!("/api/v1/orders/{}", placed["id"].as_str().expect("id")), Some(&tokens.access))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["items"][0]["unit_price"].as_f64(), Some(19.99));
    assert_eq!(again["total"].as_f64(), Some(69.97));
}

#[actix_web::test]
async fn bad_orders_name_the_failing_item() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let lamp = product(&app, &admin, "Lamp", 5.0, 0.1).await;
    let (_, tokens) = app.user("picky").await;
    let ghost = uuid::Uuid::now_v7();
    let body = error_shape(
        order(&app, &tokens, json!([{"product_id": lamp["id"], "quantity": 1}, {"product_id": ghost, "quantity": 1}]))
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&body), vec!["body.items.1.product_id"]);
    assert_eq!(body["errors"][0]["code"], "product_unknown");
    error_shape(order(&app, &tokens, json!([])).await, 422).await;
    let too_many: Vec<Value> = (0..51).map(|_| json!({"product_id": lamp["id"], "quantity": 1})).collect();
    let body = error_shape(order(&app, &tokens, Value::Array(too_many)).await, 422).await;
    assert_eq!(fields(&body), vec!["body.items"]);
    let body = error_shape(
        order(
            &app,
            &tokens,
            json!([{"product_id": lamp["id"], "quantity": 0}, {"product_id": "nope", "quantity": 1001}]),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&body), vec!["body.items.0.quantity", "body.items.1.product_id", "body.items.1.quantity"]);
    let page: Value = app.get("/api/v1/orders", Some(&tokens.access)).await.json().await.expect("json");
    assert_eq!(page["total"], 0, "nothing was created");
}

#[actix_web::test]
async fn orders_are_private_to_their_owner_and_visible_to_admins() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let lamp = product(&app, &admin, "Lamp", 5.0, 0.1).await;
    let (alice, a) = app.user("alice").await;
    let (_, b) = app.user("bobby").await;
    let mine: Value =
        order(&app, &a, json!([{"product_id": lamp["id"], "quantity": 1}])).await.json().await.expect("json");
    order(&app, &b, json!([{"product_id": lamp["id"], "quantity": 2}])).await;
    let path = format!("/api/v1/orders/{}", mine["id"].as_str().expect("id"));

    let own: Value = app.get("/api/v1/orders", Some(&a.access)).await.json().await.expect("json");
    assert_eq!(own["total"], 1);
    error_shape(app.get(&path, Some(&b.access)).await, 404).await;
    assert_eq!(app.get(&path, Some(&admin.access)).await.status(), 200);
    let all: Value = app.get("/api/v1/orders", Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(all["total"], 2);
    let alice_id = alice["id"].as_str().expect("id");
    let one: Value =
        app.get(&format!("/api/v1/orders?user_id={alice_id}"), Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(one["total"], 1);
    error_shape(app.get(&format!("/api/v1/orders?user_id={alice_id}"), Some(&b.access)).await, 403).await;
    error_shape(app.get("/api/v1/orders", None).await, 401).await;
}

#[actix_web::test]
async fn the_date_range_must_run_forwards_and_filters_the_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let lamp = product(&app, &admin, "Lamp", 5.0, 0.1).await;
    let (_, a) = app.user("dated").await;
    order(&app, &a, json!([{"product_id": lamp["id"], "quantity": 1}])).await;
    let body = error_shape(
        app.get("/api/v1/orders?start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", Some(&a.access)).await,
        422,
    )
    .await;
    assert_eq!(fields(&body), vec!["query.end_date", "query.start_date"]);
    let body = error_shape(app.get("/api/v1/orders?start_date=yesterday", Some(&a.access)).await, 422).await;
    assert_eq!(fields(&body), vec!["query.start_date"]);
    let past: Value = app
        .get("/api/v1/orders?start_date=2020-01-01T00:00:00Z&end_date=2021-01-01T00:00:00Z", Some(&a.access))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(past["total"], 0);
    let now: Value =
        app.get("/api/v1/orders?start_date=2020-01-01T00:00:00Z", Some(&a.access)).await.json().await.expect("json");
    assert_eq!(now["total"], 1);
}

#[actix_web::test]
async fn only_a_pending_order_can_be_cancelled_by_its_owner_or_an_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let lamp = product(&app, &admin, "Lamp", 5.0, 0.1).await;
    let (_, a) = app.user("canceller").await;
    let (_, b) = app.user("stranger").await;
    let placed: Value =
        order(&app, &a, json!([{"product_id": lamp["id"], "quantity": 1}])).await.json().await.expect("json");
    let cancel = format!("/api/v1/orders/{}/cancel", placed["id"].as_str().expect("id"));
    error_shape(app.request(Method::POST, &cancel, Some(&b.access)).send().await.expect("send"), 404).await;
    let done: Value =
        app.request(Method::POST, &cancel, Some(&a.access)).send().await.expect("send").json().await.expect("json");
    assert_eq!(done["status"], "cancelled");
    error_shape(app.request(Method::POST, &cancel, Some(&a.access)).send().await.expect("send"), 409).await;
    let other: Value =
        order(&app, &a, json!([{"product_id": lamp["id"], "quantity": 1}])).await.json().await.expect("json");
    let cancel = format!("/api/v1/orders/{}/cancel", other["id"].as_str().expect("id"));
    assert_eq!(app.request(Method::POST, &cancel, Some(&admin.access)).send().await.expect("send").status(), 200);
}

#[actix_web::test]
async fn preferences_default_then_persist_for_self_or_admin() {
    let app = TestApp::spawn().await;
    let (me, tokens) = app.user("prefs").await;
    let path = format!("/api/v1/users/{}/preferences", me["id"].as_str().expect("id"));
    let defaults: Value = app.get(&path, Some(&tokens.access)).await.json().await.expect("json");
    assert_eq!(defaults, json!({"theme": "system", "language": "en", "notifications_enabled": true}));
    let wanted = json!({"theme": "dark", "language": "pt-BR", "notifications_enabled": false});
    let saved: Value =
        app.send_json(Method::PUT, &path, Some(&tokens.access), &wanted).await.json().await.expect("json");
    assert_eq!(saved, wanted);
    assert_eq!(app.get(&path, Some(&tokens.access)).await.json::<Value>().await.expect("json"), wanted);
    let body = error_shape(
        app.send_json(
            Method::PUT,
            &path,
            Some(&tokens.access),
            &json!({"theme": "neon", "language": "english!", "notifications_enabled": 1}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&body), vec!["body.language", "body.notifications_enabled", "body.theme"]);
    let (_, other) = app.user("peeker").await;
    error_shape(app.get(&path, Some(&other.access)).await, 403).await;
    error_shape(app.send_json(Method::PUT, &path, Some(&other.access), &wanted).await, 403).await;
    let admin = app.admin().await;
    assert_eq!(app.get(&path, Some(&admin.access)).await.status(), 200);
    let missing = format!("/api/v1/users/{}/preferences", uuid::Uuid::now_v7());
    error_shape(app.get(&missing, Some(&admin.access)).await, 404).await;
    error_shape(app.send_json(Method::PUT, &missing, Some(&admin.access), &wanted).await, 404).await;
}

#[actix_web::test]
async fn related_joins_user_orders_and_preferences_and_deleting_the_user_removes_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let lamp = product(&app, &admin, "Lamp", 5.0, 0.1).await;
    let (me, tokens) = app.user("related").await;
    let id = me["id"].as_str().expect("id");
    let related = format!("/api/v1/users/{id}/related");
    let empty: Value = app.get(&related, Some(&tokens.access)).await.json().await.expect("json");
    assert_eq!((empty["user"]["id"].as_str(), empty["orders"].as_array().map(Vec::len)), (Some(id), Some(0)));
    assert!(empty["preferences"].is_null());
    order(&app, &tokens, json!([{"product_id": lamp["id"], "quantity": 1}])).await;
    let prefs = json!({"theme": "light", "language": "en", "notifications_enabled": true});
    app.send_json(Method::PUT, &format!("/api/v1/users/{id}/preferences"), Some(&tokens.access), &prefs).await;
    let full: Value = app.get(&related, Some(&admin.access)).await.json().await.expect("json");
    assert_eq!((full["orders"].as_array().map(Vec::len), &full["preferences"]), (Some(1), &prefs));
    let (_, other) = app.user("outsider").await;
    error_shape(app.get(&related, Some(&other.access)).await, 403).await;
    error_shape(app.get(&format!("/api/v1/users/{}/related", uuid::Uuid::now_v7()), Some(&admin.access)).await, 404)
        .await;

    assert_eq!(
        app.request(Method::DELETE, &format!("/api/v1/users/{id}"), Some(&admin.access))
            .send()
            .await
            .expect("send")
            .status(),
        204
    );
    let orders: Value =
        app.get(&format!("/api/v1/orders?user_id={id}"), Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(orders["total"], 0, "the user's orders went with them");
    error_shape(app.get(&format!("/api/v1/users/{id}/preferences"), Some(&admin.access)).await, 404).await;
}
