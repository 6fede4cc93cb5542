//! The integration tests of crossfed-sigv4, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod test_suite;
