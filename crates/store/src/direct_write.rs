//! Writes to a SQLite file on the calling thread, for one writer that appends all the time (the
//! hub's audit thread): sqlx would hand every statement to its connection's own thread and back,
//! with its channel, its task wake-ups and its argument boxing on top of SQLite's own work.
//!
//! The caller is a thread of its own, outside the async runtime, so a write may wait for
//! SQLite's write lock (up to the same five seconds as sqlx's connections). A connection that
//! cannot be opened declines the write, which then goes through sqlx, which says what is wrong.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction};

use crate::direct_read::{Direct, cannot_open};
use crate::error::StoreError;

/// How long a write waits for another connection's write lock, as sqlx's connections do.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often, and how far apart, closing tries to fold the write-ahead log into the file.
const FOLD_ATTEMPTS: usize = 40;
const FOLD_PAUSE: Duration = Duration::from_millis(50);

/// One read-write connection to a SQLite file, opened on first use.
#[derive(Debug)]
pub(crate) struct DirectWriter {
    path: PathBuf,
    held: Mutex<Option<Connection>>,
    /// Set when the store closes: writes go to sqlx, which then says the store is closed.
    closed: AtomicBool,
}

impl DirectWriter {
    pub(crate) fn new(path: &Path) -> DirectWriter {
        DirectWriter { path: path.to_path_buf(), held: Mutex::new(None), closed: AtomicBool::new(false) }
    }

    /// Closes the connection (later writes open it again).
    pub(crate) fn release(&self) {
        if let Ok(mut held) = self.held.lock() {
            *held = None;
        }
    }

    /// Closes the connection and declines every later write: it must be gone before the last
    /// connection closes, for that one to fold the write-ahead log back into the database file.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.release();
    }

    /// Folds the write-ahead log back into the database file, once every other connection of
    /// this process is closed: the last connection to close does that by itself, but sqlx
    /// closes its connections on their own threads at once, and two closing together may each
    /// see the other still open, leaving the log behind. A connection opened now is the last.
    /// If another process still has the file open, the log stays (its records are safe in it).
    /// sqlx's connections may still be closing when this runs, and a connection that closes
    /// beside another leaves the log too; so it tries again until the log is gone, for two
    /// seconds at most.
    pub(crate) fn fold_log(&self) {
        let log = PathBuf::from(format!("{}-wal", self.path.display()));
        for _ in 0..FOLD_ATTEMPTS {
            if let Ok(connection) = self.open() {
                let _ = connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
            }
            if !log.exists() {
                return;
            }
            std::thread::sleep(FOLD_PAUSE);
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        // The settings sqlx's connections get (the file is in WAL mode already, set by them).
        connection.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        Ok(connection)
    }

    /// Runs `work` in one transaction, committed if it succeeds and rolled back otherwise.
    /// `what` names the records written, for a unique-key violation's [`StoreError::Conflict`].
    pub(crate) fn write<T>(
        &self,
        what: &'static str,
        work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Direct<T> {
        if self.closed.load(Ordering::SeqCst) {
            return Direct::Declined;
        }
        let Ok(mut held) = self.held.lock() else {
            return Direct::Declined;
        };
        let connection = match held.take() {
            Some(connection) => connection,
            None => match self.open() {
                Ok(connection) => connection,
                Err(_) => return Direct::Declined,
            },
        };
        let mut connection = connection;
        let result = run(&mut connection, work);
        match result {
            Err(e) if cannot_open(&e) => Direct::Declined,
            // A connection whose write failed is not kept: the next write starts afresh.
            Err(e) => Direct::Answered(Err(store_error(e, what))),
            Ok(value) => {
                *held = Some(connection);
                Direct::Answered(Ok(value))
            }
        }
    }
}

fn run<T>(
    connection: &mut Connection,
    work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    // IMMEDIATE takes the write lock at once: waiting for it happens before any work, not
    // halfway through as an upgrade that could fail with a deadlock.
    let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let value = work(&transaction)?;
    transaction.commit()?;
    Ok(value)
}

fn store_error(error: rusqlite::Error, what: &'static str) -> StoreError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) if error.to_string().contains("UNIQUE") => {
            StoreError::Conflict { what, field: "id".to_string(), value: String::new() }
        }
        Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull(error.to_string()),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(format!("the database stayed locked by another writer: {error}"))
        }
        _ => StoreError::Backend(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn temp_db() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("crossfed-direct-write-{}", crate::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let setup = Connection::open(&path).unwrap();
        setup.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x TEXT PRIMARY KEY);").unwrap();
        path
    }

    fn insert(writer: &DirectWriter, values: &[&str]) -> Direct<()> {
        writer.write("row", |tx| {
            for value in values {
                tx.execute("INSERT INTO t (x) VALUES (?1)", [value])?;
            }
            Ok(())
        })
    }

    fn count(path: &Path) -> i64 {
        Connection::open(path).unwrap().query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap()
    }

    /// Either every row of a write is stored or none: a duplicate key in the middle rolls back
    /// the rows before it, and the error says it was a conflict.
    #[test]
    fn a_write_is_all_or_nothing_and_a_duplicate_is_a_conflict() {
        let path = temp_db();
        let writer = DirectWriter::new(&path);
        assert!(matches!(insert(&writer, &["a", "b"]), Direct::Answered(Ok(()))));
        let failed = insert(&writer, &["c", "a", "d"]);
        assert!(matches!(failed, Direct::Answered(Err(StoreError::Conflict { .. }))));
        assert_eq!(count(&path), 2);
        assert!(matches!(insert(&writer, &["c"]), Direct::Answered(Ok(()))));
        assert_eq!(count(&path), 3);
    }

    /// A file that cannot be opened declines the write (sqlx then reports it); so does a
    /// closed writer.
    #[test]
    fn a_missing_file_or_a_closed_writer_declines() {
        let missing = std::env::temp_dir().join(format!("crossfed-direct-write-{}", crate::new_id())).join("t.db");
        assert!(matches!(insert(&DirectWriter::new(&missing), &["a"]), Direct::Declined));
        let path = temp_db();
        let writer = DirectWriter::new(&path);
        writer.close();
        assert!(matches!(insert(&writer, &["a"]), Direct::Declined));
        assert_eq!(count(&path), 0);
    }

    /// A write waits for another connection's write lock instead of failing at once.
    #[test]
    fn a_write_waits_for_another_writer() {
        let path = temp_db();
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (x) VALUES ('other');").unwrap();
        let writer = std::sync::Arc::new(DirectWriter::new(&path));
        let waiting = {
            let writer = writer.clone();
            std::thread::spawn(move || matches!(insert(&writer, &["mine"]), Direct::Answered(Ok(()))))
        };
        std::thread::sleep(Duration::from_millis(200));
        other.execute_batch("COMMIT").unwrap();
        assert!(waiting.join().unwrap());
        assert_eq!(count(&path), 2);
    }
}
