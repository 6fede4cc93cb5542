//! Where a server's "now" comes from when it judges SAML messages: the system clock in
//! production; in tests a fixed instant (the attack corpus is built at one) or a shifted clock
//! (a skewed peer). The hub and the emulated account each hold one.

use std::sync::{Arc, Mutex};

use crate::instant::Instant;

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
    /// A fixed instant, changed only by [`Clock::set`].
    Fixed(Arc<Mutex<Instant>>),
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
    pub fn fixed(at: Instant) -> Self {
        Clock(Source::Fixed(Arc::new(Mutex::new(at))))
    }

    /// Moves a fixed clock, and every clone of it, to `at`. Returns false, changing nothing,
    /// for the system and offset clocks.
    pub fn set(&self, at: Instant) -> bool {
        match &self.0 {
            Source::Fixed(instant) => {
                match instant.lock() {
                    Ok(mut current) => *current = at,
                    Err(poisoned) => *poisoned.into_inner() = at,
                }
                true
            }
            Source::System | Source::Offset(_) => false,
        }
    }

    pub fn now(&self) -> Instant {
        match &self.0 {
            Source::System => Instant::now(),
            Source::Offset(seconds) => Instant::now().plus_seconds(*seconds),
            Source::Fixed(instant) => match instant.lock() {
                Ok(current) => *current,
                Err(poisoned) => *poisoned.into_inner(),
            },
        }
    }

    /// [`Clock::now`] in Unix seconds.
    pub fn unix(&self) -> i64 {
        self.now().unix()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clocks_move_together_and_others_do_not_move() {
        let start = Instant::from_unix(1_800_000_000).unwrap_or_else(Instant::now);
        let clock = Clock::fixed(start);
        let seen_by_the_server = clock.clone();
        assert_eq!(seen_by_the_server.now(), start);
        assert!(clock.set(start.plus_seconds(5)));
        assert_eq!(seen_by_the_server.unix(), start.unix() + 5);

        assert!(!Clock::system().set(start));
        let before = Instant::now().unix();
        assert!((before..=before + 5).contains(&Clock::default().unix()));
        let ahead = Clock::offset(3600).unix();
        assert!((before + 3600..=before + 3605).contains(&ahead));
    }
}
