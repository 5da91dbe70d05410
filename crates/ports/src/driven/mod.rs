//! The driven ports: what the use cases need from the outside world (storage, hashing and tokens,
//! the clock, rate limits, revocations, pub/sub, jobs, mail, file bytes). Adapters implement these
//! traits; every one is object-safe so the binary can pick adapters at run time.

pub mod account_tokens;
pub mod api_keys;
pub mod audit;
pub mod catalog;
pub mod clock;
pub mod crypto;
pub mod files;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod mfa;
pub mod orders;
pub mod orgs;
pub mod passkeys;
pub mod preferences;
pub mod pubsub;
pub mod rate_limit;
pub mod revocation;
pub mod sessions;
pub mod signing_keys;
pub mod users;

pub use account_tokens::{AccountTokenRepository, TokenPurpose};
pub use api_keys::ApiKeyRepository;
pub use audit::{AuditEvent, AuditFilter, AuditLog, AuditPosition, AuditStamp, CursorSealer, RequestContext};
pub use catalog::ProductRepository;
pub use clock::{Clock, SystemClock};
pub use crypto::{
    AccessClaims, IssuedAccessToken, OrgClaim, PasswordHasher, RefreshSecret, TokenHash, TokenIssuer, TokenRejection,
};
pub use files::{Blob, BlobKey, BlobWriter, FileRepository, FileStore, NewFile};
pub use jobs::{ClaimedJob, JobId, JobQueue, JobRecord, JobWakeup, NewJob};
pub use mail::{Mail, Mailer};
pub use metrics::{GaugeReading, GaugeSource, JobOutcome, LoginOutcome, Metrics, NoMetrics};
pub use mfa::{MfaRepository, NewTotpSecret, SecondFactorCrypto, TotpState};
pub use orders::{OrderFilter, OrderRepository};
pub use orgs::{MemberView, OrganizationRepository};
pub use passkeys::{
    AssertedCredential, CeremonyStart, PasskeyCeremonies, PasskeyRepository, RegisteredCredential, StoredPasskey,
};
pub use preferences::PreferencesRepository;
pub use pubsub::{PubSub, Subscription};
pub use rate_limit::{RateLimiter, WindowCount};
pub use revocation::RevocationList;
pub use sessions::{RefreshOutcome, SessionRepository};
pub use signing_keys::{KeyRing, KeyUnsealError, PublicJwk, SigningKeyRecord, SigningKeyRepository};
pub use users::UserRepository;
