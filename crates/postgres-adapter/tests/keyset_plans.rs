//! What PostgreSQL does with the statements the lists send for a page 50,000 rows deep by cursor,
//! on 100,000 users, products and orders: `EXPLAIN ANALYZE` of the very statements the adapter
//! ran (recorded as it ran them), for every sort. Each must be an index range scan that reads
//! about one page of rows, with no sequential scan, no full sort and no `COUNT`.
//! `cargo test -p hexgate-postgres-adapter --test keyset_plans -- --nocapture` prints the plans.

mod support;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use hexgate_domain::{Position, Slice, User, UserFilter, UserSort, Window};
use hexgate_ports::{OrderFilter, OrderRepository, ProductRepository, UserRepository};
use hexgate_postgres_adapter::{DatabaseConnection, SqlOrderRepository, SqlProductRepository, SqlUserRepository};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

const ROWS: u64 = 100_000;
const DEPTH: u64 = 50_000;
const PAGE: u64 = 21;

/// 100,000 of each, made by the database itself in a few seconds. One created_at in three is
/// shared by three rows (ties), one user in seven is inactive; orders belong to 100 users.
async fn seed(db: &DatabaseConnection) {
    for sql in [
        "INSERT INTO users (id, email, username, full_name, password_hash, is_active, is_verified, permissions,
                            created_at, updated_at)
         SELECT gen_random_uuid(), md5(i::text) || '@example.com', 'u' || substr(md5('u' || i), 1, 12) || i,
                'Name ' || i, 'x', i % 7 <> 0, false, 0,
                timestamptz '2026-01-01' + (i / 3) * interval '1 ms', timestamptz '2026-01-01'
         FROM generate_series(1, 100000) AS i",
        "INSERT INTO products (id, name, price, tax_rate, created_at, updated_at)
         SELECT gen_random_uuid(), 'Product ' || i, 1.00, 0.1, timestamptz '2026-01-01' + (i / 3) * interval '1 ms',
                timestamptz '2026-01-01'
         FROM generate_series(1, 100000) AS i",
        "INSERT INTO orders (id, user_id, status, total, created_at)
         SELECT gen_random_uuid(), u.id, 'pending', 1.00, timestamptz '2026-01-01' + (i / 3) * interval '1 ms'
         FROM generate_series(1, 100000) AS i
         JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users ORDER BY id LIMIT 100) u ON u.n = i % 100",
        "ANALYZE",
    ] {
        db.execute_unprepared(sql).await.expect("seed");
    }
}

/// A connection that records every statement it runs.
fn recording(mut db: DatabaseConnection) -> (DatabaseConnection, Arc<Mutex<Vec<Statement>>>) {
    let ran = Arc::new(Mutex::new(Vec::new()));
    let log = ran.clone();
    db.set_metric_callback(move |info| log.lock().expect("log").push(info.statement.clone()));
    (db, ran)
}

/// `EXPLAIN ANALYZE` of the first statement `ran` recorded (the list's SELECT), checked, printed and
/// returned; every statement recorded is checked to count nothing.
async fn explain(db: &DatabaseConnection, ran: &Mutex<Vec<Statement>>, what: &str) -> String {
    let statements: Vec<Statement> = std::mem::take(&mut *ran.lock().expect("log"));
    assert!(statements.iter().all(|s| !s.sql.to_uppercase().contains("COUNT(")), "{what}: nothing counted");
    let select = statements.first().unwrap_or_else(|| panic!("{what}: no statement ran"));
    let analyze = Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {}", select.sql),
        select.values.clone().map(|v| v.0).unwrap_or_default(),
    );
    let lines: Vec<String> = db
        .query_all_raw(analyze)
        .await
        .expect("explain")
        .iter()
        .map(|row| row.try_get::<String>("", "QUERY PLAN").expect("plan line"))
        .collect();
    let plan = lines.join("\n");
    println!("--- {what}\n{}\n{plan}\n", select.sql);
    assert!(!plan.contains("Seq Scan") && !plan.contains("Bitmap"), "{what}: a scan of the table\n{plan}");
    // A plan node is a line's first words; an Incremental Sort over an index already in the
    // sort column's order only orders each group of equal names by id (one row each: unique).
    let node = |l: &String| l.trim_start().trim_start_matches("->").trim_start().to_owned();
    let full_sort = lines.iter().map(node).any(|n| n.starts_with("Sort (") || n.starts_with("Sort  ("));
    assert!(!full_sort, "{what}: a sort of every row\n{plan}");
    assert!(plan.contains("Index Cond"), "{what}: no index range\n{plan}");
    // Rows the index scan produced: about one page (plus what a filter dropped), never the depth.
    let scanned: u64 = lines
        .iter()
        .filter(|l| l.contains("Index Scan"))
        .filter_map(|l| l.split("rows=").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?.parse::<u64>().ok())
        .sum();
    let dropped: u64 =
        lines.iter().filter_map(|l| l.split("Rows Removed by Filter: ").nth(1)?.trim().parse::<u64>().ok()).sum();
    assert!(scanned > 0 && scanned + dropped <= 3 * PAGE, "{what}: {scanned} rows read, {dropped} dropped\n{plan}");
    plan
}

#[tokio::test]
async fn a_page_fifty_thousand_rows_deep_by_cursor_is_an_index_range_read_of_one_page() {
    support::on_postgres("", |pools| async move {
        // One connection pool, the recorded one: what is explained is what the adapter sent.
        let db = pools.primary().clone();
        seed(&db).await;
        let (recorded, ran) = recording(db.clone());
        let users = SqlUserRepository::new(recorded.clone());
        for sort in [
            UserSort::CreatedAt,
            UserSort::CreatedAtDesc,
            UserSort::Username,
            UserSort::UsernameDesc,
            UserSort::Email,
            UserSort::EmailDesc,
        ] {
            for is_active in [None, Some(true)] {
                let filter = UserFilter { sort, is_active, ..UserFilter::default() };
                let deep = Window::Offset { offset: DEPTH, limit: 1 };
                let at: Slice<User> = users.list(&filter, deep).await.expect("the row 50,000 deep");
                let last = at.items.first().expect("a row that deep");
                ran.lock().expect("log").clear();
                let after = Position { key: sort.key_of(last), id: last.id.as_uuid() };
                let page = users.list(&filter, Window::After { after, limit: PAGE }).await.expect("page");
                assert_eq!((page.items.len() as u64, page.total), (PAGE, None));
                explain(&db, &ran, &format!("users sort={} is_active={is_active:?}", sort.name())).await;
            }
        }

        let products = SqlProductRepository::new(recorded.clone());
        let at = products.list(None, Window::Offset { offset: DEPTH, limit: 1 }).await.expect("deep");
        let last = at.items.first().expect("a product that deep");
        ran.lock().expect("log").clear();
        let after = Position { key: last.created_at, id: last.id.0 };
        products.list(None, Window::After { after, limit: PAGE }).await.expect("page");
        explain(&db, &ran, "products").await;

        let orders = SqlOrderRepository::new(recorded);
        let one_user =
            orders.list(&OrderFilter::default(), Window::Offset { offset: 0, limit: 1 }).await.expect("an order").items
                [0]
            .user_id;
        for (filter, depth) in [
            (OrderFilter::default(), DEPTH),
            (OrderFilter { user: Some(one_user), ..OrderFilter::default() }, ROWS / 100 / 2),
        ] {
            let at = orders.list(&filter, Window::Offset { offset: depth, limit: 1 }).await.expect("deep");
            let last = at.items.first().expect("an order that deep");
            let after: Position<DateTime<Utc>> = Position { key: last.created_at, id: last.id.0 };
            ran.lock().expect("log").clear();
            orders.list(&filter, Window::After { after, limit: PAGE }).await.expect("page");
            explain(&db, &ran, &format!("orders user={:?}", filter.user.is_some())).await;
        }
    })
    .await;
}
