//! The handle every repository holds: on PostgreSQL, one connection pool per thread that asks.
//!
//! actix runs each HTTP worker on a single-threaded runtime of its own, and a socket belongs to
//! the runtime that opened it: its readiness is reported by that runtime's reactor. With one pool
//! shared by every worker, a query on a connection another worker opened is a cross-thread
//! wake-up on each read (the opener's thread must wake, poll its reactor and wake the caller),
//! and the main thread, which opened the first connections at start-up, is woken for queries it
//! never makes. A pool per thread keeps every query's socket on the thread that awaits it
//! (docs/benchmarks.md, "what a benchmark changed"). SQLite keeps one pool: its connections run
//! on threads of their own whatever the runtime, and one file has one writer anyway.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::FutureExt as _;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use thread_local::ThreadLocal;

/// The connections of one process: a primary pool, opened at start-up (migrations, start-up
/// work, and any thread past the per-thread limit use it), and on PostgreSQL a lazily opened
/// pool for each of the first `threads` threads that query.
#[derive(Clone)]
pub struct DatabasePools {
    inner: Arc<Inner>,
}

struct Inner {
    primary: DatabaseConnection,
    per_thread: Option<PerThread>,
}

struct PerThread {
    /// The thread that opened the primary (start-up, and the jobs that run beside it): it keeps
    /// using the primary, whose sockets its own runtime drives, and takes no per-thread slot.
    owner: std::thread::ThreadId,
    /// The primary's options, lazy and without a minimum: a pool costs nothing until its
    /// thread queries.
    options: ConnectOptions,
    /// `None` for a thread that came after the limit: it uses the primary.
    pools: ThreadLocal<Option<DatabaseConnection>>,
    opened: AtomicU32,
    limit: u32,
}

impl PerThread {
    fn open(&self) -> Option<DatabaseConnection> {
        if std::thread::current().id() == self.owner {
            return None;
        }
        if self.opened.fetch_add(1, Ordering::Relaxed) >= self.limit {
            return None;
        }
        // A lazy PostgreSQL pool does no I/O when made (sea-orm awaits nothing without an
        // `after_connect`): the future is ready at its first poll. Should that ever change, the
        // thread falls back to the primary rather than block.
        Database::connect(self.options.clone()).now_or_never()?.ok()
    }
}

impl DatabasePools {
    /// One pool for every thread: SQLite, and tests that hand a connection over.
    #[must_use]
    pub fn single(primary: DatabaseConnection) -> Self {
        Self { inner: Arc::new(Inner { primary, per_thread: None }) }
    }

    /// `primary` for the calling thread and overflow, and up to `threads` more pools, each
    /// opened with `options` the first time another thread queries.
    #[must_use]
    pub(crate) fn per_thread(primary: DatabaseConnection, options: ConnectOptions, threads: u32) -> Self {
        let per_thread = PerThread {
            owner: std::thread::current().id(),
            options,
            pools: ThreadLocal::new(),
            opened: AtomicU32::new(0),
            limit: threads,
        };
        Self { inner: Arc::new(Inner { primary, per_thread: Some(per_thread) }) }
    }

    /// The pool of the calling thread.
    #[must_use]
    pub fn conn(&self) -> &DatabaseConnection {
        let Some(per_thread) = &self.inner.per_thread else {
            return &self.inner.primary;
        };
        per_thread.pools.get_or(|| per_thread.open()).as_ref().unwrap_or(&self.inner.primary)
    }

    /// The pool opened at start-up.
    #[must_use]
    pub fn primary(&self) -> &DatabaseConnection {
        &self.inner.primary
    }

    /// The most connections the process may hold: the primary's and every per-thread pool's
    /// maximum, whether opened yet or not.
    #[must_use]
    pub fn max_connections(&self) -> u32 {
        let primary = pool_max(&self.inner.primary);
        self.inner
            .per_thread
            .as_ref()
            .map_or(primary, |p| primary + p.options.get_max_connections().unwrap_or(1).saturating_mul(p.limit))
    }

    /// Every pool opened so far, the primary first (for the pool gauges).
    pub fn all(&self) -> impl Iterator<Item = &DatabaseConnection> {
        let threads = self.inner.per_thread.iter().flat_map(|p| p.pools.iter().filter_map(Option::as_ref));
        std::iter::once(&self.inner.primary).chain(threads)
    }
}

fn pool_max(db: &DatabaseConnection) -> u32 {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => db.get_postgres_connection_pool().options().get_max_connections(),
        sea_orm::DbBackend::Sqlite => db.get_sqlite_connection_pool().options().get_max_connections(),
        _ => 0,
    }
}

impl From<DatabaseConnection> for DatabasePools {
    fn from(primary: DatabaseConnection) -> Self {
        Self::single(primary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From `n` new threads at once, each with a runtime of its own as an HTTP worker has, all
    /// alive until each has asked (a thread's slot is reused once it exits): for each, whether
    /// it got a pool of its own, and the same one each time it asked.
    fn from_other_threads(pools: &DatabasePools, n: usize) -> Vec<(bool, bool)> {
        let all_asked = std::sync::Arc::new(std::sync::Barrier::new(n));
        let threads: Vec<_> = (0..n)
            .map(|_| {
                let (pools, all_asked) = (pools.clone(), std::sync::Arc::clone(&all_asked));
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                    let seen = runtime.block_on(async {
                        let own = !std::ptr::eq(pools.conn(), pools.primary());
                        (own, std::ptr::eq(pools.conn(), pools.conn()))
                    });
                    all_asked.wait();
                    seen
                })
            })
            .collect();
        let mut seen: Vec<_> = threads.into_iter().map(|t| t.join().expect("thread")).collect();
        seen.sort_unstable();
        seen
    }

    #[tokio::test]
    async fn each_worker_thread_gets_a_pool_of_its_own_up_to_the_limit_and_the_opener_keeps_the_primary() {
        // Lazy: nothing here connects, so no server is needed.
        let mut options = ConnectOptions::new("postgres://postgres@127.0.0.1:5432/hexgate_pools_unit");
        options.connect_lazy(true).min_connections(0).max_connections(4);
        let primary = Database::connect(options.clone()).await.expect("a lazy pool");
        let pools = DatabasePools::per_thread(primary, options, 2);

        assert!(std::ptr::eq(pools.conn(), pools.primary()), "the opening thread uses the primary");
        let seen = from_other_threads(&pools, 3);
        assert_eq!(seen, [(false, true), (true, true), (true, true)], "past the limit a thread shares the primary");
        assert_eq!(pools.all().count(), 3, "the primary and two per-thread pools");
        assert_eq!(pools.max_connections(), 3 * 4, "the primary's and both per-thread pools' maximum");
    }

    #[tokio::test]
    async fn a_single_pool_is_every_threads_pool() {
        let mut options = ConnectOptions::new("postgres://postgres@127.0.0.1:5432/hexgate_pools_unit");
        options.connect_lazy(true);
        let pools = DatabasePools::single(Database::connect(options).await.expect("a lazy pool"));
        assert_eq!(from_other_threads(&pools, 2), [(false, true), (false, true)]);
        assert_eq!(pools.all().count(), 1);
    }
}
