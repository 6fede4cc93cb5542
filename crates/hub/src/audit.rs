//! The audit log as the hub's services write it: one [`Auditor`] builds every record (who, what,
//! on what, the outcome, a detail, the time by the hub's clock) and hands it to the group-commit
//! writer ([`crate::audit_queue`]). A record that cannot be stored is logged as a warning; it
//! does not stop the request it records.

use crossfed_clock::Clock;
use crossfed_store::{AuditEvent, Outcome};

use crate::audit_queue::{AuditError, AuditQueue};

/// Writes audit records; cheap to clone.
#[derive(Debug, Clone)]
pub struct Auditor {
    queue: AuditQueue,
    clock: Clock,
}

impl Auditor {
    pub fn new(queue: AuditQueue, clock: Clock) -> Self {
        Auditor { queue, clock }
    }

    /// Stores a record, returning once it is stored (or known lost, which is logged).
    pub async fn record(&self, actor: &str, action: &str, target: Option<&str>, outcome: Outcome, detail: String) {
        let stored = self.queue.append(self.event(actor, action, target, outcome, detail)).await;
        warn_if_unstored(stored);
    }

    /// A record stamped now, to queue later (from a signing thread, say).
    pub fn event(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        outcome: Outcome,
        detail: String,
    ) -> AuditEvent {
        let mut event = AuditEvent::new(self.clock.unix(), actor, action, outcome);
        event.target = target.map(str::to_string);
        event.detail = detail;
        event
    }

    /// The writer's queue, for work that queues its record itself ([`AuditQueue::append_then`]).
    pub fn queue(&self) -> &AuditQueue {
        &self.queue
    }
}

/// A record that could not be stored does not stop the request it records; it is logged.
pub fn warn_if_unstored(stored: Result<(), AuditError>) {
    if let Err(e) = stored {
        tracing::warn!("audit log write failed: {e}");
    }
}
