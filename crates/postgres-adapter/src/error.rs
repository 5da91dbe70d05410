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
    // A row that names a parent which is gone (a user deleted mid-upload).
    if let Some(SqlErr::ForeignKeyConstraintViolation(_)) = err.sql_err() {
        return PortError::NotFound;
    }
    match err {
        DbErr::ConnectionAcquire(e) => PortError::Unavailable(format!("database: {e}")),
        DbErr::Conn(e) => PortError::Unavailable(format!("database: {e}")),
        other => {
            let text = other.to_string();
            if is_outage(&text) {
                PortError::Unavailable(format!("database: {text}"))
            } else {
                PortError::Internal(format!("database: {text}"))
            }
        }
    }
}

/// A dropped or refused connection surfaces inside `Exec`/`Query` as sqlx's I/O or pool error, or
/// as the server's own "shutting down" notices; all of them mean "try again later", not a bug.
fn is_outage(text: &str) -> bool {
    const SIGNS: [&str; 10] = [
        "error communicating with database",
        "pool timed out",
        "attempted to acquire a connection on a closed pool",
        "connection refused",
        "connection reset",
        "connection closed",
        "broken pipe",
        "terminating connection",
        "the database system is",
        "unexpected end of file",
    ];
    let lower = text.to_lowercase();
    SIGNS.iter().any(|sign| lower.contains(sign))
}

#[cfg(test)]
mod tests {
    use super::is_outage;

    #[test]
    fn dropped_connections_and_shutdowns_are_outages_and_bugs_are_not() {
        assert!(is_outage(
            "Execution Error: error communicating with database: Connection reset by peer (os error 104)"
        ));
        assert!(is_outage(
            "Query Error: error returned from database: terminating connection due to administrator command"
        ));
        assert!(is_outage("Query Error: error returned from database: the database system is starting up"));
        assert!(!is_outage("Query Error: error returned from database: column \"x\" does not exist"));
    }
}
