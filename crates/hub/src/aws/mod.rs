//! Clients of AWS's APIs, SigV4-signed: Amazon Connect's REST API ([`connect`]) for provisioning
//! and the chain checks, and the query APIs of IAM and STS ([`query`]) for the checks.

pub mod connect;
pub mod query;
