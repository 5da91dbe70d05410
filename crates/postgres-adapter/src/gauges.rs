//! What `/metrics` reads from the database at scrape time: the pool's connections and the job
//! backlog. Read when asked, so nothing is counted on the request path.

use async_trait::async_trait;
use chrono::Utc;
use hexgate_domain::job::JobStatus;
use hexgate_ports::{GaugeReading, GaugeSource};
use sea_orm::{ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::entity::jobs::{Column, Entity};

/// `db_pool_connections{state}`, `db_pool_max_connections`, `jobs_pending` and
/// `jobs_oldest_pending_seconds` from one connection pool.
#[derive(Clone)]
pub struct SqlGauges {
    db: DatabaseConnection,
}

impl SqlGauges {
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// (open, idle, max) connections of the pool.
    fn pool(&self) -> Option<(u32, usize, u32)> {
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                Some((pool.size(), pool.num_idle(), pool.options().get_max_connections()))
            }
            DbBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                Some((pool.size(), pool.num_idle(), pool.options().get_max_connections()))
            }
            _ => None,
        }
    }
}

#[async_trait]
impl GaugeSource for SqlGauges {
    async fn read(&self) -> Vec<GaugeReading> {
        let mut readings = Vec::with_capacity(5);
        if let Some((size, idle, max)) = self.pool() {
            let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
            readings.push(GaugeReading::new("db_pool_connections", f64::from(idle)).label("state", "idle"));
            readings.push(GaugeReading::new("db_pool_connections", f64::from(size - idle)).label("state", "in_use"));
            readings.push(GaugeReading::new("db_pool_max_connections", f64::from(max)));
        }
        let queued = Entity::find().filter(Column::Status.eq(JobStatus::Queued.as_str()));
        if let Ok(pending) = queued.clone().count(&self.db).await {
            #[allow(clippy::cast_precision_loss)]
            readings.push(GaugeReading::new("jobs_pending", pending as f64));
        }
        // How long the oldest due job has been waiting: a backlog that is not drained grows it.
        let now = Utc::now();
        if let Ok(oldest) = queued.filter(Column::RunAt.lte(now)).order_by_asc(Column::RunAt).one(&self.db).await {
            let age = oldest.map_or(0.0, |job| (now - job.run_at).num_milliseconds().max(0) as f64 / 1000.0);
            readings.push(GaugeReading::new("jobs_oldest_pending_seconds", age));
        }
        readings
    }
}
