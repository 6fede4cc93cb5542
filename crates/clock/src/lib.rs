//! The one place crossfed reads the wall clock. Everything else takes the time as a parameter,
//! and the linter enforces it (`clippy.toml` disallows the wall-clock reads of `std` and `time`
//! outside this crate). A server holds a [`Clock`]: the system clock in production; in tests a
//! fixed instant (the attack corpus is built at one) or a shifted clock (a skewed peer).
//!
//! Monotonic time (`std::time::Instant`) is not wall-clock time: timeouts and measurements read
//! it where they need it.
#![allow(clippy::disallowed_methods)]

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

/// Where "now" comes from. Clones share a fixed clock: a test keeps one clone and moves the
/// time the server sees.
#[derive(Debug, Clone, Default)]
pub struct Clock(Source);

#[derive(Debug, Clone, Default)]
enum Source {
    #[default]
    System,
    /// The system clock shifted by this many seconds.
    Offset(i64),
    /// A fixed time, changed only by [`Clock::set`].
    Fixed(Arc<Mutex<OffsetDateTime>>),
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Self {
        Clock(Source::System)
    }

    /// The system clock shifted by `seconds` (negative: behind).
    pub fn offset(seconds: i64) -> Self {
        Clock(Source::Offset(seconds))
    }

    /// A clock standing still at `at` until [`Clock::set`] moves it.
    pub fn fixed(at: impl Into<OffsetDateTime>) -> Self {
        Clock(Source::Fixed(Arc::new(Mutex::new(at.into()))))
    }

    /// Moves a fixed clock, and every clone of it, to `at`. Returns false, changing nothing,
    /// for the system and offset clocks.
    pub fn set(&self, at: impl Into<OffsetDateTime>) -> bool {
        match &self.0 {
            Source::Fixed(current) => {
                match current.lock() {
                    Ok(mut current) => *current = at.into(),
                    Err(poisoned) => *poisoned.into_inner() = at.into(),
                }
                true
            }
            Source::System | Source::Offset(_) => false,
        }
    }

    /// The current time, in UTC.
    pub fn now(&self) -> OffsetDateTime {
        match &self.0 {
            Source::System => OffsetDateTime::now_utc(),
            Source::Offset(seconds) => OffsetDateTime::now_utc().saturating_add(time::Duration::seconds(*seconds)),
            Source::Fixed(current) => match current.lock() {
                Ok(current) => *current,
                Err(poisoned) => *poisoned.into_inner(),
            },
        }
    }

    /// [`Clock::now`] in Unix seconds.
    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// [`Clock::now`] in Unix milliseconds.
    pub fn unix_ms(&self) -> i64 {
        let now = self.now();
        now.unix_timestamp().saturating_mul(1000).saturating_add(i64::from(now.millisecond()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clocks_move_together_and_others_do_not_move() {
        let start = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let clock = Clock::fixed(start);
        let seen_by_the_server = clock.clone();
        assert_eq!(seen_by_the_server.now(), start);
        assert!(clock.set(start + time::Duration::seconds(5)));
        assert_eq!(seen_by_the_server.unix(), 1_800_000_005);
        assert_eq!(seen_by_the_server.unix_ms(), 1_800_000_005_000);

        assert!(!Clock::system().set(start));
        let before = Clock::system().unix();
        assert!((before..=before + 5).contains(&Clock::default().unix()));
        let ahead = Clock::offset(3600).unix();
        assert!((before + 3600..=before + 3605).contains(&ahead));
    }
}
