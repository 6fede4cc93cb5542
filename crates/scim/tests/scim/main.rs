//! The integration tests of crossfed-scim, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod filter;
mod list;
mod patch;
mod robustness;
mod schema;
