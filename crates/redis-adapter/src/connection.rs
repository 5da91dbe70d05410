use std::time::Duration;

use deadpool_redis::redis::{self, RedisError};
use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};
use hexgate_ports::PortError;

#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: String,
    /// Prepended to every key and channel, e.g. `hexgate:`.
    pub key_prefix: String,
    pub pool_size: usize,
    /// For taking a connection from the pool, making one, and each command.
    pub timeout: Duration,
}

/// A pool for commands and a client for pub/sub subscriptions (which need their own connection).
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) pool: Pool,
    pub(crate) client: redis::Client,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
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
        let pool =
            config.create_pool(Some(Runtime::Tokio1)).map_err(|e| PortError::Internal(format!("redis config: {e}")))?;
        let client =
            redis::Client::open(settings.url.as_str()).map_err(|e| PortError::Internal(format!("redis url: {e}")))?;
        Ok(Self { pool, client, prefix: settings.key_prefix.clone(), timeout: settings.timeout })
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
            let mut conn = self.pool.get().await.map_err(unavailable)?;
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
