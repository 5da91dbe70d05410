//! hexgate's application core, on two floors:
//!
//! - [`driven`]: the driven ports, traits for what the use cases need from the outside world
//!   (repositories, hasher and token issuer, clock, rate limiter, revocation list, pub/sub, job
//!   queue, mailer, file store). Adapters implement them.
//! - [`usecases`]: the use cases (`AuthService`, `UserService`, `FileService`, `ChatService`, …),
//!   services holding driven ports as `Arc<dyn Port>`. Driving adapters (HTTP, CLI) call them.
//!
//! [`error`] is shared by both: `PortError` (what adapters answer) and `ServiceError` (what use
//! cases answer). Everything is re-exported here, so `hexgate_ports::UserRepository` and
//! `hexgate_ports::AuthService` need no floor in their path.

pub mod driven;
pub mod error;
pub mod usecases;

pub use driven::*;
pub use error::{
    BatchField, Conflict, ErrorCode, FieldViolation, MfaChallenge, MfaConflict, PortError, Resource, ServiceError,
};
pub use usecases::{
    AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, AUDIT_RETENTION, AccountService, ApiKeyService, AuditPage, AuditQuery,
    AuditRetentionJob, AuditService, AuthPolicy, AuthService, Caller, CatalogService, ChatInbox, ChatKick, ChatMember,
    ChatService, CreatedApiKey, Credential, Discovery, FileService, JobHandler, JobRunner, KeySetupError,
    LAST_USED_GRANULARITY, LinkMailer, LoginAttempt, NewAccount, NewApiKey, OrderService, PASSWORD_RESET_MAIL,
    PROCESS_FILE, PasswordResetMailJob, Principal, ProcessFileJob, ProfileService, Related, SessionView,
    SigningKeyPolicy, SigningKeyService, SigningKeyView, SuperuserOutcome, TokenPair, TraceLink,
    UPLOAD_FRAMING_ALLOWANCE, Upload, UploadBudget, UserChanges, UserService, VERIFICATION_MAIL, VerificationMailJob,
    WELCOME_MAIL, WelcomeMailJob, process_file_job, welcome_job, welcome_mail,
};
// Organizations (issue 18).
pub use usecases::{NewInvitation, NewOrganization, ORG_INVITATION_MAIL, OrgInvitationMailJob, OrgService, OrgView};
// Second factors (issue 16).
pub use usecases::{
    MfaService, MfaStatus, PasskeyCount, PasskeyLogin, PasskeyService, StartedCeremony, TOTP_ISSUER, TotpEnrolment,
};
// Chats that end with their session (issue 14).
pub use usecases::{ACCESS_ENDED_TOPIC, AccessEnded, AccessEvents, ChatOwner, DEFAULT_MESSAGES_PER_MINUTE};
