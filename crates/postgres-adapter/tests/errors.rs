//! Storage failures become the port errors the use cases branch on, told apart by what the
//! database says (the index that refused a write, the error kind), never by its wording.

use std::time::Duration;

use chrono::Utc;
use hexgate_domain::{Email, FullName, NewUser, PasswordHash, PermissionSet, User, UserId, Username};
use hexgate_migrations::{Migrations, Migrator};
use hexgate_ports::{Conflict, PortError, UserRepository};
use hexgate_postgres_adapter::{DatabaseSettings, SqlUserRepository, connect};
use sea_orm::{ConnectionTrait, TransactionTrait};

fn user(name: &str, email: &str) -> User {
    NewUser {
        email: Email::parse(email).expect("email"),
        username: Username::parse(name).expect("username"),
        full_name: FullName::parse("").expect("name"),
        is_active: true,
        permissions: PermissionSet::EMPTY,
        password_hash: PasswordHash::from_phc(format!("$argon2id$fake${name}")),
    }
    .into_user(UserId::new(), Utc::now())
}

fn settings(url: String) -> DatabaseSettings {
    DatabaseSettings {
        url,
        max_connections: 2,
        acquire_timeout: Duration::from_secs(2),
        statement_timeout: Some(Duration::from_secs(30)),
        pool_threads: 0,
    }
}

#[tokio::test]
async fn a_write_blocked_by_another_writer_on_sqlite_is_unavailable_not_internal() {
    let path = std::env::temp_dir().join(format!("hexgate-busy-{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}", path.display());
    let db = connect(&settings(url.clone())).await.expect("connect");
    Migrator::up(db.primary(), None).await.expect("migrate");
    let users = SqlUserRepository::new(db.clone());

    // Another process holds the write lock for longer than the busy timeout.
    let other = connect(&settings(url)).await.expect("connect");
    let txn = other.conn().begin().await.expect("begin");
    txn.execute_unprepared("DELETE FROM users").await.expect("take the write lock");
    let blocked = users.insert(&user("blocked", "blocked@example.com")).await;
    assert!(matches!(blocked, Err(PortError::Unavailable(_))), "{blocked:?}");
    txn.rollback().await.expect("rollback");

    // Once the lock is gone the same write goes through.
    users.insert(&user("blocked", "blocked@example.com")).await.expect("insert");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn a_postgresql_that_refuses_connections_is_unavailable_and_a_clash_is_typed() {
    let base =
        std::env::var("HEXGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let admin = sea_orm::Database::connect(format!("{base}/postgres")).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at {base} ({e}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    });
    let name = format!("hexgate_errors_{}", uuid::Uuid::new_v4().simple());
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
    let db = connect(&settings(format!("{base}/{name}"))).await.expect("connect");
    Migrator::up(db.primary(), None).await.expect("migrate");
    let users = SqlUserRepository::new(db.clone());

    users.insert(&user("first", "first@example.com")).await.expect("insert");
    let email = users.insert(&user("second", "FIRST@example.com")).await;
    assert!(matches!(email, Err(PortError::Conflict(Conflict::EmailTaken))), "{email:?}");
    let username = users.insert(&user("first", "other@example.com")).await;
    assert!(matches!(username, Err(PortError::Conflict(Conflict::UsernameTaken))), "{username:?}");

    // The server goes away for this database: open connections are killed, new ones refused.
    admin.execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await.expect("limit");
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .expect("terminate");
    let refused = users.get(UserId::new()).await;
    assert!(matches!(refused, Err(PortError::Unavailable(_))), "{refused:?}");

    db.primary().clone().close().await.ok();
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.expect("drop database");
}
