//! Audit records written with group commit: each caller still waits until its record is stored
//! (nothing is answered before its audit record is), but records arriving while a write is under
//! way go together in the next transaction, one commit for all of them.
//!
//! The writer is a thread of its own. On a SQLite file it runs the statements itself (see
//! [`AuditWriter::append_many_here`]); otherwise it hands each batch to sqlx on the async runtime
//! and waits. A commit costs more than a record, and each commit also empties the page caches of
//! the store's direct readers; so while signatures are under way (each is followed by its
//! record: a launch, an SSO answer) the writer waits up to [`LINGER`] for their records to join
//! the batch. A hub with nothing being signed writes each record at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use crossfed_store::{AuditEvent, AuditWriter, Store, StoreError};
use thiserror::Error;
use tokio::sync::oneshot;

use crate::metrics::StoreTimer;

/// How long the writer keeps its connection without records to write.
const QUIET: Duration = Duration::from_secs(1);

/// At most this many records in one transaction.
const MOST_PER_WRITE: usize = 64;

/// How long a batch waits for the records of signatures under way. Measured on 2 cores at 16
/// virtual users launching: 4 records per commit instead of 1.6, and 9 % less hub CPU per launch
/// together with the writer's own connection.
const LINGER: Duration = Duration::from_millis(1);

/// Why an audit record was not stored.
#[derive(Debug, Clone, Error)]
pub enum AuditError {
    #[error("the audit writer has stopped")]
    Stopped,
    #[error("the audit writer needs the async runtime: {0}")]
    NoRuntime(String),
    #[error("starting the audit writer thread: {0}")]
    NoThread(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to do once a record is stored (or could not be).
type Then = Box<dyn FnOnce(Result<(), AuditError>) + Send>;

/// A record to store, or a flush: a caller to tell once everything queued before it is stored.
enum Pending {
    Record(AuditEvent, Then),
    Flush(Then),
}

#[derive(Debug, Clone)]
pub struct AuditQueue {
    queue: Sender<Pending>,
    /// Records queued and not yet stored (those of the commit under way included).
    depth: Arc<AtomicUsize>,
}

impl AuditQueue {
    /// Starts the writer thread; it ends when the queue is dropped. Called on the async runtime,
    /// which the writer uses where sqlx writes.
    pub fn start(store: Store) -> Result<AuditQueue, AuditError> {
        AuditQueue::start_timed(store, StoreTimer::unregistered())
    }

    /// [`AuditQueue::start`], each group commit timed by `commits`.
    pub fn start_timed(store: Store, commits: StoreTimer) -> Result<AuditQueue, AuditError> {
        let (queue, pending) = channel::<Pending>();
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| AuditError::NoRuntime(e.to_string()))?;
        let writer = Writer { store: store.audit_writer(), depth: Arc::new(AtomicUsize::new(0)), commits };
        let depth = writer.depth.clone();
        std::thread::Builder::new()
            .name("crossfed-audit".to_string())
            .spawn(move || write_until_dropped(writer, &pending, &runtime))
            .map_err(|e| AuditError::NoThread(e.to_string()))?;
        Ok(AuditQueue { queue, depth })
    }

    /// How many records are queued and not yet stored.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Stores `event`, returning once it is stored.
    pub async fn append(&self, event: AuditEvent) -> Result<(), AuditError> {
        let (done, stored) = oneshot::channel();
        self.append_then(event, move |result| {
            // The waiting side may have gone (a closed connection): nothing to tell then.
            let _ = done.send(result);
        });
        stored.await.map_err(|_| AuditError::Stopped)?
    }

    /// Queues `event` and calls `then` with the outcome once it is stored, on the writer's
    /// thread (at once on the caller's if the writer has stopped). For work running on a pool
    /// thread that wants its caller woken once, when both the work and its record are done.
    pub fn append_then(&self, event: AuditEvent, then: impl FnOnce(Result<(), AuditError>) + Send + 'static) {
        self.depth.fetch_add(1, Ordering::Relaxed);
        if let Err(std::sync::mpsc::SendError(Pending::Record(_, then) | Pending::Flush(then))) =
            self.queue.send(Pending::Record(event, Box::new(then)))
        {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            then(Err(AuditError::Stopped));
        }
    }

    /// Waits until every record queued so far is written (or failed), at most `limit`; for a
    /// shutdown, before the store closes. Whether the queue was drained in time.
    pub async fn flush(&self, limit: std::time::Duration) -> bool {
        let (done, flushed) = oneshot::channel();
        let then: Then = Box::new(move |_| {
            let _ = done.send(());
        });
        if self.queue.send(Pending::Flush(then)).is_err() {
            // The writer has stopped: nothing more can be written, and nothing waits.
            return true;
        }
        tokio::time::timeout(limit, flushed).await.is_ok()
    }
}

/// The writer thread's side: the store's writer, and what it reports of its work.
struct Writer {
    store: AuditWriter,
    depth: Arc<AtomicUsize>,
    commits: StoreTimer,
}

fn write_until_dropped(writer: Writer, pending: &Receiver<Pending>, runtime: &tokio::runtime::Handle) {
    // sqlx hands a pooled connection back by spawning a task, so the thread is inside the
    // runtime's context whenever it drops one; the writer is dropped before the context ends.
    let _context = runtime.enter();
    let Writer { store: mut writer, depth, commits } = writer;
    while let Some(first) = next_record(&mut writer, pending) {
        // The records of the signatures under way join this batch. The writer sleeps until none
        // is under way or LINGER has passed, rather than waking for each record that arrives.
        crate::cpu_pool::signing().wait_until_idle(Instant::now() + LINGER);
        let mut batch = vec![first];
        batch.extend(pending.try_iter().take(MOST_PER_WRITE - 1));
        let mut events = Vec::with_capacity(batch.len());
        let mut waiting = Vec::with_capacity(batch.len());
        for queued in batch {
            match queued {
                Pending::Record(event, then) => {
                    events.push(event);
                    waiting.push(then);
                }
                Pending::Flush(then) => waiting.push(then),
            }
        }
        let started = Instant::now();
        let result = if events.is_empty() {
            Ok(())
        } else {
            match writer.append_many_here(&events) {
                Some(result) => result,
                None => runtime.block_on(writer.append_many(&events)),
            }
        }
        .map_err(AuditError::from);
        commits.observe(started.elapsed());
        depth.fetch_sub(events.len(), Ordering::Relaxed);
        for then in waiting {
            then(result.clone());
        }
    }
}

/// Waits for the next record; the writer's connection is given back after a quiet second, so an
/// idle hub holds none (and the store can close). `None` once the queue is dropped.
fn next_record(writer: &mut AuditWriter, pending: &Receiver<Pending>) -> Option<Pending> {
    match pending.recv_timeout(QUIET) {
        Ok(record) => Some(record),
        Err(RecvTimeoutError::Disconnected) => None,
        Err(RecvTimeoutError::Timeout) => {
            writer.release();
            pending.recv().ok()
        }
    }
}
