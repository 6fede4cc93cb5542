//! The database under a store: pick the backend from the URL, connect, apply its migrations
//! (`open`, which [`Store::connect`] follows with the work SQL cannot do), and begin writing
//! transactions.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, Executor, TransactionManager};

use crate::direct_read::DirectReader;
use crate::direct_write::DirectWriter;
use crate::error::StoreError;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database; cheap to clone (it holds a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// Point reads of a SQLite file without sqlx's thread hand-off (none for in-memory
    /// databases, whose connections would each see their own database).
    pub(crate) direct: Option<Arc<DirectReader>>,
    /// The audit writer's statements on a SQLite file without sqlx's thread hand-off.
    pub(crate) direct_writer: Option<Arc<DirectWriter>>,
}

/// How long a request waits for a database connection before it is told the store is
/// unavailable: long enough for a busy pool, well under a person's patience when the database is
/// down (the request answers 503 then, and the pool reconnects by itself once it is back).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A SQLite file holds sessions and tokens' digests: it is created readable by its owner only
/// (SQLite gives its write-ahead log and shared-memory files the same mode), and an existing one
/// that others could read is tightened.
fn make_private(url: &str) -> Result<(), StoreError> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(());
    }
    let options = SqliteConnectOptions::from_str(url).map_err(StoreError::backend)?;
    let file = options.get_filename();
    let io = |e: std::io::Error| {
        let message = format!("{}: {e}", file.display());
        if crossfed_files::is_disk_full(&e) { StoreError::DiskFull(message) } else { StoreError::Unavailable(message) }
    };
    match crossfed_files::create_private(file, b"") {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for suffix in ["", "-wal", "-shm"] {
                let path = std::path::PathBuf::from(format!("{}{suffix}", file.display()));
                if path.exists() && crossfed_files::tighten_file(&path).map_err(io)? {
                    tracing::warn!("{} was readable by other users; it is now private (chmod 600)", path.display());
                }
            }
        }
        Err(e) => return Err(io(e)),
    }
    opens_in_wal_mode(file)
}

/// Opens the SQLite file once and puts it in WAL mode, to say at once what stops it (a full
/// disk, a folder that cannot be written) — a pool that cannot connect only says it timed out.
fn opens_in_wal_mode(file: &std::path::Path) -> Result<(), StoreError> {
    let opened = rusqlite::Connection::open(file)
        .and_then(|connection| connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())));
    opened.map_err(|e| {
        let message = format!("{}: {e}", file.display());
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull(message),
            _ => StoreError::Unavailable(message),
        }
    })
}

/// Whether a pooled connection is outside any transaction, fit to lend. A transaction whose
/// COMMIT failed (a full disk) may have been rolled back by SQLite itself; the rollback sqlx
/// then queues fails, and the connection would stay "in a transaction" for sqlx, refusing every
/// later `BEGIN` until a restart. Such a connection is closed instead, and a fresh one opened.
fn outside_transactions(conn: &sqlx::AnyConnection) -> bool {
    <sqlx::Any as sqlx::Database>::TransactionManager::get_transaction_depth(conn) == 0
}

impl Store {
    /// Connects to `url` (`sqlite://FILE`, `sqlite::memory:`, or `postgres://…`) and brings its
    /// schema up to date.
    pub(crate) async fn open(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(format!(
                "database URL {url:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE"
            )));
        };
        let url = match backend {
            // Create the file on first start.
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            _ => url.to_string(),
        };
        if backend == Backend::Sqlite {
            make_private(&url)?;
        }
        let mut options = AnyPoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .before_acquire(|conn, _| Box::pin(async move { Ok(outside_transactions(conn)) }));
        if backend == Backend::Sqlite {
            // A connection to a local file does not go stale: no ping before every statement
            // (each is a round trip to the connection's thread).
            options = options.max_connections(4).test_before_acquire(false).after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the writer; the busy timeout makes concurrent
                    // writers wait instead of failing; foreign keys are off by default in SQLite.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await.map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => match StoreError::backend(inner) {
                StoreError::Backend(message) => StoreError::Backend(format!("applying migrations: {message}")),
                said => said,
            },
            other => StoreError::Backend(format!("applying migrations: {other}")),
        })?;
        let file = match backend {
            Backend::Sqlite if !url.contains(":memory:") && !url.contains("mode=memory") => {
                let options = SqliteConnectOptions::from_str(&url).map_err(StoreError::backend)?;
                Some(options.get_filename().to_path_buf())
            }
            _ => None,
        };
        let direct = file.as_deref().map(|f| Arc::new(DirectReader::new(f)));
        let direct_writer = file.as_deref().map(|f| Arc::new(DirectWriter::new(f)));
        Ok(Store { pool, backend, direct, direct_writer })
    }

    /// Whether the database answers a trivial query (readiness checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(StoreError::backend)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), waiting for it under the busy timeout: a transaction begun as a reader and
    /// upgraded at its first write is refused at once ("database is locked") when another
    /// connection committed in between, which a hub under load (its audit records) does all
    /// the time. PostgreSQL's transactions need nothing more.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(StoreError::backend)
    }

    /// Closes the pool, waiting for queries in flight; a SQLite file is then left without its
    /// write-ahead log, everything folded into the file.
    pub async fn close(&self) {
        if let Some(direct) = &self.direct {
            direct.close();
        }
        if let Some(writer) = &self.direct_writer {
            writer.close();
        }
        self.pool.close().await;
        if let Some(writer) = self.direct_writer.clone() {
            let _ = tokio::task::spawn_blocking(move || writer.fold_log()).await;
        }
    }
}
