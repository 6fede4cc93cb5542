//! The hub: the role IAM Identity Center plays in the reference chain. It trusts the corporate
//! IdP as a SAML SP and acts as SAML IdP for applications.

pub mod admin;
pub mod applications;
pub mod audit_queue;
pub mod aws_query;
pub mod bootstrap;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod connect_client;
pub mod console;
pub mod cpu_pool;
pub mod doctor;
pub mod janitor;
pub mod keys;
pub mod launch;
pub mod login;
pub mod logout;
pub mod mapping;
pub mod metadata_refresh;
pub mod password;
pub mod provision;
pub mod scim;
pub mod server;
pub mod sso;
pub mod tokens;
pub mod totp;
pub mod upstream;
