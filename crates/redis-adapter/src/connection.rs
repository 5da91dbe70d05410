use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::redis::{self, RedisError};
use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};
use hexgate_ports::PortError;
use thread_local::ThreadLocal;

#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: String,
    /// Prepended to every key and channel, e.g. `hexgate:`.
    pub key_prefix: String,
    pub pool_size: usize,
    /// For taking a connection from the pool, making one, and each command.
    pub timeout: Duration,
    /// How long a "not revoked" answer is remembered in this process (zero: never).
    pub revocation_answer_ttl: Duration,
}

/// A pool for commands per thread, and a client for pub/sub subscriptions (which need their own
/// connection).
///
/// Why a pool per thread: a multiplexed Redis connection is driven by a task on the runtime that
/// opened it, and actix runs each HTTP worker on a runtime of its own. From a pool shared by the
/// workers, a command on another worker's connection crosses threads twice (to that driver and
/// back), each crossing a wake-up; from the thread's own pool it crosses none.
#[derive(Clone)]
pub struct RedisStore {
    config: Arc<Config>,
    pools: Arc<ThreadLocal<Pool>>,
    pub(crate) client: redis::Client,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
}

fn make_pool(config: &Config) -> Result<Pool, PortError> {
    config.create_pool(Some(Runtime::Tokio1)).map_err(|e| PortError::Internal(format!("redis config: {e}")))
}

pub(crate) fn unavailable(err: impl std::fmt::Display) -> PortError {
    PortError::Unavailable(format!("redis: {err}"))
}

impl RedisStore {
    /// Builds the pool. It connects lazily, so a Redis that is down at start-up does not stop the
    /// service: the first command reports it.
    ///
    /// # Errors
    /// [`PortError::Internal`] for a malformed URL.
    pub fn new(settings: &RedisSettings) -> Result<Self, PortError> {
        let mut config = Config::from_url(settings.url.clone());
        let timeouts =
            Timeouts { wait: Some(settings.timeout), create: Some(settings.timeout), recycle: Some(settings.timeout) };
        config.pool = Some(PoolConfig { max_size: settings.pool_size, timeouts, ..PoolConfig::default() });
        // Made once here so that a bad URL stops start-up; each thread's pool is made alike.
        let pools = ThreadLocal::new();
        pools.get_or_try(|| make_pool(&config))?;
        let client =
            redis::Client::open(settings.url.as_str()).map_err(|e| PortError::Internal(format!("redis url: {e}")))?;
        Ok(Self {
            config: Arc::new(config),
            pools: Arc::new(pools),
            client,
            prefix: settings.key_prefix.clone(),
            timeout: settings.timeout,
        })
    }

    /// The calling thread's pool, made on its first command.
    fn pool(&self) -> Result<&Pool, PortError> {
        self.pools.get_or_try(|| make_pool(&self.config))
    }

    pub(crate) fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        key.push_str(&parts.join(":"));
        key
    }

    /// Runs one command (or script) with a connection from the pool, within the timeout, in a
    /// client span named after the command (`redis EVALSHA`), a child of the
    /// request's span when traces are exported.
    pub(crate) async fn run_op<T, F>(&self, operation: &'static str, f: F) -> Result<T, PortError>
    where
        F: AsyncFnOnce(&mut deadpool_redis::Connection) -> Result<T, RedisError>,
    {
        use tracing::Instrument;
        let span = tracing::info_span!(
            "redis",
            otel.name = %format_args!("redis {operation}"),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            db.system.name = "redis",
            db.operation.name = operation,
        );
        let work = async {
            let mut conn = self.pool()?.get().await.map_err(unavailable)?;
            f(&mut conn).await.map_err(unavailable)
        };
        let result = tokio::time::timeout(self.timeout, work)
            .instrument(span.clone())
            .await
            .map_err(|_| unavailable("timed out"))
            .and_then(|r| r);
        if result.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        result
    }

    /// A round trip, for readiness checks.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when Redis does not answer.
    pub async fn ping(&self) -> Result<(), PortError> {
        self.run_op("PING", async |conn| redis::cmd("PING").query_async::<String>(conn).await).await.map(|_| ())
    }
}
