use std::time::Duration;

use hexgate_ports::PortError;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database};

use crate::error::port_error;
use crate::pools::DatabasePools;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// PostgreSQL only: statements running longer are cancelled by the server.
    pub statement_timeout: Option<Duration>,
    /// PostgreSQL only: how many threads get a pool of their own (the HTTP workers); 0 for one
    /// shared pool. `max_connections` is shared out among these pools and the primary.
    pub pool_threads: u32,
}

/// How long a pooled connection may sit unused before it is pinged on checkout.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);

/// How long a SQLite writer waits for the database lock before giving up.
const SQLITE_BUSY: Duration = Duration::from_secs(5);

/// Opens a pool. A SQLite URL's file (and its folder) is created when missing.
///
/// # Errors
/// [`PortError::Unavailable`] when the database cannot be reached.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabasePools, PortError> {
    let mut url = settings.url.clone();
    if let Some(path) = sqlite_path(&url) {
        if let Some(dir) = std::path::Path::new(&path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| PortError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        if !url.contains("mode=") {
            url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
        }
    }
    if url.starts_with("postgres")
        && let Some(timeout) = settings.statement_timeout
    {
        // A connection parameter, so every pooled connection has it, not just the first.
        let sep = if url.contains('?') { '&' } else { '?' };
        url.push_str(&format!("{sep}options=-c%20statement_timeout%3D{}", timeout.as_millis()));
    }
    let per_thread = url.starts_with("postgres") && settings.pool_threads > 0;
    let threads = if per_thread { settings.pool_threads } else { 0 };
    let (primary_max, share) = shares(settings.max_connections, threads);
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(primary_max)
        .min_connections(1)
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        // sqlx pings a connection on every checkout by default: a second round trip per query,
        // about a fifth of `GET /users/me`'s cost (docs/benchmarks.md). Only a connection idle
        // for a while (one a restart or a firewall may have cut) is pinged now.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        // sqlx logs every statement at INFO otherwise; our own spans say what matters.
        .sqlx_logging(false)
        // SQLite: write-ahead logging (readers never wait for the writer), fsync at checkpoints
        // rather than every commit (a crash may lose the last commits, never corrupt the file),
        // and a writer waits for the lock instead of failing at once.
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal).busy_timeout(SQLITE_BUSY)
        });
    let db = Database::connect(options.clone()).await.map_err(port_error)?;
    if !per_thread {
        return Ok(DatabasePools::single(db));
    }
    options.max_connections(share).min_connections(0).connect_lazy(true);
    Ok(DatabasePools::per_thread(db, options, settings.pool_threads))
}

/// `budget` connections shared out as (the primary's maximum, each of `threads` pools' maximum):
/// equal shares, the remainder to the primary, at least one each.
fn shares(budget: u32, threads: u32) -> (u32, u32) {
    let share = (budget / (threads + 1)).max(1);
    (budget.saturating_sub(share * threads).max(1), share)
}

/// A cheap round trip, for readiness checks.
///
/// # Errors
/// [`PortError::Unavailable`] when the database does not answer.
pub async fn ping(db: &DatabasePools) -> Result<(), PortError> {
    db.conn().ping().await.map_err(port_error)
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{shares, sqlite_path};

    #[test]
    fn the_budget_is_shared_out_with_the_rest_to_the_primary() {
        assert_eq!(shares(10, 0), (10, 10));
        assert_eq!(shares(5, 1), (3, 2));
        assert_eq!(shares(20, 2), (8, 6));
        assert_eq!(shares(2, 4), (1, 1), "never zero, even past the budget");
    }

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(sqlite_path("sqlite://./data/hexgate.db?mode=rwc").as_deref(), Some("./data/hexgate.db"));
        assert_eq!(sqlite_path("sqlite:data.db").as_deref(), Some("data.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/db"), None);
    }
}
