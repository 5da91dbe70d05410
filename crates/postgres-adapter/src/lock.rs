//! Serialising read-check-write transactions on both databases.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, QuerySelect, Select};

/// SQLite takes its write lock at the first write, so a transaction that reads, checks and then
/// writes could act on a stale read. A no-op write first makes it the only writer from the start.
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
