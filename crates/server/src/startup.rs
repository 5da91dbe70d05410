//! Picks adapters from configuration, plugs them into the services and starts the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hexgate_actix_http::{HttpServerHandle, HttpState, ReadinessCheck};
use hexgate_crypto_adapter::{
    Argon2Hasher, EdDsaIssuer, JwtAlgorithm, JwtConfig, JwtIssuer, KeyCacheStats, SigningKeyRing,
};
use hexgate_domain::{Email, FullName, Password, Username};
use hexgate_memory_adapter::{FallbackRateLimiter, InMemoryPubSub, InMemoryRateLimiter, InMemoryRevocationList};
use hexgate_migrations::{Migrations, Migrator};
use hexgate_ports::{
    AuthService, CatalogService, ChatService, Clock, NewAccount, OrderService, PasswordHasher, ProfileService, PubSub,
    RateLimiter, RevocationList, SigningKeyPolicy, SigningKeyService, SuperuserOutcome, SystemClock, TokenIssuer,
    UserService,
};
use hexgate_postgres_adapter::{
    DatabasePools, SqlOrderRepository, SqlPreferencesRepository, SqlProductRepository, SqlSessionRepository,
    SqlUserRepository,
};
use hexgate_redis_adapter::{RedisPubSub, RedisRateLimiter, RedisRevocationList, RedisStore};
use secrecy::{ExposeSecret, SecretString};
use tracing::{info, warn};

use crate::config::{Config, Environment, MailSettings, redact_url};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(String),
    #[error("migrations: {0}")]
    Migrations(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("first superuser: {0}")]
    Superuser(String),
    #[error("signing keys: {0}")]
    SigningKeys(String),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// Everything wired, ready to serve.
pub struct Services {
    /// Runs queued jobs (welcome mails, …) for the worker pool.
    pub jobs: Arc<hexgate_ports::JobRunner>,
    /// Nudges this instance's workers when a job is queued here.
    pub wakeup: Arc<crate::workers::WorkerWakeup>,
    pub state: HttpState,
    pub users: Arc<UserService>,
    pub db: DatabasePools,
    /// Fan-out between instances (Redis) or within this one; the chat will publish through it.
    pub pubsub: Arc<dyn PubSub>,
    /// Access-token signing keys (rotation, the list, retirement).
    pub signing_keys: Arc<SigningKeyService>,
    /// How often this process has read the signing-key store.
    pub key_cache: Arc<KeyCacheStats>,
    /// How often the retirement job runs (`KEY_CACHE_SECONDS`).
    pub key_retirement_interval: Duration,
}

struct DatabaseCheck(DatabasePools);

#[async_trait]
impl ReadinessCheck for DatabaseCheck {
    fn name(&self) -> &'static str {
        "database"
    }
    async fn check(&self) -> Result<(), String> {
        hexgate_postgres_adapter::ping(&self.0).await.map_err(|e| e.to_string())
    }
}

/// Uploads need somewhere to go.
struct FileStoreCheck(Arc<dyn hexgate_ports::FileStore>);

#[async_trait]
impl ReadinessCheck for FileStoreCheck {
    fn name(&self) -> &'static str {
        "uploads"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.check().await.map_err(|e| e.to_string())
    }
}

/// The in-process cache is always there; Redis is asked.
enum CacheCheck {
    InProcess,
    Redis(Box<RedisStore>),
}

#[async_trait]
impl ReadinessCheck for CacheCheck {
    fn name(&self) -> &'static str {
        "cache"
    }
    async fn check(&self) -> Result<(), String> {
        match self {
            Self::InProcess => Ok(()),
            Self::Redis(store) => store.ping().await.map_err(|e| e.to_string()),
        }
    }
}

/// The ports Redis serves when configured, else their in-process versions.
struct SharedState {
    limiter: Arc<dyn RateLimiter>,
    revocations: Arc<dyn RevocationList>,
    pubsub: Arc<dyn PubSub>,
    check: CacheCheck,
}

fn shared_state(config: &Config) -> Result<SharedState, StartupError> {
    let Some(settings) = &config.redis else {
        return Ok(SharedState {
            limiter: Arc::new(InMemoryRateLimiter::new()),
            revocations: Arc::new(InMemoryRevocationList::new()),
            pubsub: Arc::new(InMemoryPubSub::new()),
            check: CacheCheck::InProcess,
        });
    };
    let (url, prefix) = (redact_url(&settings.url), &settings.key_prefix);
    info!(%url, %prefix, "using Redis for limits, revocations and pub/sub");
    let store = RedisStore::new(settings).map_err(|e| StartupError::Config(format!("REDIS_URL: {e}")))?;
    Ok(SharedState {
        // Limits survive a Redis outage by counting in process; revocations do not (a check that
        // cannot be made answers 503 rather than letting a revoked token in, once the last
        // remembered "not revoked" answer is older than REVOCATION_CACHE_MS).
        limiter: Arc::new(FallbackRateLimiter::new(Arc::new(RedisRateLimiter::new(store.clone())))),
        revocations: Arc::new(RedisRevocationList::new(store.clone(), settings.revocation_answer_ttl)),
        pubsub: Arc::new(RedisPubSub::new(store.clone())),
        check: CacheCheck::Redis(Box::new(store)),
    })
}

/// Opens the database and applies migrations when configured to.
///
/// # Errors
/// When the database cannot be reached or a migration fails.
pub async fn database(config: &Config) -> Result<DatabasePools, StartupError> {
    info!(url = %redact_url(&config.database.url), "connecting to the database");
    hexgate_postgres_adapter::connect(&config.database).await.map_err(|e| StartupError::Database(e.to_string()))
}

/// Applies pending migrations. On PostgreSQL they run under a transaction-scoped advisory lock,
/// so several instances starting at once apply them once, one after the other.
///
/// # Errors
/// When a migration fails.
pub async fn migrate_up(db: &hexgate_postgres_adapter::DatabaseConnection) -> Result<(), StartupError> {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    let failed = |e: sea_orm::DbErr| StartupError::Migrations(e.to_string());
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await.map_err(failed);
    }
    let txn = db.begin().await.map_err(failed)?;
    // An arbitrary key, reserved for hexgate's migrations; released when the transaction ends.
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(7265047700)").await.map_err(failed)?;
    Migrator::up(&txn, None).await.map_err(failed)?;
    txn.commit().await.map_err(failed)
}

/// The development secret survives restarts (so a restart does not log everyone out) in
/// `./data/dev_secret_key`, next to the default database.
fn development_secret(config: &Config) -> SecretString {
    let path = std::path::Path::new("data/dev_secret_key");
    if let Ok(existing) = std::fs::read_to_string(path)
        && existing.trim().len() >= 32
    {
        return SecretString::from(existing.trim().to_owned());
    }
    let fresh = config.tokens.jwt.secret.expose_secret().to_owned();
    if std::fs::create_dir_all("data").and_then(|()| std::fs::write(path, &fresh)).is_err() {
        warn!("could not keep the development secret in data/dev_secret_key; tokens end at restart");
    }
    SecretString::from(fresh)
}

/// Builds every adapter and service from `config`.
///
/// # Errors
/// Any [`StartupError`].
pub async fn wire(config: &Config) -> Result<Services, StartupError> {
    let db = database(config).await?;
    if config.application.migrate_on_start {
        migrate_up(db.primary()).await?;
    }
    let jwt = if config.tokens.secret_key_generated && config.environment == Environment::Development {
        warn!("SECRET_KEY is not set: using a generated development key (never do this in production)");
        JwtConfig { secret: development_secret(config), ..config.tokens.jwt.clone() }
    } else {
        config.tokens.jwt.clone()
    };
    // One sealer for every list's cursors (audit log, users, products, orders).
    let sealer: Arc<dyn hexgate_ports::CursorSealer> =
        Arc::new(hexgate_crypto_adapter::HmacCursorSealer::new(&jwt.secret));
    let secret_key = jwt.secret.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (tokens, signing_keys, key_cache) = signing(config, &db, jwt, clock.clone()).await?;
    let audit_log: Arc<dyn hexgate_ports::AuditLog> = Arc::new(hexgate_postgres_adapter::SqlAuditLog::new(db.clone()));
    let audit = Arc::new(hexgate_ports::AuditService::new(audit_log.clone(), sealer.clone(), clock.clone()));
    let api_keys = Arc::new(hexgate_ports::ApiKeyService::new(
        Arc::new(hexgate_postgres_adapter::SqlApiKeyRepository::new(db.clone())),
        tokens.clone(),
        clock.clone(),
    ));
    let users_repo = Arc::new(SqlUserRepository::new(db.clone()));
    let sessions_repo = Arc::new(SqlSessionRepository::new(db.clone()));
    let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2Hasher::new());
    let SharedState { limiter, revocations, pubsub, check } = shared_state(config)?;
    // Sessions ending (logout, revocation, password change or reset, deactivation, deletion) are
    // told to every instance, so open chats on them close wherever they are.
    let access_events = Arc::new(hexgate_ports::AccessEvents::new(pubsub.clone()));

    let file_store: Arc<dyn hexgate_ports::FileStore> = Arc::new(
        hexgate_fs_adapter::LocalFileStore::new(&config.uploads.dir)
            .map_err(|e| StartupError::Config(format!("UPLOAD_DIR {}: {e}", config.uploads.dir)))?,
    );
    let users = Arc::new(
        UserService::new(
            users_repo.clone(),
            hasher.clone(),
            clock.clone(),
            sealer.clone(),
            config.users.open_registration,
        )
        .with_file_store(file_store.clone())
        .with_access_events(access_events.clone()),
    );
    let account_tokens: Arc<dyn hexgate_ports::AccountTokenRepository> =
        Arc::new(hexgate_postgres_adapter::SqlAccountTokenRepository::new(db.clone()));
    let job_queue: Arc<dyn hexgate_ports::JobQueue> = Arc::new(hexgate_postgres_adapter::SqlJobQueue::new(db.clone()));
    let account = Arc::new(hexgate_ports::AccountService {
        jobs: job_queue.clone(),
        tokens: account_tokens.clone(),
        issuer: tokens.clone(),
        hasher: hasher.clone(),
        clock: clock.clone(),
        access_events: Some(access_events.clone()),
        users: users_repo.clone(),
    });
    let mfa_repo: Arc<dyn hexgate_ports::MfaRepository> =
        Arc::new(hexgate_postgres_adapter::SqlMfaRepository::new(db.clone()));
    let auth = Arc::new(
        AuthService::new(
            users_repo.clone(),
            sessions_repo,
            account_tokens.clone(),
            hasher.clone(),
            tokens.clone(),
            revocations,
            limiter.clone(),
            clock.clone(),
            config.auth.clone(),
        )
        .with_access_events(access_events)
        .with_audit(audit_log)
        .with_mfa(mfa_repo.clone()),
    );
    let ceremonies = hexgate_crypto_adapter::WebAuthnCeremonies::new(&config.webauthn)
        .map_err(|e| StartupError::Config(format!("WEBAUTHN_ORIGIN: {e}")))?;
    let passkeys = Arc::new(hexgate_ports::PasskeyService::new(
        Arc::new(hexgate_postgres_adapter::SqlPasskeyRepository::new(db.clone())),
        Arc::new(ceremonies),
        users_repo.clone(),
        auth.clone(),
        clock.clone(),
    ));
    let mfa = Arc::new(
        hexgate_ports::MfaService::new(
            mfa_repo,
            Arc::new(hexgate_crypto_adapter::TotpSecondFactor::new(&secret_key)),
            users_repo.clone(),
            hasher,
            tokens.clone(),
            auth.clone(),
            clock.clone(),
        )
        .with_passkeys(passkeys.clone()),
    );
    let readiness: Vec<Arc<dyn ReadinessCheck>> =
        vec![Arc::new(DatabaseCheck(db.clone())), Arc::new(check), Arc::new(FileStoreCheck(file_store.clone()))];
    let orders_repo = Arc::new(SqlOrderRepository::new(db.clone()));
    let catalog =
        Arc::new(CatalogService::new(Arc::new(SqlProductRepository::new(db.clone())), clock.clone(), sealer.clone()));
    let orders = Arc::new(OrderService::new(orders_repo.clone(), clock.clone(), sealer.clone()));
    let profiles = Arc::new(ProfileService::new(
        users_repo.clone(),
        orders_repo,
        Arc::new(SqlPreferencesRepository::new(db.clone())),
        clock.clone(),
    ));
    let files_repo: Arc<dyn hexgate_ports::FileRepository> =
        Arc::new(hexgate_postgres_adapter::SqlFileRepository::new(db.clone()));
    let wakeup = Arc::new(crate::workers::WorkerWakeup::default());
    let files = Arc::new(
        hexgate_ports::FileService::new(
            files_repo.clone(),
            file_store.clone(),
            job_queue.clone(),
            clock.clone(),
            config.uploads.max_bytes,
        )
        .with_wakeup(wakeup.clone()),
    );
    let orgs_repo: Arc<dyn hexgate_ports::OrganizationRepository> =
        Arc::new(hexgate_postgres_adapter::SqlOrganizationRepository::new(db.clone()));
    let orgs = Arc::new(
        hexgate_ports::OrgService::new(orgs_repo.clone(), audit.clone(), tokens.clone(), clock.clone())
            .with_wakeup(wakeup.clone()),
    );
    let metrics = metrics(config, &db);
    let chat = Arc::new(
        ChatService::new(pubsub.clone(), config.chat.send_queue).with_message_limit(config.chat.messages_per_minute),
    );
    tokio::spawn(chat.relay(tokio::time::sleep).await);
    let state = HttpState {
        auth,
        account,
        users: users.clone(),
        catalog,
        orders,
        profiles,
        files,
        chat,
        signing_keys: signing_keys.clone(),
        chat_settings: config.chat.clone(),
        limiter,
        api_keys,
        audit: audit.clone(),
        orgs,
        mfa,
        passkeys,
        readiness,
        metrics: metrics.clone(),
    };
    let mailer: Arc<dyn hexgate_ports::Mailer> = match &config.mail {
        MailSettings::Smtp(smtp) => {
            Arc::new(hexgate_mail_adapter::SmtpMailer::new(smtp).map_err(|e| StartupError::Config(e.to_string()))?)
        }
        MailSettings::Outbox { dir, from } => {
            info!(outbox = %dir, "mails go to the outbox folder (SMTP_URL is not set)");
            Arc::new(
                hexgate_mail_adapter::OutboxMailer::new(dir, from).map_err(|e| StartupError::Config(e.to_string()))?,
            )
        }
    };
    let invitation_mail = Arc::new(hexgate_ports::OrgInvitationMailJob {
        orgs: orgs_repo,
        issuer: tokens.clone(),
        mailer: mailer.clone(),
        clock: clock.clone(),
        base_url: config.application.public_base_url.clone(),
    });
    let links = Arc::new(hexgate_ports::LinkMailer {
        users: users_repo.clone(),
        tokens: account_tokens,
        issuer: tokens,
        mailer: mailer.clone(),
        clock: clock.clone(),
        base_url: config.application.public_base_url.clone(),
    });
    let jobs = Arc::new(
        hexgate_ports::JobRunner::new(
            job_queue,
            clock.clone(),
            hexgate_domain::job::RetryPolicy::default(),
            Duration::from_secs(60),
        )
        .with_metrics(metrics)
        .with_trace_link(crate::telemetry::job_link())
        .with(
            hexgate_ports::WELCOME_MAIL,
            Arc::new(hexgate_ports::WelcomeMailJob {
                users: users_repo.clone(),
                mailer,
                base_url: config.application.public_base_url.clone(),
            }),
        )
        .with(hexgate_ports::PASSWORD_RESET_MAIL, Arc::new(hexgate_ports::PasswordResetMailJob(links.clone())))
        .with(hexgate_ports::VERIFICATION_MAIL, Arc::new(hexgate_ports::VerificationMailJob(links)))
        .with(hexgate_ports::ORG_INVITATION_MAIL, invitation_mail)
        .with(
            hexgate_ports::AUDIT_RETENTION,
            Arc::new(hexgate_ports::AuditRetentionJob {
                audit,
                retention: chrono::Duration::days(i64::from(config.audit.retention_days)),
            }),
        )
        .with(
            hexgate_ports::PROCESS_FILE,
            Arc::new(hexgate_ports::ProcessFileJob { files: files_repo, store: file_store, clock: clock.clone() }),
        ),
    );
    Ok(Services {
        jobs,
        wakeup,
        state,
        users,
        db,
        pubsub,
        signing_keys,
        key_cache,
        key_retirement_interval: config.tokens.key_cache,
    })
}

/// The access-token issuer `JWT_ALGORITHM` asks for, and the signing keys: checked against
/// `SECRET_KEY` (a key that does not open stops start-up), the first one made if there is none.
async fn signing(
    config: &Config,
    db: &DatabasePools,
    jwt: JwtConfig,
    clock: Arc<dyn Clock>,
) -> Result<(Arc<dyn TokenIssuer>, Arc<SigningKeyService>, Arc<KeyCacheStats>), StartupError> {
    let store = Arc::new(hexgate_postgres_adapter::SqlSigningKeyRepository::new(db.clone()));
    let algorithm = config.tokens.algorithm;
    let ring = Arc::new(SigningKeyRing::new(
        store.clone(),
        jwt.secret.expose_secret().as_bytes(),
        algorithm,
        config.tokens.key_cache,
    ));
    let policy = SigningKeyPolicy {
        access_ttl: jwt.access_ttl,
        leeway: chrono::Duration::seconds(i64::try_from(jwt.leeway_secs).unwrap_or(i64::MAX)),
        issuer: jwt.issuer.clone(),
        public_base_url: config.application.public_base_url.clone(),
    };
    let tokens: Arc<dyn TokenIssuer> = match algorithm {
        JwtAlgorithm::EdDsa => Arc::new(EdDsaIssuer::new(ring.clone(), &jwt)),
        JwtAlgorithm::Hs256 => {
            Arc::new(JwtIssuer::new(jwt).map_err(|e| StartupError::Config(format!("SECRET_KEY: {e}")))?)
        }
    };
    let stats = ring.stats();
    let service = Arc::new(SigningKeyService::new(store, ring, clock, policy));
    service.ensure_key().await.map_err(|e| {
        let hint = if config.tokens.secret_key_generated && matches!(e, hexgate_ports::KeySetupError::WrongSecret(_)) {
            " (SECRET_KEY is unset: the generated development key is kept in data/dev_secret_key; restore that \
             file, set SECRET_KEY, or delete data/ for a fresh development database)"
        } else {
            ""
        };
        StartupError::SigningKeys(format!("{e}{hint}"))
    })?;
    info!(algorithm = algorithm.as_str(), "access tokens ready");
    Ok((tokens, service, stats))
}

/// This instance's metrics: Prometheus text with the pool and job backlog read at scrape time,
/// or nothing at all with `METRICS_ENABLED=false`.
fn metrics(config: &Config, db: &DatabasePools) -> Arc<dyn hexgate_ports::Metrics> {
    if !config.observability.metrics_enabled {
        return Arc::new(hexgate_ports::NoMetrics);
    }
    Arc::new(
        hexgate_metrics_adapter::PrometheusMetrics::new()
            .with_source(Arc::new(hexgate_postgres_adapter::SqlGauges::new(db.clone()))),
    )
}

/// Creates (or, with `promote`, grants admin to) the superuser named by `email`.
///
/// # Errors
/// When the parts are invalid or the store fails.
pub async fn ensure_superuser(
    users: &UserService,
    email: &str,
    username: &str,
    password: &SecretString,
    promote: bool,
) -> Result<SuperuserOutcome, StartupError> {
    let bad = |e: &dyn std::fmt::Display| StartupError::Superuser(e.to_string());
    let account = NewAccount {
        email: Email::parse(email).map_err(|e| bad(&e))?,
        username: Username::parse(username).map_err(|e| bad(&e))?,
        full_name: FullName::default(),
        is_active: true,
        password: Password::parse(password.expose_secret()).map_err(|e| bad(&e))?,
    };
    users.ensure_superuser(account, promote).await.map_err(|e| bad(&e))
}

/// A bound, wired server that has not started yet.
pub struct Application {
    pub port: u16,
    pub server: HttpServerHandle,
    pub services: Services,
    /// The port of `METRICS_ADDR`'s listener, when `/metrics` is served apart.
    pub metrics_port: Option<u16>,
    metrics_server: Option<HttpServerHandle>,
    workers: crate::workers::WorkerPool,
    /// Queues the audit log's retention job now and then (where jobs run).
    retention: Option<tokio::task::JoinHandle<()>>,
    retirement: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Wires everything and binds `HOST:PORT` (port 0 picks a free one).
    ///
    /// # Errors
    /// Any [`StartupError`].
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let services = wire(config).await?;
        if let Some(admin) = &config.users.first_superuser {
            let outcome =
                ensure_superuser(&services.users, &admin.email, &admin.username, &admin.password, false).await?;
            info!(?outcome, "first superuser");
        }
        let app = &config.application;
        let listener = TcpListener::bind((app.host.as_str(), app.port))?;
        let port = listener.local_addr()?.port();
        let server = hexgate_actix_http::serve(listener, services.state.clone(), config.http.clone())?;
        let (metrics_port, metrics_server) = match &config.observability.metrics_addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr.as_str())?;
                let port = listener.local_addr()?.port();
                let access = config.observability.metrics_access.clone();
                let server = hexgate_actix_http::serve_metrics(listener, services.state.metrics.clone(), access)?;
                info!(%addr, port, "metrics served apart");
                (Some(port), Some(server))
            }
            None => (None, None),
        };
        let workers = crate::workers::WorkerPool::start(services.jobs.clone(), &config.jobs, services.wakeup.clone());
        let retention = (config.jobs.workers > 0).then(|| {
            crate::retention::start(
                Arc::new(hexgate_postgres_adapter::SqlJobQueue::new(services.db.clone())),
                config.audit.prune_interval,
            )
        });
        let retirement = crate::key_retirement::start(services.signing_keys.clone(), services.key_retirement_interval);
        info!(host = %app.host, port, "hexgate listening");
        Ok(Self { port, server, services, metrics_port, metrics_server, workers, retention, retirement })
    }

    /// Serves until SIGTERM/SIGINT (or the handle) stops the server.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // actix stops accepting on SIGTERM/SIGINT and waits for open connections; chats never end
        // on their own, so close them (1001) at once rather than at the shutdown timeout.
        let chat = self.services.state.chat.clone();
        let closer = tokio::spawn(async move {
            shutdown_signal().await;
            chat.close_all();
        });
        let metrics = self.metrics_server.map(|m| {
            tokio::spawn(m.server);
            m.handle
        });
        let served = self.server.server.await;
        closer.abort();
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        served?;
        // In-flight requests are done; let the workers finish their current job, then close.
        if let Some(retention) = &self.retention {
            retention.abort();
        }
        self.retirement.abort();
        self.workers.shutdown().await;
        for db in self.services.db.all() {
            db.clone().close().await.ok();
        }
        info!("hexgate stopped");
        Ok(())
    }
}

/// SIGTERM or SIGINT, whichever comes first.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
