use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// One subscriber for the process: JSON lines or human-readable, filtered by `RUST_LOG`.
/// sqlx and sea-orm are quiet unless asked: they would log every statement.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(true);
    let result = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
}
