//! The integration tests of crossfed-iam, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod aws_doc_examples;
mod robustness;
