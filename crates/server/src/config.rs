//! Typed configuration from the environment (and `.env`). A bad value stops start-up with a
//! message naming the variable; secrets never print.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::Duration as ChronoDuration;
use hexgate_actix_http::{ChatSettings, HttpSettings};
use hexgate_crypto_adapter::{JwtAlgorithm, JwtConfig};
use hexgate_mail_adapter::SmtpSettings;
use hexgate_ports::AuthPolicy;
use hexgate_postgres_adapter::DatabaseSettings;
use hexgate_redis_adapter::RedisSettings;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

pub use crate::workers::JobSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

/// Everything hexgate reads from its environment, one section per part of the system. A section
/// is the settings type of the adapter (or service) it configures whenever that part defines one,
/// so start-up hands sections over instead of copying fields.
#[derive(Clone)]
pub struct Config {
    pub environment: Environment,
    pub log_format: LogFormat,
    pub application: ApplicationSettings,
    pub http: HttpSettings,
    pub chat: ChatSettings,
    pub database: DatabaseSettings,
    /// `None` (no `REDIS_URL`): limiter, revocation list and pub/sub live in this process.
    pub redis: Option<RedisSettings>,
    pub tokens: TokenSettings,
    pub auth: AuthPolicy,
    pub users: UserSettings,
    pub mail: MailSettings,
    pub uploads: UploadSettings,
    pub jobs: JobSettings,
    pub observability: ObservabilitySettings,
    pub audit: AuditSettings,
    /// The WebAuthn relying party (`WEBAUTHN_RP_ID`, `WEBAUTHN_ORIGIN`).
    pub webauthn: hexgate_crypto_adapter::WebAuthnSettings,
}

/// How long audit events are kept, and how often the retention job looks for older ones.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub retention_days: u32,
    pub prune_interval: Duration,
}

/// Metrics and traces (docs/observability.md).
#[derive(Debug, Clone)]
pub struct ObservabilitySettings {
    /// `METRICS_ENABLED` (default true): off, nothing is counted and `/metrics` is 404.
    pub metrics_enabled: bool,
    /// `METRICS_ADDR`: `/metrics` is served there (and no longer on the API's port).
    pub metrics_addr: Option<String>,
    /// Who may scrape, wherever `/metrics` is served.
    pub metrics_access: hexgate_actix_http::MetricsAccess,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (the collector's base URL): unset, no spans leave the process.
    pub otlp_endpoint: Option<String>,
    /// `OTEL_SERVICE_NAME` (default `hexgate`).
    pub service_name: String,
}

/// The process itself: where it listens, how it links back to itself, whether it migrates.
#[derive(Debug, Clone)]
pub struct ApplicationSettings {
    pub host: String,
    pub port: u16,
    /// Where links in mails point.
    pub public_base_url: String,
    pub migrate_on_start: bool,
}

/// The access-token issuer's settings, and whether its key was made up at start.
#[derive(Clone)]
pub struct TokenSettings {
    pub jwt: JwtConfig,
    /// The key was generated because `SECRET_KEY` is unset (development only).
    pub secret_key_generated: bool,
    /// `JWT_ALGORITHM`: `EdDSA` (stored, rotating keys; the default) or `HS256` (`SECRET_KEY`).
    pub algorithm: JwtAlgorithm,
    /// `KEY_CACHE_SECONDS`: how long an instance keeps the signing keys it read, so a rotation
    /// made anywhere signs here within this time. Also how often the retirement job runs.
    pub key_cache: Duration,
}

/// Who may sign up, and the admin created at start-up.
#[derive(Clone)]
pub struct UserSettings {
    pub open_registration: bool,
    pub first_superuser: Option<FirstSuperuser>,
}

#[derive(Clone)]
pub struct FirstSuperuser {
    pub email: String,
    pub username: String,
    pub password: SecretString,
}

/// Where mails go: an SMTP server, or (without `SMTP_URL`) `.eml` files in the outbox folder.
#[derive(Clone)]
pub enum MailSettings {
    Smtp(SmtpSettings),
    Outbox { dir: String, from: String },
}

/// The local file store's folder and the upload service's size limit.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    pub dir: String,
    pub max_bytes: u64,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mail = match &self.mail {
            MailSettings::Smtp(smtp) => format!("smtp {} from {}", redact_url(&smtp.url), smtp.from),
            MailSettings::Outbox { dir, from } => format!("outbox {dir} from {from}"),
        };
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("log_format", &self.log_format)
            .field("application", &self.application)
            .field("http", &self.http)
            .field("chat", &self.chat)
            .field("database_url", &redact_url(&self.database.url))
            .field("redis_url", &self.redis.as_ref().map(|r| redact_url(&r.url)))
            .field("secret_key", &"<redacted>")
            .field("jwt_issuer", &self.tokens.jwt.issuer)
            .field("jwt_audience", &self.tokens.jwt.audience)
            .field("jwt_algorithm", &self.tokens.algorithm)
            .field("key_cache", &self.tokens.key_cache)
            .field("auth", &self.auth)
            .field("open_registration", &self.users.open_registration)
            .field("first_superuser", &self.users.first_superuser.as_ref().map(|s| &s.email))
            .field("mail", &mail)
            .field("uploads", &self.uploads)
            .field("jobs", &self.jobs)
            .field("observability", &self.observability)
            .field("audit", &self.audit)
            .finish_non_exhaustive()
    }
}

/// A URL with its password (if any) replaced, for logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A snapshot of the variables, so parsing is a pure function (and testable).
pub struct Vars(HashMap<String, String>);

impl Vars {
    /// The process environment, with `.env` filling in what is not set.
    #[must_use]
    pub fn from_process() -> Self {
        let _ = dotenvy::dotenv();
        Self(std::env::vars().collect())
    }

    #[must_use]
    pub fn from_entries(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(pairs.into_iter().collect())
    }

    #[must_use]
    pub fn from_pairs<const N: usize>(pairs: [(&str, &str); N]) -> Self {
        Self(pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
    }

    fn raw(&self, var: &str) -> Option<&str> {
        self.0.get(var).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    fn parse<T: FromStr>(&self, var: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.raw(var) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError { var, reason: format!("{v:?}: {e}") }),
        }
    }

    fn positive<T: FromStr + PartialOrd + Default + Copy>(
        &self,
        var: &'static str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        let v = self.parse(var, default)?;
        if v > T::default() { Ok(v) } else { Err(ConfigError { var, reason: "must be greater than 0".into() }) }
    }

    fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(var).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(ConfigError { var, reason: format!("{v:?}: expected true or false") }),
            },
        }
    }

    fn list(&self, var: &str) -> Vec<String> {
        self.raw(var)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

impl Config {
    /// # Errors
    /// The first variable with a bad value.
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let environment = environment(vars)?;
        let observability = observability(vars, environment)?;
        let mut http = http(vars, environment)?;
        http.metrics = if observability.metrics_addr.is_some() {
            hexgate_actix_http::MetricsAccess::Closed
        } else {
            observability.metrics_access.clone()
        };
        let database = database(vars, u32::try_from(http.workers).unwrap_or(u32::MAX))?;
        Ok(Self {
            environment,
            observability,
            tokens: tokens(vars, environment)?,
            http,
            log_format: log_format(vars, environment)?,
            database,
            redis: redis(vars)?,
            users: users(vars)?,
            mail: mail(vars)?,
            application: application(vars)?,
            auth: auth(vars)?,
            uploads: uploads(vars)?,
            jobs: jobs(vars)?,
            chat: chat(vars)?,
            audit: audit(vars)?,
            webauthn: webauthn(vars)?,
        })
    }
}

fn environment(vars: &Vars) -> Result<Environment, ConfigError> {
    match vars.raw("ENVIRONMENT").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("development" | "dev") => Ok(Environment::Development),
        Some("production" | "prod") => Ok(Environment::Production),
        Some("test") => Ok(Environment::Test),
        Some(other) => Err(ConfigError {
            var: "ENVIRONMENT",
            reason: format!("{other:?}: expected development, production or test"),
        }),
    }
}

fn log_format(vars: &Vars, environment: Environment) -> Result<LogFormat, ConfigError> {
    match vars.raw("LOG_FORMAT").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None if environment == Environment::Production => Ok(LogFormat::Json),
        None => Ok(LogFormat::Pretty),
        Some("json") => Ok(LogFormat::Json),
        Some("pretty" | "text") => Ok(LogFormat::Pretty),
        Some(other) => Err(ConfigError { var: "LOG_FORMAT", reason: format!("{other:?}: expected json or pretty") }),
    }
}

/// `SECRET_KEY`, `JWT_ISSUER`, `JWT_AUDIENCE`, `ACCESS_TOKEN_EXPIRE_MINUTES`, `JWT_ALGORITHM`,
/// `KEY_CACHE_SECONDS`.
fn tokens(vars: &Vars, environment: Environment) -> Result<TokenSettings, ConfigError> {
    let (secret, secret_key_generated) = match vars.raw("SECRET_KEY") {
        Some(key) if key.len() >= 32 => (SecretString::from(key.to_owned()), false),
        Some(_) => return Err(ConfigError { var: "SECRET_KEY", reason: "must be at least 32 bytes".into() }),
        None if environment == Environment::Production => {
            return Err(ConfigError { var: "SECRET_KEY", reason: "required in production (at least 32 bytes)".into() });
        }
        None => (SecretString::from(random_key()), true),
    };
    Ok(TokenSettings {
        jwt: JwtConfig {
            secret,
            issuer: vars.raw("JWT_ISSUER").unwrap_or("hexgate").to_owned(),
            audience: vars.raw("JWT_AUDIENCE").unwrap_or("hexgate-api").to_owned(),
            access_ttl: ChronoDuration::minutes(vars.positive("ACCESS_TOKEN_EXPIRE_MINUTES", 15)?),
            leeway_secs: 5,
        },
        secret_key_generated,
        algorithm: jwt_algorithm(vars)?,
        key_cache: Duration::from_secs(vars.positive("KEY_CACHE_SECONDS", 60)?),
    })
}

fn jwt_algorithm(vars: &Vars) -> Result<JwtAlgorithm, ConfigError> {
    match vars.raw("JWT_ALGORITHM").map(|v| v.trim().to_ascii_uppercase()).as_deref() {
        None | Some("EDDSA") => Ok(JwtAlgorithm::EdDsa),
        Some("HS256") => Ok(JwtAlgorithm::Hs256),
        Some(other) => Err(ConfigError { var: "JWT_ALGORITHM", reason: format!("{other:?}: expected EdDSA or HS256") }),
    }
}

/// `ALLOWED_ORIGINS`, `TRUSTED_PROXIES`, the rate limits, `DOCS_ENABLED`, `JSON_BODY_LIMIT_BYTES`,
/// `WEB_WORKERS`, `SHUTDOWN_TIMEOUT_SECONDS`.
fn http(vars: &Vars, environment: Environment) -> Result<HttpSettings, ConfigError> {
    let allowed_origins = vars.list("ALLOWED_ORIGINS");
    if allowed_origins.iter().any(|o| o == "*") {
        return Err(ConfigError {
            var: "ALLOWED_ORIGINS",
            reason: "\"*\" is not allowed: list the exact origins (credentials travel with requests)".into(),
        });
    }
    if let Some(bad) = allowed_origins.iter().find(|o| !(o.starts_with("http://") || o.starts_with("https://"))) {
        return Err(ConfigError {
            var: "ALLOWED_ORIGINS",
            reason: format!("{bad:?}: an origin looks like https://app.example.com"),
        });
    }
    let mut trusted_proxies = Vec::new();
    for entry in vars.list("TRUSTED_PROXIES") {
        let net =
            entry.parse::<IpNet>().or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from)).map_err(|_| {
                ConfigError { var: "TRUSTED_PROXIES", reason: format!("{entry:?}: expected an IP address or CIDR") }
            })?;
        trusted_proxies.push(net);
    }
    let default_workers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    Ok(HttpSettings {
        json_body_limit: vars.positive("JSON_BODY_LIMIT_BYTES", 1024 * 1024)?,
        rate_limit_per_minute: vars.positive("RATE_LIMIT_PER_MINUTE", 100)?,
        login_rate_limit_per_minute: vars.positive("LOGIN_RATE_LIMIT_PER_MINUTE", 10)?,
        trusted_proxies,
        allowed_origins,
        docs_enabled: vars.flag("DOCS_ENABLED", environment != Environment::Production)?,
        workers: vars.positive("WEB_WORKERS", default_workers)?,
        shutdown_timeout_secs: vars.parse("SHUTDOWN_TIMEOUT_SECONDS", 30)?,
        // Set from the observability section (it depends on METRICS_ADDR).
        metrics: hexgate_actix_http::MetricsAccess::Closed,
    })
}

/// `METRICS_ENABLED`, `METRICS_TOKEN`, `METRICS_ADDR`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_SERVICE_NAME`.
fn observability(vars: &Vars, environment: Environment) -> Result<ObservabilitySettings, ConfigError> {
    use hexgate_actix_http::MetricsAccess;
    // A token, once set, is asked for everywhere; without one, production hides the metrics.
    let metrics_access = match vars.raw("METRICS_TOKEN") {
        Some(token) if token.trim().len() < 16 => {
            return Err(ConfigError { var: "METRICS_TOKEN", reason: "must be at least 16 characters".into() });
        }
        Some(token) => MetricsAccess::Bearer(SecretString::from(token.trim().to_owned())),
        None if environment == Environment::Production => MetricsAccess::Closed,
        None => MetricsAccess::Open,
    };
    let metrics_addr = vars.raw("METRICS_ADDR").map(|v| v.trim().to_owned());
    if let Some(addr) = &metrics_addr
        && !is_host_and_port(addr)
    {
        return Err(ConfigError { var: "METRICS_ADDR", reason: format!("{addr:?}: expected host:port") });
    }
    let otlp_endpoint = vars.raw("OTEL_EXPORTER_OTLP_ENDPOINT").map(|v| v.trim().trim_end_matches('/').to_owned());
    if let Some(url) = &otlp_endpoint
        && !url.starts_with("http://")
    {
        return Err(ConfigError {
            var: "OTEL_EXPORTER_OTLP_ENDPOINT",
            reason: "expected http://host:4318 (OTLP over HTTP; TLS to the collector is a sidecar's job)".into(),
        });
    }
    Ok(ObservabilitySettings {
        metrics_enabled: vars.flag("METRICS_ENABLED", true)?,
        metrics_addr,
        metrics_access,
        otlp_endpoint,
        service_name: vars.raw("OTEL_SERVICE_NAME").unwrap_or("hexgate").trim().to_owned(),
    })
}

/// `host:port`: what `METRICS_ADDR` must look like (the host is resolved when bound).
fn is_host_and_port(addr: &str) -> bool {
    addr.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

/// `DATABASE_URL`, `DATABASE_POOL_SIZE`, `DATABASE_ACQUIRE_TIMEOUT_SECONDS`,
/// `DATABASE_STATEMENT_TIMEOUT_MS` (`0`: none), `DATABASE_POOL_PER_WORKER` (PostgreSQL: a pool
/// per HTTP worker, sharing out `DATABASE_POOL_SIZE`; default on).
fn database(vars: &Vars, workers: u32) -> Result<DatabaseSettings, ConfigError> {
    let url = vars.raw("DATABASE_URL").unwrap_or("sqlite://./data/hexgate.db").trim().to_owned();
    if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ConfigError { var: "DATABASE_URL", reason: "expected sqlite://… or postgres://…".into() });
    }
    let statement_timeout_ms: u64 = vars.parse("DATABASE_STATEMENT_TIMEOUT_MS", 30_000)?;
    Ok(DatabaseSettings {
        url,
        max_connections: vars.positive("DATABASE_POOL_SIZE", 10)?,
        acquire_timeout: Duration::from_secs(vars.positive("DATABASE_ACQUIRE_TIMEOUT_SECONDS", 5)?),
        statement_timeout: (statement_timeout_ms > 0).then(|| Duration::from_millis(statement_timeout_ms)),
        pool_threads: if vars.flag("DATABASE_POOL_PER_WORKER", true)? { workers } else { 0 },
    })
}

/// `REDIS_URL` and, checked even without it, `REDIS_KEY_PREFIX`, `REDIS_POOL_SIZE`,
/// `REDIS_TIMEOUT_MS`, `REVOCATION_CACHE_MS` (0..=1000, default 1000).
fn redis(vars: &Vars) -> Result<Option<RedisSettings>, ConfigError> {
    let url = vars.raw("REDIS_URL").map(|v| v.trim().to_owned());
    if let Some(url) = &url
        && !(url.starts_with("redis://") || url.starts_with("redis+unix://"))
    {
        return Err(ConfigError { var: "REDIS_URL", reason: "expected redis://host:port[/db]".into() });
    }
    let key_prefix = vars.raw("REDIS_KEY_PREFIX").unwrap_or("hexgate:").to_owned();
    let pool_size = vars.positive("REDIS_POOL_SIZE", 16)?;
    let timeout = Duration::from_millis(vars.positive("REDIS_TIMEOUT_MS", 1000)?);
    let revocation_answer_ttl = Duration::from_millis(vars.parse("REVOCATION_CACHE_MS", 1000)?);
    if revocation_answer_ttl > Duration::from_secs(1) {
        // Beyond a second, another instance's logout would take longer than the contract's
        // "at once" allows even on paper.
        return Err(ConfigError { var: "REVOCATION_CACHE_MS", reason: "at most 1000".into() });
    }
    Ok(url.map(|url| RedisSettings { url, key_prefix, pool_size, timeout, revocation_answer_ttl }))
}

/// `OPEN_REGISTRATION` and `FIRST_SUPERUSER_EMAIL`, `_PASSWORD` (both or neither), `_USERNAME`.
fn users(vars: &Vars) -> Result<UserSettings, ConfigError> {
    let email = vars.raw("FIRST_SUPERUSER_EMAIL").map(|v| v.trim().to_owned());
    let password = vars.raw("FIRST_SUPERUSER_PASSWORD").map(|v| SecretString::from(v.to_owned()));
    if email.is_some() != password.is_some() {
        return Err(ConfigError {
            var: "FIRST_SUPERUSER_PASSWORD",
            reason: "FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD go together".into(),
        });
    }
    if let Some(p) = &password
        && let Err(e) = hexgate_domain::Password::parse(p.expose_secret())
    {
        return Err(ConfigError { var: "FIRST_SUPERUSER_PASSWORD", reason: e.to_string() });
    }
    if let Some(e) = &email
        && let Err(err) = hexgate_domain::Email::parse(e)
    {
        return Err(ConfigError { var: "FIRST_SUPERUSER_EMAIL", reason: err.to_string() });
    }
    let username = vars.raw("FIRST_SUPERUSER_USERNAME").unwrap_or("admin").trim().to_owned();
    if let Err(e) = hexgate_domain::Username::parse(&username) {
        return Err(ConfigError { var: "FIRST_SUPERUSER_USERNAME", reason: e.to_string() });
    }
    Ok(UserSettings {
        open_registration: vars.flag("OPEN_REGISTRATION", true)?,
        first_superuser: email.zip(password).map(|(email, password)| FirstSuperuser { email, username, password }),
    })
}

/// `SMTP_URL`, `MAIL_FROM`, `MAIL_OUTBOX_DIR`.
fn mail(vars: &Vars) -> Result<MailSettings, ConfigError> {
    let smtp_url = vars.raw("SMTP_URL").map(|v| v.trim().to_owned());
    if let Some(url) = &smtp_url
        && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
    {
        return Err(ConfigError { var: "SMTP_URL", reason: "expected smtp://… or smtps://…".into() });
    }
    let from = vars.raw("MAIL_FROM").unwrap_or("hexgate <no-reply@localhost>").trim().to_owned();
    if !from.contains('@') {
        return Err(ConfigError {
            var: "MAIL_FROM",
            reason: "expected an address such as hexgate <no-reply@example.com>".into(),
        });
    }
    let dir = vars.raw("MAIL_OUTBOX_DIR").unwrap_or("./data/outbox").trim().to_owned();
    Ok(match smtp_url {
        Some(url) => MailSettings::Smtp(SmtpSettings { url, from, timeout: Duration::from_secs(10) }),
        None => MailSettings::Outbox { dir, from },
    })
}

/// `HOST`, `PORT`, `PUBLIC_BASE_URL` (default `http://HOST:PORT`), `MIGRATE_ON_START`.
fn application(vars: &Vars) -> Result<ApplicationSettings, ConfigError> {
    let port: u16 = vars.parse("PORT", 8000)?;
    let host = vars.raw("HOST").unwrap_or("127.0.0.1").trim().to_owned();
    let public_base_url = vars
        .raw("PUBLIC_BASE_URL")
        .map_or_else(|| format!("http://{host}:{port}"), |v| v.trim().trim_end_matches('/').to_owned());
    if !(public_base_url.starts_with("http://") || public_base_url.starts_with("https://")) {
        return Err(ConfigError { var: "PUBLIC_BASE_URL", reason: "expected http://… or https://…".into() });
    }
    Ok(ApplicationSettings { host, port, public_base_url, migrate_on_start: vars.flag("MIGRATE_ON_START", true)? })
}

/// `REFRESH_TOKEN_EXPIRE_DAYS`, `REFRESH_REUSE_GRACE_SECONDS`, `LOGIN_MAX_FAILURES`,
/// `LOGIN_FAILURE_WINDOW_SECONDS`.
fn auth(vars: &Vars) -> Result<AuthPolicy, ConfigError> {
    Ok(AuthPolicy {
        refresh_ttl: ChronoDuration::days(vars.positive("REFRESH_TOKEN_EXPIRE_DAYS", 30)?),
        refresh_reuse_grace: ChronoDuration::seconds(vars.parse("REFRESH_REUSE_GRACE_SECONDS", 10)?),
        login_max_failures: vars.positive("LOGIN_MAX_FAILURES", 5)?,
        login_failure_window: Duration::from_secs(vars.positive("LOGIN_FAILURE_WINDOW_SECONDS", 900)?),
    })
}

/// `WEBAUTHN_RP_ID` (default `localhost`), `WEBAUTHN_ORIGIN` (default `http://localhost:8000`; a
/// comma-separated list). Checked here, so a bad pair stops start-up naming the variable.
fn webauthn(vars: &Vars) -> Result<hexgate_crypto_adapter::WebAuthnSettings, ConfigError> {
    let defaults = hexgate_crypto_adapter::WebAuthnSettings::default();
    let origins = vars.list("WEBAUTHN_ORIGIN");
    let settings = hexgate_crypto_adapter::WebAuthnSettings {
        rp_id: vars.raw("WEBAUTHN_RP_ID").map_or(defaults.rp_id, |v| v.trim().to_owned()),
        origins: if origins.is_empty() { defaults.origins } else { origins },
    };
    hexgate_crypto_adapter::WebAuthnCeremonies::new(&settings)
        .map_err(|e| ConfigError { var: "WEBAUTHN_ORIGIN", reason: e.to_string() })?;
    Ok(settings)
}

/// `UPLOAD_DIR`, `MAX_UPLOAD_BYTES`.
fn uploads(vars: &Vars) -> Result<UploadSettings, ConfigError> {
    Ok(UploadSettings {
        dir: vars.raw("UPLOAD_DIR").unwrap_or("./data/uploads").trim().to_owned(),
        max_bytes: vars.positive("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)?,
    })
}

/// `JOB_WORKERS` (`0`: none here), `JOB_POLL_INTERVAL_MS`.
fn jobs(vars: &Vars) -> Result<JobSettings, ConfigError> {
    Ok(JobSettings {
        workers: vars.parse("JOB_WORKERS", 2)?,
        poll_interval: Duration::from_millis(vars.positive("JOB_POLL_INTERVAL_MS", 500)?),
    })
}

/// `CHAT_PING_INTERVAL_MS`, `CHAT_CLIENT_TIMEOUT_MS`, `CHAT_SEND_QUEUE`, `CHAT_MESSAGES_PER_MINUTE`,
/// `CHAT_SESSION_CHECK_INTERVAL_MS`.
fn chat(vars: &Vars) -> Result<ChatSettings, ConfigError> {
    Ok(ChatSettings {
        ping_interval: Duration::from_millis(vars.positive("CHAT_PING_INTERVAL_MS", 20_000)?),
        client_timeout: Duration::from_millis(vars.positive("CHAT_CLIENT_TIMEOUT_MS", 60_000)?),
        send_queue: vars.positive("CHAT_SEND_QUEUE", 256)?,
        messages_per_minute: vars.positive("CHAT_MESSAGES_PER_MINUTE", hexgate_ports::DEFAULT_MESSAGES_PER_MINUTE)?,
        session_check_interval: Duration::from_millis(vars.positive("CHAT_SESSION_CHECK_INTERVAL_MS", 60_000)?),
    })
}

/// `AUDIT_RETENTION_DAYS` (default 365), `AUDIT_PRUNE_INTERVAL_SECONDS` (default 3600).
fn audit(vars: &Vars) -> Result<AuditSettings, ConfigError> {
    Ok(AuditSettings {
        retention_days: vars.positive("AUDIT_RETENTION_DAYS", 365)?,
        prune_interval: Duration::from_secs(vars.positive("AUDIT_PRUNE_INTERVAL_SECONDS", 3600)?),
    })
}

fn random_key() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 48];
    // Without an OS RNG nothing else here is safe either; a failure leaves a zero key that the
    // warning at start-up already tells the operator to replace.
    let _ = getrandom::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_embedded_development_setup() {
        let config = Config::from_vars(&Vars::from_pairs([])).expect("valid");
        assert_eq!(config.environment, Environment::Development);
        assert_eq!(config.application.port, 8000);
        assert_eq!(config.application.public_base_url, "http://127.0.0.1:8000");
        assert!(config.database.url.starts_with("sqlite:"));
        assert_eq!(config.database.statement_timeout, Some(Duration::from_secs(30)));
        assert!(config.redis.is_none());
        assert!(config.tokens.secret_key_generated && config.tokens.jwt.secret.expose_secret().len() >= 32);
        assert!(config.http.docs_enabled && config.users.open_registration);
        assert_eq!((config.http.rate_limit_per_minute, config.http.login_rate_limit_per_minute), (100, 10));
        assert!(matches!(&config.mail, MailSettings::Outbox { dir, .. } if dir == "./data/outbox"));
        assert!(config.users.first_superuser.is_none());
        assert_eq!((config.tokens.algorithm, config.tokens.key_cache), (JwtAlgorithm::EdDsa, Duration::from_secs(60)));
        let hs = Config::from_vars(&Vars::from_pairs([("JWT_ALGORITHM", "hs256")])).expect("valid");
        assert_eq!(hs.tokens.algorithm, JwtAlgorithm::Hs256);
    }

    #[test]
    fn production_refuses_a_missing_or_short_secret_key() {
        let missing = Config::from_vars(&Vars::from_pairs([("ENVIRONMENT", "production")])).expect_err("missing");
        assert_eq!(missing.var, "SECRET_KEY");
        let short = Config::from_vars(&Vars::from_pairs([("ENVIRONMENT", "production"), ("SECRET_KEY", "short")]))
            .expect_err("short");
        assert_eq!(short.var, "SECRET_KEY");
        let ok = Config::from_vars(&Vars::from_pairs([("ENVIRONMENT", "production"), ("SECRET_KEY", &"k".repeat(32))]))
            .expect("valid");
        assert!(!ok.http.docs_enabled, "docs are off in production by default");
        assert_eq!(ok.log_format, LogFormat::Json);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (var, value) in [
            ("PORT", "eighty"),
            ("RATE_LIMIT_PER_MINUTE", "0"),
            ("OPEN_REGISTRATION", "maybe"),
            ("LOG_FORMAT", "xml"),
            ("TRUSTED_PROXIES", "not-an-ip"),
            ("ALLOWED_ORIGINS", "*"),
            ("DATABASE_URL", "mysql://x"),
            ("ENVIRONMENT", "staging"),
            ("JWT_ALGORITHM", "RS256"),
            ("KEY_CACHE_SECONDS", "0"),
        ] {
            let err = Config::from_vars(&Vars::from_pairs([(var, value)])).expect_err(var);
            assert_eq!(err.var, var);
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn the_first_superuser_needs_both_halves_and_a_policy_password() {
        let half =
            Config::from_vars(&Vars::from_pairs([("FIRST_SUPERUSER_EMAIL", "a@example.com")])).expect_err("half");
        assert_eq!(half.var, "FIRST_SUPERUSER_PASSWORD");
        let weak = Config::from_vars(&Vars::from_pairs([
            ("FIRST_SUPERUSER_EMAIL", "a@example.com"),
            ("FIRST_SUPERUSER_PASSWORD", "weak"),
        ]))
        .expect_err("weak");
        assert_eq!(weak.var, "FIRST_SUPERUSER_PASSWORD");
    }

    #[test]
    fn sections_carry_the_adapters_settings() {
        let config = Config::from_vars(&Vars::from_pairs([
            ("REDIS_URL", "redis://cache:6379/2"),
            ("REDIS_POOL_SIZE", "4"),
            ("DATABASE_STATEMENT_TIMEOUT_MS", "0"),
            ("SMTP_URL", "smtp://mailer:secret@smtp.example.com:587"),
            ("FIRST_SUPERUSER_EMAIL", "root@example.com"),
            ("FIRST_SUPERUSER_PASSWORD", "Correct-Horse-9"),
            ("JOB_POLL_INTERVAL_MS", "50"),
        ]))
        .expect("valid");
        let redis = config.redis.as_ref().expect("redis section");
        assert_eq!((redis.key_prefix.as_str(), redis.pool_size), ("hexgate:", 4));
        assert_eq!(config.database.statement_timeout, None);
        assert!(matches!(&config.mail, MailSettings::Smtp(smtp) if smtp.from == "hexgate <no-reply@localhost>"));
        let admin = config.users.first_superuser.as_ref().expect("superuser");
        assert_eq!((admin.email.as_str(), admin.username.as_str()), ("root@example.com", "admin"));
        assert_eq!(config.jobs.poll_interval, Duration::from_millis(50));
        // Redis's settings are checked even when Redis is not used.
        let err = Config::from_vars(&Vars::from_pairs([("REDIS_POOL_SIZE", "0")])).expect_err("zero pool");
        assert_eq!(err.var, "REDIS_POOL_SIZE");
        assert!(!format!("{config:?}").contains("secret@"), "the SMTP password does not print");
    }

    #[test]
    fn secrets_do_not_print() {
        let config = Config::from_vars(&Vars::from_pairs([
            ("SECRET_KEY", "super-secret-key-that-is-long-enough-000"),
            ("DATABASE_URL", "postgres://app:hunter2@db/app"),
        ]))
        .expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("super-secret") && !printed.contains("hunter2"));
        assert_eq!(redact_url("postgres://app:hunter2@db/app"), "postgres://app:***@db/app");
    }
}
