//! The SQL adapter: sea-orm entities and the repositories behind the storage ports. One code
//! path serves PostgreSQL (the reference) and a SQLite file (the zero-set-up default). sea-orm
//! types never leave this crate: every `DbErr` becomes a `PortError` here.

mod account_tokens;
mod api_keys;
mod audit;
mod catalog;
mod connection;
mod decimal;
mod entity;
mod error;
mod files;
mod gauges;
mod jobs;
mod keyset;
mod lock;
mod mfa;
mod orders;
mod orgs;
mod passkeys;
mod pools;
mod preferences;
mod sessions;
mod signing_keys;
mod trace;
mod users;

pub use account_tokens::SqlAccountTokenRepository;
pub use api_keys::SqlApiKeyRepository;
pub use audit::SqlAuditLog;
pub use catalog::SqlProductRepository;
pub use connection::{DatabaseSettings, connect, ping};
pub use files::SqlFileRepository;
pub use gauges::SqlGauges;
pub use jobs::{SqlJobQueue, enqueue_in};
pub use mfa::SqlMfaRepository;
pub use orders::SqlOrderRepository;
pub use orgs::SqlOrganizationRepository;
pub use passkeys::SqlPasskeyRepository;
pub use pools::DatabasePools;
pub use preferences::SqlPreferencesRepository;
pub use sea_orm::DatabaseConnection;
pub use sessions::SqlSessionRepository;
pub use signing_keys::SqlSigningKeyRepository;
pub use users::SqlUserRepository;
