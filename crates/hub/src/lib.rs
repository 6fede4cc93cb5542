//! The hub: the role IAM Identity Center plays in the reference chain. It trusts the corporate
//! IdP as a SAML SP and acts as SAML IdP for applications.
//!
//! Three layers, importing downward only (`docs/architecture.md` has the map):
//! - wiring: [`bootstrap`] builds the [`state::Hub`] from the [`config`], [`router`] serves it,
//!   [`tasks`] runs its background work;
//! - handlers, one module per front door: [`portal`], [`saml_idp`], [`saml_sp`], [`logout`],
//!   [`admin`] (the REST API), [`console`], [`scim`] — each takes the state and its guards as
//!   extractors, and only the router imports them;
//! - services, which know nothing of HTTP nor of the state: [`apps`], [`directory`],
//!   [`sessions`], [`upstream`], [`provision`], [`check`], [`keys`], [`tokens`], [`audit`], [`refusals`], with
//!   [`aws`] clients and the shared [`web`] pieces (pages, guards, the API's error body).

pub mod admin;
pub mod apps;
pub mod audit;
pub mod audit_queue;
pub mod aws;
pub mod backup;
pub mod bootstrap;
pub mod browsers;
pub mod check;
pub mod config;
pub mod config_check;
pub mod console;
pub mod cpu_pool;
pub mod directory;
pub mod health;
pub mod janitor;
pub mod keys;
pub mod logout;
pub mod metadata_source;
pub mod metrics;
pub mod portal;
pub mod presenter;
pub mod provision;
pub mod records;
pub mod refusals;
pub mod rollover;
pub mod router;
pub mod saml_idp;
pub mod saml_sp;
pub mod scim;
pub mod scrape;
pub mod secrets;
pub mod sessions;
pub mod state;
pub mod tasks;
pub mod tokens;
pub mod upstream;
pub mod views;
pub mod web;

pub use bootstrap::build_hub;
pub use router::{router, serve, serve_with};
pub use state::Hub;
