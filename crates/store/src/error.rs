use thiserror::Error;

/// Storage failures, in terms of the data rather than of HTTP or SQL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    #[error("{what} {key:?} does not exist")]
    NotFound { what: &'static str, key: String },
    #[error("another {what} already has {field} {value:?}")]
    Conflict { what: &'static str, field: String, value: String },
    #[error("{what} {key:?} was changed by someone else since it was read; read it again and retry")]
    Stale { what: &'static str, key: String },
    #[error("invalid {0}")]
    Invalid(String),
    #[error("cannot open the database: {0}")]
    Unavailable(String),
    #[error("the database's disk is full ({0}); nothing was written: free space and try again")]
    DiskFull(String),
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    /// Maps a database error, turning unique violations into [`StoreError::Conflict`]; `what`
    /// names the record and `value_of` gives the offending value for a column name.
    pub(crate) fn from_sqlx(error: sqlx::Error, what: &'static str, value_of: impl Fn(&str) -> Option<String>) -> Self {
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
        {
            // SQLite names the column ("UNIQUE constraint failed: users.user_name_key"), PostgreSQL
            // the constraint ("users_user_name_key_key"); both contain the column name.
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or(""));
            for column in ["user_name_key", "external_id", "display_name_key", "id"] {
                if text.contains(column) {
                    let field = column.trim_end_matches("_key").to_string();
                    let value = value_of(column).unwrap_or_default();
                    return StoreError::Conflict { what, field, value };
                }
            }
            return StoreError::Conflict { what, field: "a unique field".to_string(), value: String::new() };
        }
        StoreError::backend(error)
    }

    /// A versioned update that changed no row: the record moved on (stale) or is gone.
    pub(crate) fn stale_or_missing(what: &'static str, key: &str, still_there: bool) -> Self {
        let key = key.to_string();
        if still_there { StoreError::Stale { what, key } } else { StoreError::NotFound { what, key } }
    }

    /// A foreign-key violation on a user reference means that user does not exist.
    pub(crate) fn missing_user(error: sqlx::Error, user_id: &str) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::NotFound { what: "user", key: user_id.to_string() }
            }
            _ => StoreError::backend(error),
        }
    }

    pub(crate) fn backend(error: sqlx::Error) -> Self {
        if is_disk_full(&error) {
            return StoreError::DiskFull(error.to_string());
        }
        if is_unreachable(&error) {
            return StoreError::Unavailable(error.to_string());
        }
        StoreError::Backend(error.to_string())
    }
}

/// Whether the database said its disk is full: SQLite's `SQLITE_FULL` (13), PostgreSQL's
/// `disk_full` (53100), or an I/O error saying so.
fn is_disk_full(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("13" | "53100")) || db.message().contains("disk is full")
        }
        sqlx::Error::Io(e) => crossfed_files::is_disk_full(e),
        _ => false,
    }
}

/// Whether the database could not be reached or went away: no connection in time, a closed
/// pool, a broken connection, or PostgreSQL shutting down, restarting or refusing connections
/// (SQLSTATE classes 08 and 57P, and 53300 too many connections).
fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P") || code == "53300")
        }
        _ => false,
    }
}
