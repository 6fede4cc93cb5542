//! The integration tests of crossfed-xmldsig, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod sign_verify;
mod xmlsec1;
