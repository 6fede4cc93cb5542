//! Audit records written with group commit: each caller still waits until its record is stored
//! (nothing is answered before its audit record is), but records arriving while a write is under
//! way go together in the next statement, one commit for all of them. A write is the dearest part
//! of a launch after the signature: measured on 2 cores at 16 virtual users, 0.02 ms of the hub's
//! 0.29 ms, with 2.7 records per statement on average.

use crossfed_store::{AuditEvent, Store};
use tokio::sync::{mpsc, oneshot};

/// How long the writer keeps its connection without records to write.
const QUIET: std::time::Duration = std::time::Duration::from_secs(1);

/// At most this many records in one statement (8 parameters each).
const MOST_PER_WRITE: usize = 64;

type Pending = (AuditEvent, oneshot::Sender<Result<(), String>>);

#[derive(Debug)]
pub struct AuditQueue {
    queue: mpsc::UnboundedSender<Pending>,
}

impl AuditQueue {
    /// Starts the writer; it ends when the queue is dropped.
    pub fn start(store: Store) -> AuditQueue {
        let (queue, mut pending) = mpsc::unbounded_channel::<Pending>();
        let mut writer = store.audit_writer();
        tokio::spawn(async move {
            loop {
                // The writer's connection goes back to the pool after a quiet second, so an
                // idle hub holds none (and the store can close).
                let first = match tokio::time::timeout(QUIET, pending.recv()).await {
                    Ok(Some(first)) => first,
                    Ok(None) => break,
                    Err(_) => {
                        writer.release();
                        match pending.recv().await {
                            Some(first) => first,
                            None => break,
                        }
                    }
                };
                let mut batch = vec![first];
                while batch.len() < MOST_PER_WRITE {
                    match pending.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (events, waiting): (Vec<AuditEvent>, Vec<_>) = batch.into_iter().unzip();
                let result = writer.append_many(&events).await.map_err(|e| e.to_string());
                for waiter in waiting {
                    let _ = waiter.send(result.clone());
                }
            }
        });
        AuditQueue { queue }
    }

    /// Stores `event`, returning once it is stored.
    pub async fn append(&self, event: AuditEvent) -> Result<(), String> {
        let (done, stored) = oneshot::channel();
        self.queue.send((event, done)).map_err(|_| "the audit writer has stopped".to_string())?;
        stored.await.map_err(|_| "the audit writer has stopped".to_string())?
    }
}
