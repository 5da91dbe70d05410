//! The driven ports (what the use cases need from the outside world) and the services that
//! implement the use cases over them. Adapters implement the traits; the HTTP layer calls the
//! services. Every port is object-safe so the binary can pick adapters at run time.

pub mod account_tokens;
pub mod catalog;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod files;
pub mod jobs;
pub mod mail;
pub mod orders;
pub mod preferences;
pub mod pubsub;
pub mod rate_limit;
pub mod revocation;
pub mod services;
pub mod sessions;
pub mod users;

pub use account_tokens::{AccountTokenRepository, TokenPurpose};
pub use catalog::ProductRepository;
pub use clock::{Clock, SystemClock};
pub use crypto::{
    AccessClaims, IssuedAccessToken, PasswordHasher, RefreshSecret, TokenHash, TokenIssuer, TokenRejection,
};
pub use error::{BatchField, Conflict, ErrorCode, FieldViolation, PortError, Resource, ServiceError};
pub use files::{Blob, BlobKey, BlobWriter, FileRepository, FileStore, NewFile};
pub use jobs::{ClaimedJob, JobId, JobQueue, JobRecord, JobWakeup, NewJob};
pub use mail::{Mail, Mailer};
pub use orders::{OrderFilter, OrderRepository};
pub use preferences::PreferencesRepository;
pub use pubsub::{PubSub, Subscription};
pub use rate_limit::{RateLimiter, WindowCount};
pub use revocation::RevocationList;
pub use services::{
    AccountService, AuthPolicy, AuthService, CatalogService, ChatInbox, ChatKick, ChatMember, ChatService, FileService,
    JobHandler, JobRunner, LinkMailer, LoginAttempt, NewAccount, OrderService, PASSWORD_RESET_MAIL, PROCESS_FILE,
    PasswordResetMailJob, Principal, ProcessFileJob, ProfileService, Related, SessionView, SuperuserOutcome, TokenPair,
    UPLOAD_FRAMING_ALLOWANCE, Upload, UploadBudget, UserChanges, UserService, VERIFICATION_MAIL, VerificationMailJob,
    WELCOME_MAIL, WelcomeMailJob, process_file_job, welcome_job, welcome_mail,
};
pub use sessions::{RefreshOutcome, SessionRepository};
pub use users::UserRepository;
