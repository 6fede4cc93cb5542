//! The integration tests of crossfed-cloud, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod account;
mod attack_corpus;
mod refusals;
