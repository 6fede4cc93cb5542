//! The emulated target account: the AWS sign-in SAML endpoint, STS AssumeRoleWithSAML, IAM SAML
//! providers, roles and policies with a real policy evaluator, and Amazon Connect federation.

pub mod auth;
pub mod aws_xml;
pub mod clock;
pub mod config;
pub mod connect_api;
pub mod console;
pub mod error;
pub mod federation;
pub mod health;
pub mod iam_api;
pub mod ids;
pub mod model;
pub mod pages;
pub mod paging;
pub mod query_api;
pub mod server;
pub mod state;
pub mod sts;

pub use clock::Clock;
pub use config::CloudConfig;
pub use server::{router, serve, serve_with};
pub use state::App;
pub use state::Settings;
