//! The one place a `DbErr` becomes a port error. Nothing here reads a library's English: unique
//! violations are told apart by the index that refused the write, outages by sqlx's error
//! variants, PostgreSQL's SQLSTATE classes and SQLite's result codes.

use std::borrow::Cow;

use hexgate_ports::{Conflict, PortError};
use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
use sea_orm::{DbErr, RuntimeErr, sqlx};

/// The unique indexes whose violation is a conflict the use cases know, by name. PostgreSQL names
/// the index (`constraint()`); SQLite names the indexed columns instead (its message is
/// `UNIQUE constraint failed: users.email`, the columns in its fixed `table.column` form).
const UNIQUE_RULES: [(&str, &str, Conflict); 4] = [
    ("ux_users_email", "users.email", Conflict::EmailTaken),
    ("ux_users_username", "users.username", Conflict::UsernameTaken),
    ("ux_organizations_slug", "organizations.slug", Conflict::OrgSlugTaken),
    ("ux_org_memberships_member", "org_memberships.org_id, org_memberships.user_id", Conflict::AlreadyMember),
];

pub(crate) fn port_error(err: DbErr) -> PortError {
    match &err {
        DbErr::ConnectionAcquire(e) => return PortError::Unavailable(format!("database: {e}")),
        DbErr::Conn(e) => return PortError::Unavailable(format!("database: {e}")),
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            if let Some(mapped) = from_sqlx(e) {
                return mapped;
            }
        }
        _ => {}
    }
    PortError::Internal(format!("database: {err}"))
}

fn from_sqlx(err: &sqlx::Error) -> Option<PortError> {
    match err {
        sqlx::Error::Database(db) => from_database(db.as_ref()),
        // The connection broke, could not be had in time, or the pool is shutting down.
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(PortError::Unavailable(format!("database: {err}"))),
        _ => None,
    }
}

fn from_database(db: &dyn DatabaseError) -> Option<PortError> {
    match db.kind() {
        ErrorKind::UniqueViolation => Some(unique_violation(db)),
        // A row that names a parent which is gone (a user deleted mid-upload).
        ErrorKind::ForeignKeyViolation => Some(PortError::NotFound),
        _ if is_outage(db) => Some(PortError::Unavailable(format!("database: {}", db.message()))),
        _ => None,
    }
}

fn unique_violation(db: &dyn DatabaseError) -> PortError {
    let columns = sqlite_columns(db);
    UNIQUE_RULES
        .iter()
        .find(|(index, cols, _)| db.constraint() == Some(index) || columns.as_deref() == Some(cols))
        .map_or_else(
            || {
                PortError::Internal(format!(
                    "unique violation on {}",
                    db.constraint().map_or_else(|| columns.unwrap_or_default(), str::to_owned)
                ))
            },
            |(_, _, conflict)| PortError::Conflict(*conflict),
        )
}

/// The `table.column` list SQLite names in a constraint failure (after the colon).
fn sqlite_columns(db: &dyn DatabaseError) -> Option<String> {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    db.message().split_once(": ").map(|(_, columns)| columns.trim().to_owned())
}

/// A server going away or refusing work for now, not a bug in a statement.
fn is_outage(db: &dyn DatabaseError) -> bool {
    let code: Option<Cow<'_, str>> = db.code();
    let Some(code) = code else { return false };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // Extended result codes carry the primary code in their low byte.
        return code.parse::<i32>().is_ok_and(|c| sqlite_outage(c & 0xff));
    }
    postgres_outage(&code)
}

/// SQLSTATE: 08 connection exception, 53 insufficient resources (too many connections, disk
/// full), 57P01–57P03 shutting down or starting up, 57014 statement timeout.
fn postgres_outage(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || sqlstate.starts_with("53") || sqlstate.starts_with("57P") || sqlstate == "57014"
}

/// SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_IOERR (10), SQLITE_FULL (13), SQLITE_CANTOPEN (14).
const fn sqlite_outage(primary: i32) -> bool {
    matches!(primary, 5 | 6 | 10 | 13 | 14)
}

#[cfg(test)]
mod tests {
    use super::{postgres_outage, sqlite_outage};

    #[test]
    fn connection_and_shutdown_states_are_outages_and_statement_bugs_are_not() {
        for outage in ["08006", "08001", "57P01", "57P03", "53300", "57014"] {
            assert!(postgres_outage(outage), "{outage}");
        }
        for bug in ["42703", "42P01", "23505", "22P02"] {
            assert!(!postgres_outage(bug), "{bug}");
        }
        assert!(sqlite_outage(5) && sqlite_outage(10) && !sqlite_outage(19) && !sqlite_outage(1));
    }
}
