//! The audit log as the hub's services write it: one [`Auditor`] builds every record (who, what,
//! on what, the outcome, a detail, the time by the hub's clock) and hands it to the group-commit
//! writer ([`crate::audit_queue`]). The audit log fails closed: whatever the hub issues or
//! acknowledges (an assertion, a session, a change) is answered only once its record is stored,
//! so callers get the outcome of every record; a failure record that cannot be stored is only
//! logged.

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

    /// Stores a record, returning once it is stored, or why it could not be.
    #[must_use = "what a record vouches for must not be answered when the record is lost"]
    pub async fn record(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        outcome: Outcome,
        detail: String,
    ) -> Result<(), AuditError> {
        let stored = self.queue.append(self.event(actor, action, target, outcome, detail)).await;
        if let Err(e) = &stored {
            tracing::warn!("audit log write failed: {e}");
        }
        stored
    }

    /// Stores a record of something that did not happen (a refusal, a failure), or that is
    /// safe whatever becomes of its record (a sign-out): a lost record is only logged.
    pub async fn note(&self, actor: &str, action: &str, target: Option<&str>, outcome: Outcome, detail: String) {
        let _ = self.record(actor, action, target, outcome, detail).await;
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
