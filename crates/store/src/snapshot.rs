//! Consistent copies of a SQLite store, for backups: taken from the file while a hub writes to it
//! (`VACUUM INTO` reads one transaction's view, and in WAL mode a reader holds no writer up), and
//! checked before a restore trusts them (SQLite's integrity check, and a schema no newer than
//! this binary's migrations). Both work on the files directly rather than through [`Store`]:
//! connecting a store runs the migrations, and a backup must never migrate the database of a
//! hub that runs another version.
//!
//! [`Store`]: crate::Store

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use thiserror::Error;

use crate::database::SQLITE_MIGRATIONS;

/// Why a snapshot could not be taken or is not fit to restore; each names the file.
#[derive(Debug, Error)]
pub enum SnapshotError {
    #[error("{path}: no database there; give the data folder of a hub that has started once")]
    NoDatabase { path: String },
    #[error("{path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
    #[error("{path} is damaged (SQLite's integrity check: {found}); take another backup")]
    Damaged { path: String, found: String },
    #[error("{path} is not a crossfed database (it has no migration history)")]
    NotCrossfed { path: String },
    #[error(
        "{path} has schema version {found}, newer than this crossfed's {newest}: restore it with the version that made it, or a newer one"
    )]
    Newer { path: String, found: i64, newest: i64 },
    #[error("{path}: migration {version} did not complete; restore an earlier backup")]
    IncompleteMigration { path: String, version: i64 },
}

/// What a checked snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The newest migration applied to it.
    pub schema_version: i64,
}

/// How long a snapshot waits for a lock a writer holds (a checkpoint) before it gives up.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// The newest SQLite schema version this binary's migrations make.
pub fn newest_sqlite_schema() -> i64 {
    SQLITE_MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Copies the SQLite database `database` into the new file `into`, as one transaction sees it,
/// while others may go on writing to it. `into` must not exist or be empty; it is written with
/// the process's default mode, so put it in a private folder.
pub fn snapshot_sqlite(database: &Path, into: &Path) -> Result<SnapshotInfo, SnapshotError> {
    let failed = |source| SnapshotError::Sqlite { path: database.display().to_string(), source };
    if !database.is_file() {
        return Err(SnapshotError::NoDatabase { path: database.display().to_string() });
    }
    // Read-write without create: a read-only connection cannot open a WAL database whose
    // shared-memory file is missing (a hub that stopped cleanly leaves none).
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(database, flags).map_err(failed)?;
    connection.busy_timeout(BUSY_WAIT).map_err(failed)?;
    let target = into.to_str().ok_or_else(|| failed(rusqlite::Error::InvalidPath(into.to_path_buf())))?;
    connection.execute("VACUUM INTO ?1", [target]).map_err(failed)?;
    drop(connection);
    check_sqlite_snapshot(into)
}

/// Checks the SQLite file `file` before it is restored: SQLite's full integrity check, and a
/// migration history complete and no newer than this binary's.
pub fn check_sqlite_snapshot(file: &Path) -> Result<SnapshotInfo, SnapshotError> {
    let path = || file.display().to_string();
    let failed = |source| SnapshotError::Sqlite { path: path(), source };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(file, flags).map_err(failed)?;
    let verdict: Vec<String> = {
        let mut statement = connection.prepare("PRAGMA integrity_check").map_err(failed)?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0)).map_err(failed)?;
        rows.collect::<Result<_, _>>().map_err(failed)?
    };
    if verdict != ["ok"] {
        return Err(SnapshotError::Damaged { path: path(), found: verdict.join("; ") });
    }
    let has_history: bool = connection
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            [],
            |r| r.get(0),
        )
        .map_err(failed)?;
    if !has_history {
        return Err(SnapshotError::NotCrossfed { path: path() });
    }
    let unfinished: Option<i64> = connection
        .query_row("SELECT min(version) FROM _sqlx_migrations WHERE NOT success", [], |r| r.get(0))
        .map_err(failed)?;
    if let Some(version) = unfinished {
        return Err(SnapshotError::IncompleteMigration { path: path(), version });
    }
    let found: i64 = connection
        .query_row("SELECT coalesce(max(version), 0) FROM _sqlx_migrations", [], |r| r.get(0))
        .map_err(failed)?;
    let newest = newest_sqlite_schema();
    if found > newest {
        return Err(SnapshotError::Newer { path: path(), found, newest });
    }
    Ok(SnapshotInfo { schema_version: found })
}
