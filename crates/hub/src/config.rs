//! The hub's configuration file (TOML): its URL, the built-in directory's bootstrap users, the
//! applications from the catalog and who is assigned to them, and the AWS accounts the checks and
//! the key rollover reach ([`HubConfig::target_accesses`]). Applied at every start: the
//! applications it lists are written to the store, replacing what an earlier start wrote.
//! Every table refuses keys it does not know, and the error names the key, its table and its
//! line; secrets may come from files or environment variables ([`crate::secrets`]).

use std::path::Path;

use serde::Deserialize;

use crate::check::TargetAccess;
use crate::secrets::{SecretError, SecretSetting};

pub use crate::apps::spec::{
    ApplicationSpec, AttributeEntry, AwsAccountEntry, ConnectEntry, ConnectProvisioningEntry, CustomEntry,
};

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
    /// Read access to the AWS account the applications sign people into, for the console's
    /// chain checks.
    pub target_account: Option<TargetAccountEntry>,
    /// More AWS accounts, when the applications sign people into several: each application is
    /// checked with the entry whose account it names.
    #[serde(default)]
    pub target_accounts: Vec<TargetAccountEntry>,
}

/// An account the console's checks read (IAM, STS, Amazon Connect), with read-only keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetAccountEntry {
    /// The account's 12-digit ID; when left out it is learned from the keys (STS
    /// GetCallerIdentity).
    pub account_id: Option<String>,
    /// The account's API endpoint; leave it out for AWS's own endpoints.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    /// The secret key, or a file or environment variable holding it.
    pub secret_access_key: Option<String>,
    pub secret_access_key_file: Option<std::path::PathBuf>,
    pub secret_access_key_env: Option<String>,
    /// Where the account's sign-in accepts assertions (default: ENDPOINT/saml, or AWS's).
    pub signin_url: Option<String>,
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
    /// The bearer token, or a file or environment variable holding it.
    pub token: Option<String>,
    pub token_file: Option<std::path::PathBuf>,
    pub token_env: Option<String>,
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
    /// The URL people and peers reach the hub at (default: http://LISTEN): every URL the hub
    /// publishes (metadata, redirects, SCIM locations) starts with it, whatever a request's
    /// `Host` or forwarded headers say. `base_url` is its former name.
    #[serde(alias = "base_url")]
    pub public_url: Option<String>,
    /// Reverse proxies (address ranges, `10.0.0.0/8`, `::1/128`) whose forwarded client address
    /// is believed; none by default.
    #[serde(default)]
    pub trusted_proxies: Vec<crossfed_web::forwarded::Cidr>,
    /// The header those proxies write the client's address in: `xforwarded` (`X-Forwarded-For`,
    /// the default) or `forwarded` (RFC 7239).
    #[serde(default)]
    pub proxy_headers: crossfed_web::forwarded::ProxyHeaders,
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
    /// Set at start when the user has no password yet; or a file or environment variable
    /// holding it.
    pub password: Option<String>,
    pub password_file: Option<std::path::PathBuf>,
    pub password_env: Option<String>,
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
    pub aws_account: Option<AwsAccountEntry>,
    pub custom: Option<CustomEntry>,
    /// Sign for this application with a key of its own (`assertion:ID`), rotated on its own.
    #[serde(default)]
    pub own_signing_key: bool,
}

/// Why the configuration file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Invalid { path: String, source: Box<toml::de::Error> },
    #[error("{path}, line {line}: unknown key `{key}` in {table}; {source}")]
    UnknownKey { path: String, line: usize, key: String, table: String, source: Box<toml::de::Error> },
    #[error("{path}: `{at}`: {source}")]
    InvalidAt { path: String, at: String, source: Box<toml::de::Error> },
}

impl HubConfig {
    pub fn load(path: &Path) -> Result<HubConfig, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
        HubConfig::parse(&text, &shown)
    }

    /// Reads the configuration `text`; `path` names it in errors, which say where in the file
    /// (the table and key, and the line) the problem is.
    pub fn parse(text: &str, path: &str) -> Result<HubConfig, ConfigError> {
        let path = path.to_string();
        let document = toml::Deserializer::parse(text)
            .map_err(|e| ConfigError::Invalid { path: path.clone(), source: Box::new(e) })?;
        serde_path_to_error::deserialize(document).map_err(|e| {
            let at = e.path().to_string();
            let source = Box::new(e.into_inner());
            if !source.message().starts_with("unknown field") {
                return ConfigError::InvalidAt { path, at, source };
            }
            let (table, key) = match at.rsplit_once('.') {
                Some((table, key)) => (format!("table `{table}`"), key.to_string()),
                None => ("the top level".to_string(), at),
            };
            let before = source.span().and_then(|span| text.get(..span.start)).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            ConfigError::UnknownKey { path, line, key, table, source }
        })
    }
}

impl UserEntry {
    /// The password to set, if the entry gives one.
    pub fn password(&self) -> Result<Option<String>, SecretError> {
        let whose = format!("user {}", self.user_name);
        SecretSetting {
            whose: &whose,
            what: "password",
            value: self.password.as_deref(),
            file: self.password_file.as_deref(),
            env: self.password_env.as_deref(),
        }
        .read()
    }
}

impl ScimTargetEntry {
    /// The bearer token the target takes.
    pub fn token(&self) -> Result<String, SecretError> {
        let whose = format!("provisioning target {}", self.name);
        SecretSetting {
            whose: &whose,
            what: "token",
            value: self.token.as_deref(),
            file: self.token_file.as_deref(),
            env: self.token_env.as_deref(),
        }
        .require()
    }
}

impl TargetAccountEntry {
    /// The secret key of the account's read-only identity; `whose` names the entry in errors
    /// (`target_account`, `target_accounts[1]`).
    pub fn secret_access_key(&self, whose: &str) -> Result<String, SecretError> {
        SecretSetting {
            whose,
            what: "secret_access_key",
            value: self.secret_access_key.as_deref(),
            file: self.secret_access_key_file.as_deref(),
            env: self.secret_access_key_env.as_deref(),
        }
        .require()
    }

    /// How the entry reaches its account, its secret read; `whose` names it in errors.
    pub fn access(&self, whose: &str) -> Result<TargetAccess, TargetAccountError> {
        if let Some(id) = &self.account_id
            && !(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(TargetAccountError::AccountId { whose: whose.to_string(), found: id.clone() });
        }
        Ok(TargetAccess {
            account_id: self.account_id.clone(),
            endpoint: self.endpoint.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key(whose)?,
            signin_url: self.signin_url.clone(),
        })
    }
}

/// Why a target account of the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetAccountError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{whose}: account_id must be the account's 12 digits, found {found:?}")]
    AccountId { whose: String, found: String },
    #[error(
        "{first} and {second} both name account {account_id}; give each account one entry (the checks could use only one of them)"
    )]
    SameAccount { first: String, second: String, account_id: String },
}

impl HubConfig {
    /// The target account entries, `[target_account]` first, each with the name its errors give
    /// it.
    fn target_entries(&self) -> Vec<(String, &TargetAccountEntry)> {
        let single = self.target_account.iter().map(|e| ("target_account".to_string(), e));
        let listed = self.target_accounts.iter().enumerate().map(|(i, e)| (format!("target_accounts[{i}]"), e));
        single.chain(listed).collect()
    }

    /// Every configured target account (`[target_account]` and each `[[target_accounts]]`) as the
    /// chain checks and the key rollover reach it, secrets read. Empty when none is configured.
    pub fn target_accesses(&self) -> Result<Vec<TargetAccess>, TargetAccountError> {
        let mut problems = self.target_account_problems();
        if !problems.is_empty() {
            return Err(problems.remove(0));
        }
        self.target_entries().into_iter().map(|(whose, entry)| entry.access(&whose)).collect()
    }

    /// Each problem of the target account entries, not only the first (`--check-config`).
    pub fn target_account_problems(&self) -> Vec<TargetAccountError> {
        let entries = self.target_entries();
        let mut problems: Vec<TargetAccountError> =
            entries.iter().filter_map(|(whose, entry)| entry.access(whose).err()).collect();
        for (i, (second, entry)) in entries.iter().enumerate() {
            let Some(account_id) = &entry.account_id else { continue };
            let earlier = entries.iter().take(i).find(|(_, other)| other.account_id.as_ref() == Some(account_id));
            if let Some((first, _)) = earlier {
                problems.push(TargetAccountError::SameAccount {
                    first: first.clone(),
                    second: second.clone(),
                    account_id: account_id.clone(),
                });
            }
        }
        problems
    }
}

impl ApplicationEntry {
    /// The entry's settings, as the admin API takes them too: a secret given in a file or an
    /// environment variable is read into its place.
    pub fn spec(&self) -> Result<ApplicationSpec, SecretError> {
        let mut amazon_connect = self.amazon_connect.clone();
        if let Some(p) = amazon_connect.as_mut().and_then(|c| c.provisioning.as_mut()) {
            let whose = format!("application {} (amazon_connect.provisioning)", self.id);
            let secret = SecretSetting {
                whose: &whose,
                what: "secret_access_key",
                value: Some(p.secret_access_key.as_str()).filter(|s| !s.is_empty()),
                file: p.secret_access_key_file.as_deref(),
                env: p.secret_access_key_env.as_deref(),
            }
            .read()?;
            p.secret_access_key = secret.unwrap_or_default();
            p.secret_access_key_file = None;
            p.secret_access_key_env = None;
        }
        Ok(ApplicationSpec {
            name: self.name.clone(),
            amazon_connect,
            aws_account: self.aws_account.clone(),
            custom: self.custom.clone(),
            own_signing_key: self.own_signing_key,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    const ACCOUNTS: &str = r#"
[target_account]
endpoint = "http://127.0.0.1:9001"
access_key_id = "AKIAONE"
secret_access_key = "one"

[[target_accounts]]
account_id = "222222222222"
access_key_id = "AKIATWO"
secret_access_key = "two"
signin_url = "https://eu-west-1.signin.aws.amazon.com/saml"

[[target_accounts]]
account_id = "333333333333"
access_key_id = "AKIATHREE"
secret_access_key = "three"
"#;

    #[test]
    fn every_target_account_entry_is_one_target_and_each_problem_names_its_entry() {
        let config = HubConfig::parse(ACCOUNTS, "hub.toml").unwrap();
        let targets = config.target_accesses().unwrap();
        let ids: Vec<Option<&str>> = targets.iter().map(|t| t.account_id.as_deref()).collect();
        assert_eq!(ids, [None, Some("222222222222"), Some("333333333333")]);
        assert_eq!(targets[0].signin_url(), "http://127.0.0.1:9001/saml");
        assert_eq!(targets[1].signin_url(), "https://eu-west-1.signin.aws.amazon.com/saml");
        assert_eq!(targets[2].signin_url(), "https://signin.aws.amazon.com/saml");
        assert_eq!(targets[2].secret_access_key, "three");
        assert!(HubConfig::parse("", "hub.toml").unwrap().target_accesses().unwrap().is_empty());

        let broken = ACCOUNTS
            .replace("account_id = \"333333333333\"", "account_id = \"222222222222\"")
            .replace("secret_access_key = \"two\"", "secret_access_key_env = \"CROSSFED_TEST_SURELY_UNSET\"")
            .replace("endpoint = \"http://127.0.0.1:9001\"", "account_id = \"1234\"");
        let config = HubConfig::parse(&broken, "hub.toml").unwrap();
        let problems: Vec<String> = config.target_account_problems().iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("target_account: account_id must be the account's 12 digits, found \"1234\""));
        assert!(problems[1].starts_with("target_accounts[0]: secret_access_key_env names"), "{}", problems[1]);
        assert!(problems[2].starts_with("target_accounts[0] and target_accounts[1] both name account 222222222222"));
        assert_eq!(config.target_accesses().unwrap_err().to_string(), problems[0]);
    }
}
