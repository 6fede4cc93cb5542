//! The AWS IAM policy language: parsing, validation and evaluation.
//!
//! crossfed emulates an AWS target account, so it has to decide requests the
//! way IAM does. This crate implements the documented policy grammar
//! (`Version`, `Statement`, `Effect`, `Action`/`NotAction`,
//! `Resource`/`NotResource`, `Principal`/`NotPrincipal`, `Condition`), every
//! documented condition operator with its `IfExists` and
//! `ForAllValues:`/`ForAnyValue:` forms, policy variables, and the
//! "explicit deny wins, then any allow, else implicit deny" evaluation logic.
//!
//! ```
//! use crossfed_iam::{evaluate, Decision, Policy, RequestContext};
//!
//! let policy = Policy::parse(r#"{
//!     "Version": "2012-10-17",
//!     "Statement": [{
//!         "Sid": "OwnHome",
//!         "Effect": "Allow",
//!         "Action": "s3:GetObject",
//!         "Resource": "arn:aws:s3:::home/${aws:username}/*"
//!     }]
//! }"#)?;
//!
//! let ctx = RequestContext::new("s3:GetObject", "arn:aws:s3:::home/alice/notes.txt")
//!     .with_key("aws:username", "alice");
//! let decision = evaluate(&[&policy], &ctx);
//! assert!(decision.is_allowed());
//! assert_eq!(decision.sid(), Some("OwnHome"));
//! # Ok::<(), crossfed_iam::PolicyError>(())
//! ```
//!
//! Parsing never panics: every problem in a policy document comes back as a
//! [`PolicyError`] naming the JSON path of the offending element and what to
//! change.

#![warn(missing_docs)]

pub mod arn;
pub mod condition;
pub mod context;
pub mod error;
pub mod evaluate;
mod json;
pub mod parse;
pub mod principal;
mod suggest;
pub mod variables;
pub mod wildcard;

pub use arn::{Arn, ArnError};
pub use condition::{Condition, Operator, OperatorKind, SetQualifier};
pub use context::{ContextKeys, ContextValue, PrincipalType, RequestContext, RequestPrincipal};
pub use error::PolicyError;
pub use evaluate::{Decision, evaluate, evaluate_trust};
pub use parse::{Effect, Policy, PolicyKind, Statement, Version};
pub use principal::{Principal, PrincipalSet};
pub use wildcard::Pattern;
