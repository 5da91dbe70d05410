//! The use cases: one service per area, holding the driven ports it needs as `Arc<dyn Port>`.
//! A driving adapter (HTTP handler, CLI command) calls one method per request; what else the
//! request implies (revoking sessions, killing reset links, counting upload bytes, fanning a chat
//! message out) happens inside that method.

mod access;
mod account;
mod api_keys;
mod audit;
mod auth;
mod catalog;
mod chat;
mod files;
mod jobs;
mod mails;
mod mfa;
mod orders;
mod orgs;
mod paging;
mod passkeys;
mod profile;
mod signing_keys;
mod users;

pub use access::{ACCESS_ENDED_TOPIC, AccessEnded, AccessEvents};
pub use account::{
    AccountService, LinkMailer, PASSWORD_RESET_MAIL, PasswordResetMailJob, VERIFICATION_MAIL, VerificationMailJob,
};
pub use api_keys::{ApiKeyService, Caller, CreatedApiKey, Credential, LAST_USED_GRANULARITY, NewApiKey};
pub use audit::{
    AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, AUDIT_RETENTION, AuditPage, AuditQuery, AuditRetentionJob, AuditService,
};
pub use auth::{AuthPolicy, AuthService, LoginAttempt, Principal, SessionView, TokenPair};
pub use catalog::CatalogService;
pub use chat::{ChatInbox, ChatKick, ChatMember, ChatService};
pub use chat::{ChatOwner, DEFAULT_MESSAGES_PER_MINUTE};
pub use files::{
    FileService, PROCESS_FILE, ProcessFileJob, UPLOAD_FRAMING_ALLOWANCE, Upload, UploadBudget, process_file_job,
};
pub use jobs::{JobHandler, JobRunner, TraceLink};
pub use mails::{WELCOME_MAIL, WelcomeMailJob, welcome_job, welcome_mail};
pub use mfa::{MfaService, MfaStatus, PasskeyCount, TOTP_ISSUER, TotpEnrolment};
pub use orders::OrderService;
pub use orgs::{NewInvitation, NewOrganization, ORG_INVITATION_MAIL, OrgInvitationMailJob, OrgService, OrgView};
pub use passkeys::{PasskeyLogin, PasskeyService, StartedCeremony};
pub use profile::{ProfileService, RELATED_ORDERS, Related};
pub use signing_keys::{Discovery, KeySetupError, SigningKeyPolicy, SigningKeyService, SigningKeyView};
pub use users::{NewAccount, SuperuserOutcome, UserChanges, UserService};
