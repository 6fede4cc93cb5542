//! The hub's configuration file (TOML): its URL, the built-in directory's bootstrap users, the
//! applications from the catalog and who is assigned to them. Applied at every start.

use std::path::Path;

use serde::Deserialize;

use crate::catalog::{AmazonConnect, Application, AwsRole, CatalogError};
use crate::mapping::AttributeMapping;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    #[serde(default)]
    pub hub: HubSection,
    #[serde(default)]
    pub users: Vec<UserEntry>,
    #[serde(default)]
    pub applications: Vec<ApplicationEntry>,
    /// An upstream IdP people sign in at instead of the built-in directory.
    pub identity_source: Option<IdentitySourceEntry>,
    #[serde(default)]
    pub provisioning: ProvisioningSection,
}

/// Outbound provisioning: SCIM targets, and how often connectors reconcile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningSection {
    /// Seconds between full reconciles (changes are pushed at once regardless).
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
    /// The first retry after a failure waits this long; each further failure doubles it.
    #[serde(default = "default_retry")]
    pub retry_base_seconds: i64,
    #[serde(default)]
    pub scim: Vec<ScimTargetEntry>,
}

impl Default for ProvisioningSection {
    fn default() -> Self {
        ProvisioningSection {
            interval_seconds: default_interval(),
            retry_base_seconds: default_retry(),
            scim: Vec::new(),
        }
    }
}

fn default_interval() -> u64 {
    300
}

fn default_retry() -> i64 {
    5
}

/// A SCIM endpoint this hub's directory is pushed to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimTargetEntry {
    pub name: String,
    /// The target's SCIM base URL, such as `https://hub.example.com/scim/v2`.
    pub url: String,
    /// The bearer token, or a file holding it.
    pub token: Option<String>,
    pub token_file: Option<std::path::PathBuf>,
    /// The target's userName for each user.
    #[serde(default = "default_scim_user_name")]
    pub user_name: String,
    /// The target's externalId for each user.
    #[serde(default = "default_scim_external_id")]
    pub external_id: String,
}

fn default_scim_user_name() -> String {
    "${user:userName}".to_string()
}

fn default_scim_external_id() -> String {
    "${user:subject}".to_string()
}

/// Creating the application's users in Amazon Connect through its API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectProvisioningEntry {
    /// The Connect API endpoint (default: the region's AWS endpoint).
    pub api_url: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default = "default_security_profiles")]
    pub security_profiles: Vec<String>,
    #[serde(default = "default_routing_profile")]
    pub routing_profile: String,
}

fn default_security_profiles() -> Vec<String> {
    vec!["Agent".to_string()]
}

fn default_routing_profile() -> String {
    "Basic Routing Profile".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySourceEntry {
    /// The IdP's metadata: a file (relative to the working directory) or a URL.
    pub metadata_file: Option<std::path::PathBuf>,
    pub metadata_url: Option<String>,
    #[serde(default = "default_provisioning")]
    pub provisioning: crate::upstream::Provisioning,
    #[serde(default)]
    pub allow_idp_initiated: bool,
    /// Minutes between metadata refreshes (0: never); the last good copy is kept on failure.
    #[serde(default = "default_refresh_minutes")]
    pub refresh_minutes: u64,
}

fn default_refresh_minutes() -> u64 {
    60
}

fn default_provisioning() -> crate::upstream::Provisioning {
    crate::upstream::Provisioning::JustInTime
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSection {
    /// The URL people and peers reach the hub at (default: http://LISTEN).
    pub base_url: Option<String>,
    /// Minutes without activity before a session ends.
    pub session_idle_minutes: Option<i64>,
    /// Hours after sign-in before a session ends regardless.
    pub session_max_hours: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub user_name: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    /// Set at start when the user has no password yet.
    pub password: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationEntry {
    /// Short identifier used in URLs (`/saml/apps/ID/metadata`).
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub assigned_users: Vec<String>,
    /// Groups whose members may open the application.
    #[serde(default)]
    pub assigned_groups: Vec<String>,
    pub amazon_connect: Option<ConnectEntry>,
    pub custom: Option<CustomEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectEntry {
    pub account_id: String,
    pub region: String,
    pub instance_id: String,
    pub role_name: String,
    pub provider_name: String,
    pub signin_url: Option<String>,
    pub console_url: Option<String>,
    pub destination: Option<String>,
    #[serde(default = "default_session_duration")]
    pub session_duration: i64,
    /// When given, assigned users get their Connect user created, updated and removed.
    pub provisioning: Option<ConnectProvisioningEntry>,
}

fn default_session_duration() -> i64 {
    43_200
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomEntry {
    /// Where assertions are posted; with `audience`, or both read from `metadata_file`/`metadata_url`.
    pub acs_url: Option<String>,
    pub audience: Option<String>,
    /// The application's SP metadata: its entity ID becomes the audience, its default HTTP-POST
    /// assertion consumer service the ACS URL.
    pub metadata_file: Option<std::path::PathBuf>,
    pub metadata_url: Option<String>,
    /// Refuse unsigned AuthnRequests (also implied by `AuthnRequestsSigned` in the metadata).
    #[serde(default)]
    pub require_signed_requests: bool,
    /// Request-signing certificates, filled from the metadata.
    #[serde(skip)]
    pub request_certificates: Vec<crossfed_xmldsig::Certificate>,
    #[serde(default = "default_name_id_format")]
    pub name_id_format: String,
    #[serde(default = "default_name_id")]
    pub name_id: String,
    pub relay_state: Option<String>,
    #[serde(default)]
    pub attributes: Vec<AttributeEntry>,
}

fn default_name_id_format() -> String {
    crossfed_saml::ns::NAMEID_EMAIL.to_string()
}

fn default_name_id() -> String {
    "${user:email}".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeEntry {
    pub name: String,
    pub value: String,
    /// Refuse the login when the user lacks the value (by default the attribute is left out).
    #[serde(default)]
    pub required: bool,
}

impl HubConfig {
    pub fn load(path: &Path) -> Result<HubConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl ApplicationEntry {
    /// The application this entry describes, checked.
    pub fn application(&self) -> Result<Application, String> {
        let id_ok = !self.id.is_empty() && self.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok {
            return Err(format!("application id {:?}: use letters, digits, - and _", self.id));
        }
        let context = |e: CatalogError| format!("application {}: {e}", self.id);
        match (&self.amazon_connect, &self.custom) {
            (Some(c), None) => AmazonConnect {
                account_id: c.account_id.clone(),
                region: c.region.clone(),
                instance_id: c.instance_id.clone(),
                role: AwsRole { role_name: c.role_name.clone(), provider_name: c.provider_name.clone() },
                signin_url: c.signin_url.clone(),
                console_url: c.console_url.clone(),
                destination: c.destination.clone(),
                session_duration: c.session_duration,
            }
            .application(&self.name)
            .map_err(context),
            (None, Some(c)) => {
                let attributes = c
                    .attributes
                    .iter()
                    .map(|a| {
                        AttributeMapping::new(&a.name, &a.value)
                            .map(|m| AttributeMapping { optional: !a.required, ..m })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("application {}: {e}", self.id))?;
                let name_id = crate::mapping::Template::parse(&c.name_id)
                    .map_err(|e| format!("application {}: NameID: {e}", self.id))?;
                let (Some(acs_url), Some(audience)) = (&c.acs_url, &c.audience) else {
                    return Err(format!(
                        "application {}: give acs_url and audience, or the application's metadata_file or metadata_url",
                        self.id
                    ));
                };
                Ok(Application {
                    kind: crate::catalog::Kind::CustomSaml,
                    name: self.name.clone(),
                    acs_url: acs_url.clone(),
                    audience: audience.clone(),
                    name_id_format: c.name_id_format.clone(),
                    name_id,
                    attributes,
                    relay_state: c.relay_state.clone(),
                    signing: crate::catalog::Signing::Assertion,
                    assertion_lifetime_seconds: 300,
                    requests: crate::catalog::RequestSigning {
                        certificates: c.request_certificates.clone(),
                        required: c.require_signed_requests,
                    },
                })
            }
            _ => Err(format!(
                "application {}: give exactly one of [applications.amazon_connect] or [applications.custom]",
                self.id
            )),
        }
    }
}
