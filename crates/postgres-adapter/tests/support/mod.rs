//! Runs a test against a temporary SQLite file and a fresh PostgreSQL database.

// Each test binary uses its part of this module.
#![allow(dead_code)]

use std::future::Future;

use hexgate_migrations::{Migrations, Migrator};
use hexgate_postgres_adapter::{DatabasePools, DatabaseSettings, connect};
use sea_orm::ConnectionTrait;

const PG_BASE: &str = "postgres://postgres@127.0.0.1:5432";

/// On PostgreSQL with two per-thread pools besides the primary, as the server runs it.
async fn open(url: &str) -> DatabasePools {
    let settings = DatabaseSettings {
        url: url.to_owned(),
        max_connections: 5,
        acquire_timeout: std::time::Duration::from_secs(5),
        statement_timeout: Some(std::time::Duration::from_secs(30)),
        pool_threads: 2,
    };
    let db = connect(&settings).await.expect("connect");
    Migrator::up(db.primary(), None).await.expect("migrate");
    db
}

/// Runs `test` once on SQLite and once on PostgreSQL.
pub async fn on_both<F, Fut>(test: F)
where
    F: Fn(DatabasePools) -> Fut,
    Fut: Future<Output = ()>,
{
    let path = std::env::temp_dir().join(format!("hexgate-repo-{}.db", uuid::Uuid::new_v4()));
    test(open(&format!("sqlite://{}", path.display())).await).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }

    on_postgres("", test).await;
}

/// Runs `test` on a fresh PostgreSQL database made by `CREATE DATABASE <name> <options>` (e.g. a
/// collation other than the server's default), dropped afterwards.
pub async fn on_postgres<F, Fut>(options: &str, test: F)
where
    F: Fn(DatabasePools) -> Fut,
    Fut: Future<Output = ()>,
{
    let admin_url = std::env::var("HEXGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| PG_BASE.to_owned());
    let admin = sea_orm::Database::connect(format!("{admin_url}/postgres")).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at {admin_url} ({e}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    });
    let name = format!("hexgate_repo_{}", uuid::Uuid::new_v4().simple());
    admin.execute_unprepared(&format!("CREATE DATABASE {name} {options}")).await.expect("create database");
    let db = open(&format!("{admin_url}/{name}")).await;
    test(db.clone()).await;
    for pool in db.all() {
        pool.clone().close().await.ok();
    }
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.expect("drop database");
}
