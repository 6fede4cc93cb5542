//! The integration tests of crossfed-xml, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod c14n;
mod lxml_differential;
mod parse;
mod properties;
