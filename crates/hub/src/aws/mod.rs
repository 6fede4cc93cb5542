//! Clients of AWS's APIs, SigV4-signed: Amazon Connect's REST API ([`connect`]) for provisioning
//! and the chain checks, the query APIs of IAM and STS ([`query`]) for the checks and the key
//! rollover, and the key check a rollover proves each account with ([`key_check`]).

pub mod connect;
pub mod key_check;
pub mod query;
