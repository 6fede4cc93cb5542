//! The resources of the emulated account, in the shapes the AWS APIs return them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The account `crossfed cloud` starts with when no configuration says otherwise.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
pub const DEFAULT_REGION: &str = "us-east-1";

/// Store kinds, one per resource type.
pub mod kind {
    pub const SAML_PROVIDER: &str = "iam-saml-provider";
    pub const ROLE: &str = "iam-role";
    pub const POLICY: &str = "iam-policy";
    pub const CREDENTIALS: &str = "sts-credentials";
    pub const CONSOLE_SESSION: &str = "console-session";
    pub const CONNECT_INSTANCE: &str = "connect-instance";
    pub const CONNECT_USER: &str = "connect-user";
    pub const SECURITY_PROFILE: &str = "connect-security-profile";
    pub const ROUTING_PROFILE: &str = "connect-routing-profile";
    pub const CONNECT_SESSION: &str = "connect-session";
    pub const SIGNIN_CHOICE: &str = "signin-choice";
    pub const CONNECT_SIGN_IN_LINK: &str = "connect-sign-in-link";
}

/// An IAM SAML identity provider, created from metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlProvider {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub metadata_xml: String,
    /// The IdP's entity ID from the metadata: assertions must name it as Issuer.
    pub entity_id: String,
    /// Base64 DER signing certificates from the metadata.
    pub signing_certificates: Vec<String>,
    pub created: i64,
    pub valid_until: Option<i64>,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub arn: String,
    pub name: String,
    pub account: String,
    /// The stable unique ID (`AROA…`); `aws:userid` of a session is `ROLE_ID:SESSION_NAME`.
    pub role_id: String,
    pub path: String,
    pub description: Option<String>,
    /// The trust policy (JSON).
    pub assume_role_policy: String,
    pub max_session_duration: i64,
    /// Inline permission policies by name (JSON).
    pub inline_policies: BTreeMap<String, String>,
    /// ARNs of attached managed policies.
    pub attached_policies: Vec<String>,
    pub created: i64,
}

/// A customer managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub policy_id: String,
    pub document: String,
    pub created: i64,
}

/// Who a set of credentials belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Principal {
    /// The account administrator configured at start (long-term keys).
    Administrator { account: String },
    /// A session of a role assumed with SAML.
    AssumedRole {
        account: String,
        role_arn: String,
        role_id: String,
        role_name: String,
        session_name: String,
        /// SAML context keys of the session (`saml:sub`, `saml:aud`, …), for policies.
        saml_keys: BTreeMap<String, String>,
    },
}

impl Principal {
    pub fn account(&self) -> &str {
        match self {
            Principal::Administrator { account } | Principal::AssumedRole { account, .. } => account,
        }
    }

    /// `aws:userid`: the role ID and session name for assumed roles.
    pub fn user_id(&self) -> String {
        match self {
            Principal::Administrator { account } => account.clone(),
            Principal::AssumedRole { role_id, session_name, .. } => format!("{role_id}:{session_name}"),
        }
    }

    /// The caller's ARN as GetCallerIdentity reports it.
    pub fn arn(&self) -> String {
        match self {
            Principal::Administrator { account } => format!("arn:aws:iam::{account}:root"),
            Principal::AssumedRole { account, role_name, session_name, .. } => {
                format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}")
            }
        }
    }
}

/// Access keys: the administrator's, or temporary ones issued by STS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// Unix seconds; None for long-term keys.
    pub expiration: Option<i64>,
    pub principal: Principal,
}

/// A signed-in console session (cookie), created by the sign-in endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSession {
    pub id: String,
    pub access_key_id: String,
    pub expiration: i64,
}

/// An Amazon Connect instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectInstance {
    pub id: String,
    pub arn: String,
    pub instance_alias: Option<String>,
    /// `SAML`, `CONNECT_MANAGED` or `EXISTING_DIRECTORY`; fixed at creation, as in the real service.
    pub identity_management_type: String,
    pub instance_status: String,
    pub inbound_calls_enabled: bool,
    pub outbound_calls_enabled: bool,
    pub created_time: i64,
    pub account: String,
}

/// A Connect security or routing profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Profile {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub instance_id: String,
}

/// Name fields of a Connect user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A Connect user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectUser {
    pub id: String,
    pub arn: String,
    pub username: String,
    pub instance_id: String,
    pub routing_profile_id: String,
    pub security_profile_ids: Vec<String>,
    pub identity_info: IdentityInfo,
    pub phone_type: String,
    /// The IAM role whose sessions first signed in as this user: Connect ties a username to
    /// one role, and a sign-in through another fails until the user is re-created.
    #[serde(default)]
    pub federated_role_arn: Option<String>,
}

/// The default security profiles every new instance has.
pub const DEFAULT_SECURITY_PROFILES: [&str; 4] = ["Admin", "Agent", "CallCenterManager", "QualityAnalyst"];
/// The routing profile every new instance has.
pub const DEFAULT_ROUTING_PROFILE: &str = "Basic Routing Profile";
