//! Typed configuration from the environment (and `.env`). A bad value stops start-up with a
//! message naming the variable; secrets never print.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

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

/// Everything hexgate reads from its environment.
#[derive(Clone)]
pub struct Config {
    pub environment: Environment,
    pub host: String,
    pub port: u16,
    pub database_url: String,
    pub database_pool_size: u32,
    pub database_acquire_timeout_secs: u64,
    pub database_statement_timeout_ms: u64,
    pub migrate_on_start: bool,
    /// Unset: limiter, revocation list and pub/sub live in this process.
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
    pub redis_pool_size: usize,
    pub redis_timeout_ms: u64,
    pub secret_key: SecretString,
    /// Whether the key was made up at start (development only).
    pub secret_key_generated: bool,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_expire_minutes: i64,
    pub refresh_token_expire_days: i64,
    pub refresh_reuse_grace_seconds: i64,
    pub allowed_origins: Vec<String>,
    pub rate_limit_per_minute: u64,
    pub login_rate_limit_per_minute: u64,
    pub login_max_failures: u64,
    pub login_failure_window_seconds: u64,
    pub trusted_proxies: Vec<IpNet>,
    pub open_registration: bool,
    pub docs_enabled: bool,
    pub json_body_limit_bytes: usize,
    pub first_superuser_email: Option<String>,
    pub first_superuser_username: String,
    pub first_superuser_password: Option<SecretString>,
    /// Unset: mails are written as `.eml` files to `mail_outbox_dir`.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub mail_outbox_dir: String,
    /// Where links in mails point.
    pub public_base_url: String,
    pub job_workers: usize,
    pub job_poll_interval_ms: u64,
    /// Where uploaded bytes are stored (the local file-store adapter).
    pub upload_dir: String,
    pub max_upload_bytes: u64,
    pub chat_ping_interval_ms: u64,
    pub chat_client_timeout_ms: u64,
    /// Messages queued for one chat client before it counts as not reading and is dropped.
    pub chat_send_queue: usize,
    pub log_format: LogFormat,
    pub web_workers: usize,
    pub shutdown_timeout_secs: u64,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("secret_key", &"<redacted>")
            .field("open_registration", &self.open_registration)
            .field("docs_enabled", &self.docs_enabled)
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
        let environment = match vars.raw("ENVIRONMENT").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("development" | "dev") => Environment::Development,
            Some("production" | "prod") => Environment::Production,
            Some("test") => Environment::Test,
            Some(other) => {
                return Err(ConfigError {
                    var: "ENVIRONMENT",
                    reason: format!("{other:?}: expected development, production or test"),
                });
            }
        };
        let production = environment == Environment::Production;

        let (secret_key, secret_key_generated) = match vars.raw("SECRET_KEY") {
            Some(key) if key.len() >= 32 => (SecretString::from(key.to_owned()), false),
            Some(_) => return Err(ConfigError { var: "SECRET_KEY", reason: "must be at least 32 bytes".into() }),
            None if production => {
                return Err(ConfigError {
                    var: "SECRET_KEY",
                    reason: "required in production (at least 32 bytes)".into(),
                });
            }
            None => (SecretString::from(random_key()), true),
        };

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
            let net = entry.parse::<IpNet>().or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from)).map_err(
                |_| ConfigError {
                    var: "TRUSTED_PROXIES",
                    reason: format!("{entry:?}: expected an IP address or CIDR"),
                },
            )?;
            trusted_proxies.push(net);
        }

        let log_format = match vars.raw("LOG_FORMAT").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None => {
                if production {
                    LogFormat::Json
                } else {
                    LogFormat::Pretty
                }
            }
            Some("json") => LogFormat::Json,
            Some("pretty" | "text") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError { var: "LOG_FORMAT", reason: format!("{other:?}: expected json or pretty") });
            }
        };

        let database_url = vars.raw("DATABASE_URL").unwrap_or("sqlite://./data/hexgate.db").trim().to_owned();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError { var: "DATABASE_URL", reason: "expected sqlite://… or postgres://…".into() });
        }
        let redis_url = vars.raw("REDIS_URL").map(|v| v.trim().to_owned());
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("redis+unix://"))
        {
            return Err(ConfigError { var: "REDIS_URL", reason: "expected redis://host:port[/db]".into() });
        }

        let first_superuser_email = vars.raw("FIRST_SUPERUSER_EMAIL").map(|v| v.trim().to_owned());
        let first_superuser_password = vars.raw("FIRST_SUPERUSER_PASSWORD").map(|v| SecretString::from(v.to_owned()));
        if first_superuser_email.is_some() != first_superuser_password.is_some() {
            return Err(ConfigError {
                var: "FIRST_SUPERUSER_PASSWORD",
                reason: "FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD go together".into(),
            });
        }
        if let Some(p) = &first_superuser_password
            && let Err(e) = hexgate_domain::Password::parse(p.expose_secret())
        {
            return Err(ConfigError { var: "FIRST_SUPERUSER_PASSWORD", reason: e.to_string() });
        }
        if let Some(e) = &first_superuser_email
            && let Err(err) = hexgate_domain::Email::parse(e)
        {
            return Err(ConfigError { var: "FIRST_SUPERUSER_EMAIL", reason: err.to_string() });
        }
        let first_superuser_username = vars.raw("FIRST_SUPERUSER_USERNAME").unwrap_or("admin").trim().to_owned();
        if let Err(e) = hexgate_domain::Username::parse(&first_superuser_username) {
            return Err(ConfigError { var: "FIRST_SUPERUSER_USERNAME", reason: e.to_string() });
        }

        let smtp_url = vars.raw("SMTP_URL").map(|v| v.trim().to_owned());
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err(ConfigError { var: "SMTP_URL", reason: "expected smtp://… or smtps://…".into() });
        }
        let mail_from = vars.raw("MAIL_FROM").unwrap_or("hexgate <no-reply@localhost>").trim().to_owned();
        if !mail_from.contains('@') {
            return Err(ConfigError {
                var: "MAIL_FROM",
                reason: "expected an address such as hexgate <no-reply@example.com>".into(),
            });
        }
        let port: u16 = vars.parse("PORT", 8000)?;
        let host = vars.raw("HOST").unwrap_or("127.0.0.1").trim().to_owned();
        let public_base_url = vars
            .raw("PUBLIC_BASE_URL")
            .map_or_else(|| format!("http://{host}:{port}"), |v| v.trim().trim_end_matches('/').to_owned());
        if !(public_base_url.starts_with("http://") || public_base_url.starts_with("https://")) {
            return Err(ConfigError { var: "PUBLIC_BASE_URL", reason: "expected http://… or https://…".into() });
        }
        let default_workers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Ok(Self {
            environment,
            host,
            port,
            database_url,
            database_pool_size: vars.positive("DATABASE_POOL_SIZE", 10)?,
            database_acquire_timeout_secs: vars.positive("DATABASE_ACQUIRE_TIMEOUT_SECONDS", 5)?,
            database_statement_timeout_ms: vars.parse("DATABASE_STATEMENT_TIMEOUT_MS", 30_000)?,
            migrate_on_start: vars.flag("MIGRATE_ON_START", true)?,
            redis_url,
            redis_key_prefix: vars.raw("REDIS_KEY_PREFIX").unwrap_or("hexgate:").to_owned(),
            redis_pool_size: vars.positive("REDIS_POOL_SIZE", 16)?,
            redis_timeout_ms: vars.positive("REDIS_TIMEOUT_MS", 1000)?,
            secret_key,
            secret_key_generated,
            jwt_issuer: vars.raw("JWT_ISSUER").unwrap_or("hexgate").to_owned(),
            jwt_audience: vars.raw("JWT_AUDIENCE").unwrap_or("hexgate-api").to_owned(),
            access_token_expire_minutes: vars.positive("ACCESS_TOKEN_EXPIRE_MINUTES", 15)?,
            refresh_token_expire_days: vars.positive("REFRESH_TOKEN_EXPIRE_DAYS", 30)?,
            refresh_reuse_grace_seconds: vars.parse("REFRESH_REUSE_GRACE_SECONDS", 10)?,
            allowed_origins,
            rate_limit_per_minute: vars.positive("RATE_LIMIT_PER_MINUTE", 100)?,
            login_rate_limit_per_minute: vars.positive("LOGIN_RATE_LIMIT_PER_MINUTE", 10)?,
            login_max_failures: vars.positive("LOGIN_MAX_FAILURES", 5)?,
            login_failure_window_seconds: vars.positive("LOGIN_FAILURE_WINDOW_SECONDS", 900)?,
            trusted_proxies,
            open_registration: vars.flag("OPEN_REGISTRATION", true)?,
            docs_enabled: vars.flag("DOCS_ENABLED", !production)?,
            json_body_limit_bytes: vars.positive("JSON_BODY_LIMIT_BYTES", 1024 * 1024)?,
            first_superuser_email,
            first_superuser_username,
            first_superuser_password,
            smtp_url,
            mail_from,
            mail_outbox_dir: vars.raw("MAIL_OUTBOX_DIR").unwrap_or("./data/outbox").trim().to_owned(),
            public_base_url,
            job_workers: vars.parse("JOB_WORKERS", 2)?,
            job_poll_interval_ms: vars.positive("JOB_POLL_INTERVAL_MS", 500)?,
            upload_dir: vars.raw("UPLOAD_DIR").unwrap_or("./data/uploads").trim().to_owned(),
            max_upload_bytes: vars.positive("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)?,
            chat_ping_interval_ms: vars.positive("CHAT_PING_INTERVAL_MS", 20_000)?,
            chat_client_timeout_ms: vars.positive("CHAT_CLIENT_TIMEOUT_MS", 60_000)?,
            chat_send_queue: vars.positive("CHAT_SEND_QUEUE", 256)?,
            log_format,
            web_workers: vars.positive("WEB_WORKERS", default_workers)?,
            shutdown_timeout_secs: vars.parse("SHUTDOWN_TIMEOUT_SECONDS", 30)?,
        })
    }
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
        assert_eq!(config.port, 8000);
        assert!(config.database_url.starts_with("sqlite:"));
        assert!(config.secret_key_generated && config.secret_key.expose_secret().len() >= 32);
        assert!(config.docs_enabled && config.open_registration);
        assert_eq!((config.rate_limit_per_minute, config.login_rate_limit_per_minute), (100, 10));
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
        assert!(!ok.docs_enabled, "docs are off in production by default");
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
