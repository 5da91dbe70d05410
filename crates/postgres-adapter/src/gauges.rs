//! What `/metrics` reads from the database at scrape time: the pool's connections and the job
//! backlog. Read when asked, so nothing is counted on the request path.

use crate::DatabasePools;
use async_trait::async_trait;
use chrono::Utc;
use hexgate_domain::job::JobStatus;
use hexgate_ports::{GaugeReading, GaugeSource};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::entity::jobs::{Column, Entity};

/// `db_pool_connections{state}`, `db_pool_max_connections`, `jobs_pending` and
/// `jobs_oldest_pending_seconds` from one connection pool.
#[derive(Clone)]
pub struct SqlGauges {
    db: DatabasePools,
}

impl SqlGauges {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }

    /// (open, idle) connections, summed over the process's pools, and its maximum.
    fn pool(&self) -> (u32, usize, u32) {
        let (mut size, mut idle) = (0, 0);
        for db in self.db.all() {
            let (s, i) = match db.get_database_backend() {
                DbBackend::Postgres => {
                    let pool = db.get_postgres_connection_pool();
                    (pool.size(), pool.num_idle())
                }
                DbBackend::Sqlite => {
                    let pool = db.get_sqlite_connection_pool();
                    (pool.size(), pool.num_idle())
                }
                _ => continue,
            };
            size += s;
            idle += i;
        }
        (size, idle, self.db.max_connections())
    }
}

#[async_trait]
impl GaugeSource for SqlGauges {
    async fn read(&self) -> Vec<GaugeReading> {
        let mut readings = Vec::with_capacity(5);
        {
            let (size, idle, max) = self.pool();
            let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
            readings.push(GaugeReading::new("db_pool_connections", f64::from(idle)).label("state", "idle"));
            readings.push(GaugeReading::new("db_pool_connections", f64::from(size - idle)).label("state", "in_use"));
            readings.push(GaugeReading::new("db_pool_max_connections", f64::from(max)));
        }
        let queued = Entity::find().filter(Column::Status.eq(JobStatus::Queued.as_str()));
        if let Ok(pending) = queued.clone().count(self.db.conn()).await {
            #[allow(clippy::cast_precision_loss)]
            readings.push(GaugeReading::new("jobs_pending", pending as f64));
        }
        // How long the oldest due job has been waiting: a backlog that is not drained grows it.
        let now = Utc::now();
        if let Ok(oldest) = queued.filter(Column::RunAt.lte(now)).order_by_asc(Column::RunAt).one(self.db.conn()).await
        {
            let age = oldest.map_or(0.0, |job| (now - job.run_at).num_milliseconds().max(0) as f64 / 1000.0);
            readings.push(GaugeReading::new("jobs_oldest_pending_seconds", age));
        }
        readings
    }
}
