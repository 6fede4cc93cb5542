//! Point reads on SQLite without a thread hand-off.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every statement costs two thread
//! switches (there and back), which on a busy hub cost more than the read itself: a row looked
//! up by its key takes microseconds. The hottest reads (a session, its user) therefore run on
//! the calling thread, on read-only connections this module keeps. In WAL mode readers do not
//! wait for the writer; in the rare case where a read would have to wait for a lock
//! (`SQLITE_BUSY`), it is handed back to sqlx, so the async runtime never waits on SQLite. So is
//! a read whose connection cannot be opened or cannot open the database's files: sqlx then
//! answers, or says what is wrong.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, OpenFlags, ToSql};

use crate::columns::DirectRow;
use crate::error::StoreError;

/// Read-only connections to one SQLite file, taken by one read at a time.
#[derive(Debug)]
pub(crate) struct DirectReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Set when the store closes: reads go to sqlx, which then says the store is closed.
    closed: AtomicBool,
}

/// Idle connections kept: one per thread that reads at once is enough.
const KEPT: usize = 8;

/// What a direct read found: the answer, or "ask sqlx" when it would have waited for a lock or
/// could not open the file.
pub(crate) enum Direct<T> {
    Answered(Result<T, StoreError>),
    Declined,
}

impl DirectReader {
    /// A reader for the database file at `path`.
    pub(crate) fn new(path: &Path) -> DirectReader {
        DirectReader { path: path.to_path_buf(), idle: Mutex::new(Vec::new()), closed: AtomicBool::new(false) }
    }

    /// Closes the kept connections and declines every later read. Read-only connections hold a
    /// shared lock on the file: they must be gone before the last writer closes, for it to fold
    /// the write-ahead log back into the database file.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        // Never sleep on a lock on the caller's thread: a busy database goes back to sqlx.
        connection.busy_timeout(std::time::Duration::ZERO)?;
        Ok(connection)
    }

    /// The first row of `sql` with `params`, decoded by `decode`, or `None` without a row.
    /// SQLite numbers `$N` parameters by where they first appear: write them in order.
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        decode: impl FnOnce(&DirectRow<'_>) -> Result<T, StoreError>,
    ) -> Direct<Option<T>> {
        if self.closed.load(Ordering::SeqCst) {
            return Direct::Declined;
        }
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let Ok(connection) = taken.map_or_else(|| self.open(), Ok) else {
            return Direct::Declined;
        };
        let answer = read_one(&connection, sql, params, decode);
        let broken = matches!(&answer, Err(ReadError::Sqlite(e)) if cannot_open(e));
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < KEPT
            && !broken
            && !self.closed.load(Ordering::SeqCst)
        {
            idle.push(connection);
        }
        match answer {
            Err(ReadError::Sqlite(e)) if would_wait(&e) || cannot_open(&e) => Direct::Declined,
            Err(ReadError::Sqlite(e)) => Direct::Answered(Err(StoreError::Backend(e.to_string()))),
            Err(ReadError::Decode(e)) => Direct::Answered(Err(e)),
            Ok(row) => Direct::Answered(Ok(row)),
        }
    }
}

enum ReadError {
    Sqlite(rusqlite::Error),
    Decode(StoreError),
}

fn read_one<T>(
    connection: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    decode: impl FnOnce(&DirectRow<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, ReadError> {
    let mut statement = connection.prepare_cached(sql).map_err(ReadError::Sqlite)?;
    let mut rows = statement.query(params).map_err(ReadError::Sqlite)?;
    match rows.next().map_err(ReadError::Sqlite)? {
        Some(row) => {
            let names = row.as_ref().column_names();
            decode(&DirectRow { row, names: &names }).map(Some).map_err(ReadError::Decode)
        }
        None => Ok(None),
    }
}

/// The database's files could not be opened or read as a database (its `-shm` file, say).
pub(crate) fn cannot_open(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::ReadOnly)
    )
}

fn would_wait(error: &rusqlite::Error) -> bool {
    matches!(error.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn count(reader: &DirectReader) -> Direct<Option<i64>> {
        reader.query_row("SELECT COUNT(*) AS n FROM t WHERE x = $1", &[&"a"], |row| {
            crate::columns::Columns::int(row, "n")
        })
    }

    /// A rollback-journal database under an exclusive lock keeps readers out: the read is
    /// declined instead of waiting, and answered once the lock is gone.
    #[test]
    fn a_read_that_would_wait_for_a_lock_is_declined_and_answered_after() {
        let dir = std::env::temp_dir().join(format!("crossfed-direct-read-{}", crate::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer.execute_batch("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a'), ('a'), ('b');").unwrap();
        let reader = DirectReader::new(&path);
        assert!(matches!(count(&reader), Direct::Answered(Ok(Some(2)))));
        writer.execute_batch("BEGIN EXCLUSIVE; INSERT INTO t VALUES ('a');").unwrap();
        assert!(matches!(count(&reader), Direct::Declined));
        writer.execute_batch("COMMIT").unwrap();
        assert!(matches!(count(&reader), Direct::Answered(Ok(Some(3)))));
        let missing = reader.query_row("SELECT x FROM nowhere", &[], |_| Ok(()));
        assert!(matches!(missing, Direct::Answered(Err(StoreError::Backend(m))) if m.contains("nowhere")));
        drop(writer);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
