//! The time the hub judges SAML messages by: the instant a Response is validated at, whether the
//! identity source's metadata is still valid, and the expiry of the replay cache's entries. The
//! system clock in production; tests put the hub at the instant a recorded or generated Response
//! was made (the attack corpus is built at a fixed time), or shift it to play a skewed clock.
//!
//! Records the hub both writes and reads back itself (pending logins, sessions, user timestamps)
//! keep the system clock, since their writer and reader must agree.

pub use crossfed_saml::Clock;
