//! The audit log: who did what, to what, from where, when, and how it ended. Append-only.

use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::{Any, Executor};

use crate::columns::Columns;
use crate::database::Store;
use crate::direct_read::Direct;
use crate::error::StoreError;
use crate::id::new_id;
use crate::search::like_escaped;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub id: String,
    pub at: i64,
    /// Who: a user name, `admin:TOKEN-NAME`, `scim`, `system`.
    pub actor: String,
    /// What: `login`, `launch`, `user.create`, …
    pub action: String,
    pub target: Option<String>,
    /// From where: the client address.
    pub source: Option<String>,
    pub outcome: Outcome,
    pub detail: String,
}

impl AuditEvent {
    pub fn new(at: i64, actor: &str, action: &str, outcome: Outcome) -> Self {
        AuditEvent {
            id: time_ordered_id(at),
            at,
            actor: actor.to_string(),
            action: action.to_string(),
            target: None,
            source: None,
            outcome,
            detail: String::new(),
        }
    }
}

/// An ID that sorts in creation order — the second `at`, then this process's sequence, then
/// randomness — so events of the same second still read newest first (the log is read by time,
/// then ID). The time is the caller's: the store reads no clock.
fn time_ordered_id(at: i64) -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!("{:012x}{sequence:012x}{}", at.max(0), new_id())
}

/// Filters for reading the log; newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    /// An action, or a family of them: `refused.*` is every action starting with `refused.`.
    pub action: Option<String>,
    /// The client address the records came from.
    pub source: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<i64>,
}

pub trait AuditLog {
    fn append(&self, event: &AuditEvent) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Several events in one statement (one commit): all are stored, or none.
    fn append_many(&self, events: &[AuditEvent]) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn query(&self, query: &AuditQuery) -> impl Future<Output = Result<Vec<AuditEvent>, StoreError>> + Send;
}

/// Writes audit records on a connection of its own, for one writer appending all the time (the
/// hub's group commit): on SQLite the connection's page cache then stays valid from one write to
/// the next unless another connection wrote in between, where a pooled connection would mostly
/// find it emptied. A held connection that fails is replaced once at once; it is also replaced
/// after [`HELD_AT_MOST`], so the pool's own limits still apply.
///
/// On a SQLite file, a writer running on a thread of its own (outside the async runtime) calls
/// [`AuditWriter::append_many_here`] first: the statements then run on that thread, without
/// sqlx's hand-off to the connection's thread.
#[derive(Debug)]
pub struct AuditWriter {
    store: Store,
    held: Option<(PoolConnection<Any>, std::time::Instant)>,
}

/// How long the writer keeps one connection.
const HELD_AT_MOST: std::time::Duration = std::time::Duration::from_secs(600);

const INSERT_ONE: &str = "INSERT INTO audit_log (id, at, actor, action, target, source, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

impl AuditWriter {
    /// Gives the connections back (the next write takes one again).
    pub fn release(&mut self) {
        self.held = None;
        if let Some(writer) = &self.store.direct_writer {
            writer.release();
        }
    }

    /// Stores `events` in one transaction on the calling thread, blocking it: `None` when the
    /// store cannot write this way (not a SQLite file, or the file cannot be opened here), and
    /// [`AuditWriter::append_many`] is the way. Not for an async worker's thread.
    pub fn append_many_here(&self, events: &[AuditEvent]) -> Option<Result<(), StoreError>> {
        let writer = self.store.direct_writer.as_ref()?;
        let written = writer.write("audit record", |tx| {
            let mut insert = tx.prepare_cached(INSERT_ONE)?;
            for e in events {
                let row: [&dyn rusqlite::ToSql; 8] =
                    [&e.id, &e.at, &e.actor, &e.action, &e.target, &e.source, &e.outcome.as_str(), &e.detail];
                insert.execute(&row[..])?;
            }
            Ok(())
        });
        match written {
            Direct::Answered(result) => Some(result),
            Direct::Declined => None,
        }
    }

    /// Several events in one statement (one commit): all are stored, or none.
    pub async fn append_many(&mut self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let held = self.held.take().filter(|(_, since)| since.elapsed() < HELD_AT_MOST);
        let reused = held.is_some();
        let (mut connection, since) = match held {
            Some(h) => h,
            None => (self.store.pool.acquire().await.map_err(StoreError::backend)?, std::time::Instant::now()),
        };
        match insert_events(&mut *connection, events).await {
            Ok(()) => {
                self.held = Some((connection, since));
                Ok(())
            }
            // A connection kept across writes may have gone stale (a database restart): one more
            // try on a fresh one. Had the first try been stored after all, its IDs are taken now.
            Err(_) if reused => {
                drop(connection);
                let mut fresh = self.store.pool.acquire().await.map_err(StoreError::backend)?;
                match insert_events(&mut *fresh, events).await {
                    Ok(()) | Err(StoreError::Conflict { .. }) => {
                        self.held = Some((fresh, std::time::Instant::now()));
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

impl Store {
    /// The writer holds one of the pool's connections (SQLite's pool has four) from its first
    /// write until [`AuditWriter::release`], ten minutes at a time: one writer per process is the
    /// intended use.
    pub fn audit_writer(&self) -> AuditWriter {
        AuditWriter { store: self.clone(), held: None }
    }
}

async fn insert_events<'c>(
    executor: impl Executor<'c, Database = Any>,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..events.len())
        .map(|i| {
            let n = i * 8;
            format!("(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7, n + 8)
        })
        .collect();
    let sql = format!(
        "INSERT INTO audit_log (id, at, actor, action, target, source, outcome, detail) VALUES {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for event in events {
        query = query
            .bind(&event.id)
            .bind(event.at)
            .bind(&event.actor)
            .bind(&event.action)
            .bind(&event.target)
            .bind(&event.source)
            .bind(event.outcome.as_str())
            .bind(&event.detail);
    }
    query.execute(executor).await.map_err(|e| StoreError::from_sqlx(e, "audit record", |_| None))?;
    Ok(())
}

impl AuditLog for Store {
    async fn append(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.append_many(std::slice::from_ref(event)).await
    }

    async fn append_many(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        insert_events(&self.pool, events).await
    }

    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        // Absent filters become conditions that always hold, so one statement serves all.
        let (action, family) = match query.action.as_deref().and_then(|a| a.strip_suffix('*')) {
            Some(prefix) => (None, Some(format!("{}%", like_escaped(prefix)))),
            None => (query.action.clone(), None),
        };
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, source, outcome, detail FROM audit_log \
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) \
             AND ($6 IS NULL OR action LIKE $6 ESCAPE '\\') AND ($7 IS NULL OR source = $7) \
             AND at >= $3 AND at <= $4 ORDER BY at DESC, id DESC LIMIT $5",
        )
        .bind(&query.actor)
        .bind(action)
        .bind(query.since.unwrap_or(i64::MIN))
        .bind(query.until.unwrap_or(i64::MAX))
        .bind(query.limit.unwrap_or(100).clamp(1, 10_000))
        .bind(family)
        .bind(&query.source)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    id: row.text("id")?,
                    at: row.int("at")?,
                    actor: row.text("actor")?,
                    action: row.text("action")?,
                    target: row.optional_text("target")?,
                    source: row.optional_text("source")?,
                    outcome: if row.text("outcome")? == "success" { Outcome::Success } else { Outcome::Failure },
                    detail: row.text("detail")?,
                })
            })
            .collect()
    }
}
