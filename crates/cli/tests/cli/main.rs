//! The integration tests of crossfed-cli, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod admin_api;
mod admin_cli;
mod attack_corpus_cli;
mod backup_cli;
mod bench_cli;
mod cloud_cli;
mod config_cli;
mod data_files_cli;
mod demo_cli;
mod operations_cli;
mod packaging_cli;
mod prometheus_cli;
mod saml_cli;
mod scaleout_cli;
mod serving_cli;
mod tokens_cli;
