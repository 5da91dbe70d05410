use hexgate_ports::{Conflict, PortError};
use sea_orm::{DbErr, SqlErr};

/// The one place a `DbErr` becomes a port error. Unique violations name the rule they broke by
/// the index in the message (`ux_users_email` on PostgreSQL, `users.email` on SQLite).
pub(crate) fn port_error(err: DbErr) -> PortError {
    if let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() {
        if message.contains("email") {
            return PortError::Conflict(Conflict::EmailTaken);
        }
        if message.contains("username") {
            return PortError::Conflict(Conflict::UsernameTaken);
        }
        return PortError::Internal(format!("unique violation: {message}"));
    }
    match err {
        DbErr::ConnectionAcquire(e) => PortError::Unavailable(format!("database: {e}")),
        DbErr::Conn(e) => PortError::Unavailable(format!("database: {e}")),
        other => {
            let text = other.to_string();
            // A connection dropped mid-query surfaces as an I/O error inside Exec/Query.
            if text.contains("Connection refused") || text.contains("connection closed") || text.contains("broken pipe")
            {
                PortError::Unavailable(format!("database: {text}"))
            } else {
                PortError::Internal(format!("database: {text}"))
            }
        }
    }
}
