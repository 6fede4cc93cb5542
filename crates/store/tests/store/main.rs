//! The integration tests of crossfed-store, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod snapshot;
mod store;
