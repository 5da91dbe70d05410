use std::sync::Arc;

use async_trait::async_trait;
use hexgate_ports::{
    AccountService, ApiKeyService, AuditService, AuthService, CatalogService, ChatService, FileService, Metrics,
    MfaService, OrderService, OrgService, PasskeyService, ProfileService, RateLimiter, SigningKeyService, UserService,
};
use ipnet::IpNet;

/// A dependency `/ready` asks about.
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// The name shown under `checks` (`database`, `cache`).
    fn name(&self) -> &'static str;
    /// # Errors
    /// A short reason when the dependency does not answer.
    async fn check(&self) -> Result<(), String>;
}

/// The services the routes call.
#[derive(Clone)]
pub struct HttpState {
    pub auth: Arc<AuthService>,
    pub account: Arc<AccountService>,
    pub users: Arc<UserService>,
    pub catalog: Arc<CatalogService>,
    pub orders: Arc<OrderService>,
    pub profiles: Arc<ProfileService>,
    pub files: Arc<FileService>,
    pub chat: Arc<ChatService>,
    /// Access-token signing keys: the JWKS, discovery, rotation.
    pub signing_keys: Arc<SigningKeyService>,
    /// How the chat's sockets are run (heartbeat, timeout).
    pub chat_settings: crate::ChatSettings,
    pub limiter: Arc<dyn RateLimiter>,
    pub api_keys: Arc<ApiKeyService>,
    pub audit: Arc<AuditService>,
    /// Organizations, their members, invitations and tokens.
    pub orgs: Arc<OrgService>,
    /// Second factors: TOTP, recovery codes, the second step of a login.
    pub mfa: Arc<MfaService>,
    /// Passkeys: registration, discoverable login.
    pub passkeys: Arc<PasskeyService>,
    pub readiness: Vec<Arc<dyn ReadinessCheck>>,
    /// Requests, logins, rate-limit refusals and chat connections are counted here; `/metrics`
    /// renders it.
    pub metrics: Arc<dyn Metrics>,
}

/// HTTP-only configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub json_body_limit: usize,
    pub rate_limit_per_minute: u64,
    pub login_rate_limit_per_minute: u64,
    pub trusted_proxies: Vec<IpNet>,
    /// Exact origins allowed by CORS; empty means no cross-origin access.
    pub allowed_origins: Vec<String>,
    pub docs_enabled: bool,
    pub workers: usize,
    /// How long in-flight requests get to finish on shutdown.
    pub shutdown_timeout_secs: u64,
    /// Who may read `/metrics` on this listener.
    pub metrics: crate::MetricsAccess,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            json_body_limit: 1024 * 1024,
            rate_limit_per_minute: 100,
            login_rate_limit_per_minute: 10,
            trusted_proxies: Vec::new(),
            allowed_origins: Vec::new(),
            docs_enabled: true,
            workers: 2,
            shutdown_timeout_secs: 30,
            metrics: crate::MetricsAccess::Open,
        }
    }
}
