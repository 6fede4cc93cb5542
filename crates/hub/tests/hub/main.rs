//! The integration tests of crossfed-hub, in one binary: one module per area, sharing their setup;
//! the tests of every module run in parallel.

mod admin;
mod attack_corpus;
mod browser_binding;
mod chain;
mod connect_client;
mod connect_launch;
mod console;
mod database_outage;
mod disk_full;
mod error_bodies;
mod identities;
mod key_rollover;
mod keys;
mod login;
mod logout;
mod metrics;
mod portal;
mod provisioning;
mod refusals;
mod renames;
mod scim;
mod support;
mod target_accounts;
mod tokens;
mod upstream;
mod web_surface;
