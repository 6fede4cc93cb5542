//! Refusals on the audit log, aggregated: every refused request (a SAML message, a token, a
//! launch…) is recorded with its kind, the peer it concerned and the client address it came
//! from — but a flood must not fill the disk. Per client address and kind, the first refusal of
//! a minute is recorded at once, in full; the rest of that minute are counted, and one summary
//! record says how many once the minute is over. At most [`SOURCES_PER_MINUTE`] addresses get
//! records of their own in a minute; refusals from further addresses are counted together under
//! [`OTHER_SOURCES`]. A minute can thus write at most about twice that many records per kind,
//! however many requests are refused.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crossfed_clock::Clock;
use crossfed_store::{AuditEvent, Outcome};

use crate::audit::Auditor;

/// The action of every refusal record; its kind starts the detail and follows in the action.
pub const ACTION_PREFIX: &str = "refused.";
/// How many client addresses get records of their own in one minute.
pub const SOURCES_PER_MINUTE: usize = 100;
/// The source of the refusals from addresses past [`SOURCES_PER_MINUTE`].
pub const OTHER_SOURCES: &str = "other addresses";

/// One refused request.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The stable kind (`saml.invalid`, `unauthorized`, `launch.not_assigned`…).
    pub kind: &'static str,
    /// The client address, when the listener knows it.
    pub source: Option<IpAddr>,
    /// Who was refused, when known (a user name); else `anonymous`.
    pub actor: Option<String>,
    /// What it concerned: the peer (an application, the identity source) or the route.
    pub target: Option<String>,
    /// Why, in words: never a secret, a token or a message body.
    pub detail: String,
}

/// What one minute holds for one address and kind.
#[derive(Debug)]
struct Tally {
    /// Refusals after the first, not recorded one by one.
    more: u64,
    /// Who and what they concerned, while all had the same (else `various`, and none).
    actor: Option<String>,
    target: Option<String>,
}

/// The refusals of the current minute.
#[derive(Debug, Default)]
struct Minute {
    start: i64,
    tallies: HashMap<(String, &'static str), Tally>,
    sources: usize,
}

/// Records refusals, aggregated per minute; cheap to share.
#[derive(Debug)]
pub struct Refusals {
    audit: Auditor,
    clock: Clock,
    minute: Mutex<Minute>,
}

impl Refusals {
    pub fn new(audit: Auditor, clock: Clock) -> Self {
        Refusals { audit, clock, minute: Mutex::new(Minute::default()) }
    }

    /// Records `refusal`: at once if it is the first of its address and kind this minute, else
    /// only counted. A record that cannot be stored is logged (refusals acknowledge nothing).
    pub async fn note(&self, refusal: Refusal) {
        let now = self.clock.unix();
        let (ended, first) = self.tally(&refusal, now);
        self.queue(ended);
        if let Some(source) = first {
            let event = self.event(now, refusal.kind, &source, refusal.actor, refusal.target, refusal.detail);
            self.write(vec![event]).await;
        }
    }

    /// Writes the summaries of a minute that is over; a background task calls it, so a summary
    /// appears soon after its minute even when no refusal follows.
    pub async fn close_past_minute(&self) {
        let ended = self.take_if_over(self.clock.unix());
        self.write(ended).await;
    }

    /// Writes the summaries of the current minute now, for a hub that stops.
    pub async fn flush(&self) {
        let ended = self.take_if_over(i64::MAX);
        self.write(ended).await;
    }

    /// Counts `refusal`; returns the summaries of an ended minute and, when this refusal is the
    /// first of its address and kind, the source its record names.
    fn tally(&self, refusal: &Refusal, now: i64) -> (Vec<AuditEvent>, Option<String>) {
        let mut minute = self.minute.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let ended = if minute_of(now) != minute.start { self.summaries(&mut minute, now) } else { Vec::new() };
        let mut source = refusal.source.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
        let known = minute.tallies.contains_key(&(source.clone(), refusal.kind));
        if !known && minute.sources >= SOURCES_PER_MINUTE {
            source = OTHER_SOURCES.to_string();
        }
        let key = (source.clone(), refusal.kind);
        if let Some(tally) = minute.tallies.get_mut(&key) {
            tally.more += 1;
            // A summary names who and what only when every refusal it counts had the same.
            if tally.actor.as_deref() != Some(refusal.actor.as_deref().unwrap_or(ANONYMOUS)) {
                tally.actor = None;
            }
            if tally.target != refusal.target {
                tally.target = None;
            }
            return (ended, None);
        }
        minute.sources += usize::from(!minute.tallies.keys().any(|(s, _)| *s == source));
        let actor = Some(refusal.actor.clone().unwrap_or_else(|| ANONYMOUS.to_string()));
        minute.tallies.insert(key, Tally { more: 0, actor, target: refusal.target.clone() });
        (ended, Some(source))
    }

    /// The summaries of the current minute if it ended before `now`, which starts the next one.
    fn take_if_over(&self, now: i64) -> Vec<AuditEvent> {
        let mut minute = self.minute.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if minute_of(now) == minute.start { Vec::new() } else { self.summaries(&mut minute, now) }
    }

    /// One record per address and kind refused more than once in `minute`, which then restarts
    /// at `now`'s minute.
    fn summaries(&self, minute: &mut Minute, now: i64) -> Vec<AuditEvent> {
        let start = minute.start;
        let ended = std::mem::take(&mut minute.tallies);
        minute.start = minute_of(now);
        minute.sources = 0;
        ended
            .into_iter()
            .filter(|(_, tally)| tally.more > 0)
            .map(|((source, kind), tally)| {
                let detail = format!(
                    "{} more refused in the minute from {} (UTC), not recorded one by one",
                    tally.more,
                    clock_minute(start)
                );
                // Stamped at the minute's last second, so it reads after what it sums up.
                let actor = tally.actor.unwrap_or_else(|| VARIOUS.to_string());
                self.event(start + 59, kind, &source, Some(actor), tally.target, detail)
            })
            .collect()
    }

    fn event(
        &self,
        at: i64,
        kind: &str,
        source: &str,
        actor: Option<String>,
        target: Option<String>,
        detail: String,
    ) -> AuditEvent {
        let actor = actor.unwrap_or_else(|| ANONYMOUS.to_string());
        let mut event = AuditEvent::new(at, &actor, &format!("{ACTION_PREFIX}{kind}"), Outcome::Failure);
        event.target = target;
        event.source = Some(source.to_string());
        event.detail = bounded(detail);
        event
    }

    /// Stores `events` (in as few commits as the writer takes), returning once they are
    /// stored or logged as lost, or after [`WRITE_AT_MOST`].
    async fn write(&self, events: Vec<AuditEvent>) {
        if events.is_empty() {
            return;
        }
        self.queue(events);
        if !self.audit.queue().flush(WRITE_AT_MOST).await {
            tracing::warn!("refusal records were still being written after {} s", WRITE_AT_MOST.as_secs());
        }
    }

    /// Queues `events` without waiting for their commit: a refused request is not held up by
    /// the summaries of a minute that just ended.
    fn queue(&self, events: Vec<AuditEvent>) {
        for event in events {
            self.audit.queue().append_then(event, |stored| {
                if let Err(e) = stored {
                    tracing::warn!("a refusal's audit record could not be stored: {e}");
                }
            });
        }
    }
}

/// How long writing a batch of refusal records may hold its caller.
const WRITE_AT_MOST: std::time::Duration = std::time::Duration::from_secs(5);
/// The actor of a refusal nobody signed in for.
const ANONYMOUS: &str = "anonymous";
/// The actor of a summary counting refusals of several actors.
const VARIOUS: &str = "various";
/// The most characters of a refusal's detail kept (it may quote what the client sent).
const DETAIL_CHARS: usize = 500;

/// `detail`, cut to [`DETAIL_CHARS`].
fn bounded(detail: String) -> String {
    match detail.char_indices().nth(DETAIL_CHARS) {
        Some((end, _)) => format!("{}…", detail.get(..end).unwrap_or_default()),
        None => detail,
    }
}

/// The start of the minute holding `unix`.
fn minute_of(unix: i64) -> i64 {
    unix.div_euclid(60) * 60
}

/// `HH:MM` of the minute starting at `unix`.
fn clock_minute(unix: i64) -> String {
    let of_day = unix.rem_euclid(86_400);
    format!("{:02}:{:02}", of_day / 3600, of_day % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_start_on_the_minute() {
        assert_eq!(minute_of(119), 60);
        assert_eq!(minute_of(120), 120);
        assert_eq!(clock_minute(86_400 + 3 * 3600 + 7 * 60), "03:07");
    }
}
