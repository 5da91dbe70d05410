//! The schema, as sea-orm migrations that run unchanged on PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

mod m20261124_000001_users_and_sessions;
mod m20261124_000002_catalog_orders_preferences;
mod m20261124_000003_jobs;
mod m20261124_000004_account_tokens;
mod m20261124_000005_files;
mod m20261201_000006_api_keys_and_audit;
mod m20261201_000006_signing_keys;
mod m20261201_000013_job_traceparent;
mod m20261201_000016_second_factors;
mod m20261201_000017_keyset_paging;
mod m20261201_000018_organizations;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_users_and_sessions::Migration),
            Box::new(m20261124_000002_catalog_orders_preferences::Migration),
            Box::new(m20261124_000003_jobs::Migration),
            Box::new(m20261124_000004_account_tokens::Migration),
            Box::new(m20261124_000005_files::Migration),
            Box::new(m20261201_000013_job_traceparent::Migration),
            Box::new(m20261201_000006_api_keys_and_audit::Migration),
            Box::new(m20261201_000006_signing_keys::Migration),
            Box::new(m20261201_000016_second_factors::Migration),
            Box::new(m20261201_000018_organizations::Migration),
            Box::new(m20261201_000017_keyset_paging::Migration),
        ]
    }
}

pub use sea_orm_migration::MigratorTrait as Migrations;
pub use sea_orm_migration::sea_orm::DatabaseConnection;
