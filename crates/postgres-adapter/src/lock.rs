//! Serialising read-check-write transactions on both databases.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, QuerySelect, Select};

/// SQLite takes its write lock at the first write, so a transaction that reads and then writes
/// could act on a stale read — and SQLite refuses it (`SQLITE_BUSY`) when another writer committed
/// in between. Every read-then-write transaction therefore starts with this no-op write, which
/// makes it the only writer from its first statement (waiting its turn under the busy timeout).
pub(crate) async fn become_writer(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Sqlite {
        txn.execute_unprepared("UPDATE users SET permissions = permissions WHERE 1 = 0").await?;
    }
    Ok(())
}

/// `FOR UPDATE` where the database has it (PostgreSQL); SQLite is serialised by
/// [`become_writer`] instead.
pub(crate) fn for_update<E: sea_orm::EntityTrait>(txn: &DatabaseTransaction, select: Select<E>) -> Select<E> {
    if txn.get_database_backend() == DbBackend::Postgres { select.lock_exclusive() } else { select }
}
