//! Dev-only kit for teams that swap storage adapters.
//!
//! - [`InMemoryStore`]: every storage port in memory, behaving as the SQL adapter does (the same
//!   `PortError`s, the same orders, the cascades of the schema). The use-case tests run on it,
//!   without a database.
//! - [`conformance`]: the behaviours the use cases rely on, as checks generic over the ports. Every
//!   storage adapter runs them (this crate on [`InMemoryStore`], `postgres-adapter` on SQLite and
//!   PostgreSQL); [`conformance_tests!`] turns them into one `#[test]` each.
//! - Doubles for the other ports the use cases need: [`ManualClock`], [`FastHasher`] (no Argon2
//!   cost), [`RecordingMailer`].
//!
//! This crate depends on the inner rings only (`domain`, `ports`) and never on an adapter, so any
//! adapter can dev-depend on it without getting a second copy of its own types.

pub mod conformance;
mod doubles;
mod store;

use std::sync::Arc;

pub use doubles::{FastHasher, ManualClock, RecordingMailer};
use hexgate_ports::{
    AccountTokenRepository, ApiKeyRepository, AuditLog, FileRepository, JobQueue, OrderRepository,
    OrganizationRepository, PreferencesRepository, ProductRepository, SessionRepository, SigningKeyRepository,
    UserRepository,
};
pub use store::InMemoryStore;

/// Every storage port, over one store: what a conformance check gets. The ports must share their
/// data (a session needs its user; deleting the user takes the session with it).
#[derive(Clone)]
pub struct Storage {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub account_tokens: Arc<dyn AccountTokenRepository>,
    pub products: Arc<dyn ProductRepository>,
    pub orders: Arc<dyn OrderRepository>,
    pub preferences: Arc<dyn PreferencesRepository>,
    pub files: Arc<dyn FileRepository>,
    pub jobs: Arc<dyn JobQueue>,
    pub api_keys: Arc<dyn ApiKeyRepository>,
    pub audit: Arc<dyn AuditLog>,
    pub signing_keys: Arc<dyn SigningKeyRepository>,
    pub orgs: Arc<dyn OrganizationRepository>,
    pub mfa: Arc<dyn hexgate_ports::MfaRepository>,
    pub passkeys: Arc<dyn hexgate_ports::PasskeyRepository>,
}
