//! Every storage port in memory: a fast, faithful stand-in for the SQL adapter in service tests,
//! and a reference for anyone writing a new storage adapter. One lock guards everything, which
//! makes every method atomic (the SQL adapter gets the same from transactions), and the state is
//! shared by all ports, so what the schema does across tables (a user's delete taking their
//! sessions, orders, preferences and files; a file's status being its job's) happens here too.

mod account_tokens;
mod api_keys;
mod audit;
mod catalog;
mod files;
mod jobs;
mod orders;
mod orgs;
mod preferences;
mod second_factors;
mod sessions;
mod signing_keys;
mod users;
mod window;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use hexgate_domain::api_key::{ApiKey, ApiKeyId};
use hexgate_domain::file::{FileFacts, FileId, OriginalFilename};
use hexgate_domain::job::JobStatus;
use hexgate_domain::order::{Order, OrderId};
use hexgate_domain::org::{Invitation, InvitationId, Membership, OrgId, Organization};
use hexgate_domain::preferences::Preferences;
use hexgate_domain::product::{Product, ProductId};
use hexgate_domain::session::Session;
use hexgate_domain::{SessionId, User, UserId};
use hexgate_ports::{AuditEvent, NewJob, TokenPurpose};
use uuid::Uuid;

use crate::Storage;

struct RefreshTokenRow {
    id: Uuid,
    session: SessionId,
    parent: Option<Uuid>,
    expires_at: DateTime<Utc>,
    spent_at: Option<DateTime<Utc>>,
}

struct SessionRow {
    session: Session,
    revoked_at: Option<DateTime<Utc>>,
}

struct AccountTokenRow {
    user: UserId,
    purpose: TokenPurpose,
    hash: String,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
}

struct JobRow {
    job: NewJob,
    status: JobStatus,
    attempts: u32,
    run_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
    locked_by: Option<String>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

struct FileRow {
    owner: UserId,
    task: Uuid,
    filename: OriginalFilename,
    size: u64,
    facts: Option<FileFacts>,
    created_at: DateTime<Utc>,
    processed_at: Option<DateTime<Utc>>,
}

/// An invitation with the hash of its token (`None` until its mail is sent).
struct InvitationRow {
    invitation: Invitation,
    hash: Option<String>,
}

#[derive(Default)]
struct State {
    users: HashMap<UserId, User>,
    sessions: HashMap<SessionId, SessionRow>,
    /// Refresh tokens by their hash (unique, like the SQL index).
    refresh_tokens: HashMap<String, RefreshTokenRow>,
    account_tokens: Vec<AccountTokenRow>,
    products: HashMap<ProductId, Product>,
    orders: HashMap<OrderId, Order>,
    preferences: HashMap<UserId, Preferences>,
    files: HashMap<FileId, FileRow>,
    /// By id: ids are UUIDv7, so this is also the order jobs were queued in.
    jobs: BTreeMap<Uuid, JobRow>,
    /// API keys by id, with the hash of their secret (unique, like the SQL index).
    api_keys: HashMap<ApiKeyId, (ApiKey, String)>,
    /// The audit log, in the order written. Like the `audit_events` table it references no
    /// user: events outlive the accounts they concern.
    audit_events: Vec<AuditEvent>,
    /// Access-token signing keys, in the order they were made.
    signing_keys: Vec<hexgate_ports::SigningKeyRecord>,
    /// Organizations; their memberships (unique per organization and user) in the order made;
    /// invitations by id.
    orgs: HashMap<OrgId, Organization>,
    memberships: Vec<Membership>,
    invitations: HashMap<InvitationId, InvitationRow>,
    /// TOTP, recovery codes, `mfa_token`s, passkeys, WebAuthn ceremonies.
    second_factors: second_factors::SecondFactorState,
}

impl State {
    /// What `ON DELETE CASCADE` does in the SQL schema when a user row goes. Jobs stay: like the
    /// `jobs` table, they reference no user.
    fn cascade_user(&mut self, id: UserId) {
        let gone: Vec<SessionId> =
            self.sessions.values().filter(|s| s.session.user_id == id).map(|s| s.session.id).collect();
        self.sessions.retain(|_, s| s.session.user_id != id);
        self.refresh_tokens.retain(|_, t| !gone.contains(&t.session));
        self.account_tokens.retain(|t| t.user != id);
        self.orders.retain(|_, o| o.user_id != id);
        self.preferences.remove(&id);
        self.files.retain(|_, f| f.owner != id);
        self.api_keys.retain(|_, (k, _)| k.user_id != id);
        self.memberships.retain(|m| m.user_id != id);
        self.second_factors.forget(id);
    }

    /// Writes `events` as part of the change under way (the lock is the transaction).
    fn record(&mut self, events: &[AuditEvent]) {
        self.audit_events.extend_from_slice(events);
    }

    fn enqueue(&mut self, job: &NewJob, now: DateTime<Utc>) -> Uuid {
        let id = Uuid::now_v7();
        self.jobs.insert(
            id,
            JobRow {
                job: job.clone(),
                status: JobStatus::Queued,
                attempts: 0,
                run_at: now,
                locked_until: None,
                locked_by: None,
                last_error: None,
                created_at: now,
                finished_at: None,
            },
        );
        id
    }
}

/// Users, sessions, account tokens, products, orders, preferences, files' metadata and the job
/// queue, in memory. Hand it to services as each port (`Arc<InMemoryStore>` coerces to every
/// `Arc<dyn …Repository>`), or take all of them at once with [`InMemoryStore::storage`].
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

impl InMemoryStore {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh, empty store behind every storage port.
    #[must_use]
    pub fn storage() -> Storage {
        Self::storage_of(&Arc::new(Self::new()))
    }

    /// `store` behind every storage port.
    #[must_use]
    pub fn storage_of(store: &Arc<Self>) -> Storage {
        Storage {
            users: store.clone(),
            sessions: store.clone(),
            account_tokens: store.clone(),
            products: store.clone(),
            orders: store.clone(),
            preferences: store.clone(),
            files: store.clone(),
            jobs: store.clone(),
            api_keys: store.clone(),
            audit: store.clone(),
            signing_keys: store.clone(),
            orgs: store.clone(),
            mfa: store.clone(),
            passkeys: store.clone(),
        }
    }

    /// The jobs still queued (not yet claimed), oldest first. The store keeps jobs; it does not
    /// run them.
    #[must_use]
    pub fn queued_jobs(&self) -> Vec<NewJob> {
        self.lock().jobs.values().filter(|j| j.status == JobStatus::Queued).map(|j| j.job.clone()).collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
