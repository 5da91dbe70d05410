//! The storage conformance suite (hexgate-testkit) on the SQL adapter: every check once on a
//! temporary SQLite file and once on a fresh PostgreSQL database, the same checks the in-memory
//! store passes.

mod support;

use std::sync::Arc;

use hexgate_postgres_adapter::{
    DatabasePools, SqlAccountTokenRepository, SqlApiKeyRepository, SqlAuditLog, SqlFileRepository, SqlJobQueue,
    SqlOrderRepository, SqlOrganizationRepository, SqlPreferencesRepository, SqlProductRepository,
    SqlSessionRepository, SqlSigningKeyRepository, SqlUserRepository,
};
use hexgate_testkit::Storage;
use hexgate_testkit::conformance::Check;

fn storage(db: DatabasePools) -> Storage {
    Storage {
        users: Arc::new(SqlUserRepository::new(db.clone())),
        sessions: Arc::new(SqlSessionRepository::new(db.clone())),
        account_tokens: Arc::new(SqlAccountTokenRepository::new(db.clone())),
        products: Arc::new(SqlProductRepository::new(db.clone())),
        orders: Arc::new(SqlOrderRepository::new(db.clone())),
        preferences: Arc::new(SqlPreferencesRepository::new(db.clone())),
        files: Arc::new(SqlFileRepository::new(db.clone())),
        jobs: Arc::new(SqlJobQueue::new(db.clone())),
        api_keys: Arc::new(SqlApiKeyRepository::new(db.clone())),
        audit: Arc::new(SqlAuditLog::new(db.clone())),
        signing_keys: Arc::new(SqlSigningKeyRepository::new(db.clone())),
        orgs: Arc::new(SqlOrganizationRepository::new(db.clone())),
        mfa: Arc::new(hexgate_postgres_adapter::SqlMfaRepository::new(db.clone())),
        passkeys: Arc::new(hexgate_postgres_adapter::SqlPasskeyRepository::new(db)),
    }
}

async fn on_sqlite_and_postgres(check: Check) {
    support::on_both(|db| check(storage(db))).await;
}

hexgate_testkit::conformance_tests!(on_sqlite_and_postgres);

/// The users keyset walk once more on a database whose default collation is ICU English, where
/// `a-b` sorts after `ab` and `é` beside `e`: the list still sorts by bytes, as SQLite and the
/// in-memory store do (the migration gives username and e-mail the `"C"` collation).
#[test]
fn users_sort_by_bytes_on_a_database_with_an_english_collation() {
    hexgate_testkit::conformance::block_on(support::on_postgres(
        "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
        |db| hexgate_testkit::conformance::keyset::every_users_sort_walks_each_row_once_in_order(storage(db)),
    ));
}
