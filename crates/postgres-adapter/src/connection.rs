use std::time::Duration;

use hexgate_ports::PortError;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::error::port_error;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// PostgreSQL only: statements running longer are cancelled by the server.
    pub statement_timeout: Option<Duration>,
}

/// How long a pooled connection may sit unused before it is pinged on checkout.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);

/// How long a SQLite writer waits for the database lock before giving up.
const SQLITE_BUSY: Duration = Duration::from_secs(5);

/// Opens a pool. A SQLite URL's file (and its folder) is created when missing.
///
/// # Errors
/// [`PortError::Unavailable`] when the database cannot be reached.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, PortError> {
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
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(settings.max_connections)
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
    let db = Database::connect(options).await.map_err(port_error)?;
    Ok(db)
}

/// A cheap round trip, for readiness checks.
///
/// # Errors
/// [`PortError::Unavailable`] when the database does not answer.
pub async fn ping(db: &DatabaseConnection) -> Result<(), PortError> {
    db.ping().await.map_err(port_error)
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(sqlite_path("sqlite://./data/hexgate.db?mode=rwc").as_deref(), Some("./data/hexgate.db"));
        assert_eq!(sqlite_path("sqlite:data.db").as_deref(), Some("data.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/db"), None);
    }
}
