//! The emulated account's clock: the time assertions are validated at (sign-in endpoint and
//! AssumeRoleWithSAML), credentials and console sessions expire by, and SigV4 request times are
//! checked against. The system clock unless a test fixes or shifts it, for instance to present
//! responses generated at a fixed time (the attack corpus).

pub use crossfed_clock::Clock;
