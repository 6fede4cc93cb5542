//! The declarative description of an account (TOML): SAML providers, roles and their policies,
//! Connect instances and users. Applying it is idempotent: what exists is updated to match,
//! what is missing is created, through the same code paths as the API calls.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use crate::aws_xml::XmlOut;
use crate::error::AwsError;
use crate::iam_api::{self, Params};
use crate::model::{ConnectInstance, ConnectUser, Profile, Role, SamlProvider, kind};
use crate::state::App;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudConfig {
    #[serde(default)]
    pub account: AccountConfig,
    pub admin: Option<AdminConfig>,
    #[serde(default)]
    pub saml_providers: Vec<ProviderConfig>,
    #[serde(default)]
    pub roles: Vec<RoleConfig>,
    #[serde(default)]
    pub connect_instances: Vec<InstanceConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    #[serde(default = "default_account")]
    pub id: String,
    #[serde(default = "default_region")]
    pub region: String,
    /// A label for people ("internal-services").
    pub name: Option<String>,
}

impl Default for AccountConfig {
    fn default() -> Self {
        AccountConfig { id: default_account(), region: default_region(), name: None }
    }
}

fn default_account() -> String {
    crate::model::DEFAULT_ACCOUNT.to_string()
}

fn default_region() -> String {
    crate::model::DEFAULT_REGION.to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    pub access_key_id: String,
    pub secret_access_key: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub name: String,
    /// A metadata file, relative to the configuration file.
    pub metadata_file: Option<PathBuf>,
    /// Or a URL to fetch it from (the hub publishes each application's IdP metadata).
    pub metadata_url: Option<String>,
    /// Or the metadata itself.
    pub metadata_xml: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub name: String,
    #[serde(default = "default_max_session")]
    pub max_session_duration: i64,
    /// A trust policy (JSON)…
    pub trust_policy: Option<String>,
    /// …or the name of a SAML provider: the usual "SAML 2.0 federation" trust, with SAML:aud
    /// limited to this account's sign-in URLs.
    pub trust_saml_provider: Option<String>,
    /// Inline policies by name (JSON).
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// Aliases of Connect instances this role may federate into: adds the policy allowing
    /// connect:GetFederationToken on instance/ID/user/${aws:userid}.
    #[serde(default)]
    pub connect_federation: Vec<String>,
}

fn default_max_session() -> i64 {
    3600
}

impl RoleConfig {
    /// The reference setup's role: SAML federation trust on `provider`, 12-hour sessions, and the
    /// policy letting each session federate into `instance_alias` as itself.
    pub fn connect_agent(name: &str, provider: &str, instance_alias: &str) -> Self {
        RoleConfig {
            name: name.to_string(),
            max_session_duration: 43_200,
            trust_policy: None,
            trust_saml_provider: Some(provider.to_string()),
            inline_policies: BTreeMap::new(),
            connect_federation: vec![instance_alias.to_string()],
        }
    }
}

impl ProviderConfig {
    /// A provider whose metadata is given inline.
    pub fn from_xml(name: &str, metadata: String) -> Self {
        ProviderConfig { name: name.to_string(), metadata_file: None, metadata_url: None, metadata_xml: Some(metadata) }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    pub alias: String,
    /// SAML or CONNECT_MANAGED.
    #[serde(default = "default_identity_management")]
    pub identity_management: String,
    #[serde(default)]
    pub users: Vec<UserConfig>,
}

fn default_identity_management() -> String {
    "SAML".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub username: String,
    #[serde(default = "default_security_profiles")]
    pub security_profiles: Vec<String>,
    #[serde(default = "default_routing_profile")]
    pub routing_profile: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

impl UserConfig {
    /// A Connect agent with the default profiles.
    pub fn agent(username: &str) -> Self {
        UserConfig {
            username: username.to_string(),
            security_profiles: default_security_profiles(),
            routing_profile: default_routing_profile(),
            first_name: None,
            last_name: None,
            email: None,
        }
    }
}

fn default_security_profiles() -> Vec<String> {
    vec!["Agent".to_string()]
}

fn default_routing_profile() -> String {
    crate::model::DEFAULT_ROUTING_PROFILE.to_string()
}

impl CloudConfig {
    /// Reads a configuration file; metadata files are resolved relative to it.
    pub fn load(path: &Path) -> Result<CloudConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut config: CloudConfig = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let id = &config.account.id;
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{}: account id {id:?} must be 12 digits", path.display()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for provider in &mut config.saml_providers {
            if let Some(file) = &provider.metadata_file {
                let file = base.join(file);
                let xml = std::fs::read_to_string(&file).map_err(|e| {
                    format!("SAML provider {}: cannot read metadata {}: {e}", provider.name, file.display())
                })?;
                provider.metadata_xml = Some(xml);
            }
        }
        Ok(config)
    }

    /// Fetches the metadata of providers given by URL.
    pub async fn fetch_metadata(&mut self) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        for provider in &mut self.saml_providers {
            let Some(url) = &provider.metadata_url else { continue };
            let fetch = async {
                let response = client.get(url).send().await.map_err(|e| e.to_string())?;
                let status = response.status();
                if !status.is_success() {
                    return Err(format!("HTTP {status}"));
                }
                response.text().await.map_err(|e| e.to_string())
            };
            let xml = fetch
                .await
                .map_err(|e| format!("SAML provider {}: cannot fetch metadata from {url}: {e}", provider.name))?;
            provider.metadata_xml = Some(xml);
        }
        Ok(())
    }
}

fn params(pairs: &[(&str, &str)]) -> Params {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The trust policy of a role federated from `provider_arn` through this account's sign-in.
pub fn saml_trust_policy(provider_arn: &str, signin_urls: &[String]) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithSAML",
            "Condition": {"StringEquals": {"SAML:aud": signin_urls}}
        }]
    })
    .to_string()
}

/// The policy letting a role's sessions federate into `instance` as themselves.
pub fn connect_federation_policy(instance: &ConnectInstance, region: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ConnectFederation",
            "Effect": "Allow",
            "Action": "connect:GetFederationToken",
            "Resource": [format!("arn:aws:connect:{region}:{}:instance/{}/user/${{aws:userid}}", instance.account, instance.id)]
        }]
    })
    .to_string()
}

fn context(what: String) -> impl Fn(AwsError) -> AwsError {
    move |e| AwsError { message: format!("{what}: {}", e.message), ..e }
}

/// Brings the account in line with `config`. Returns a line per change, for the log.
pub async fn apply(app: &App, config: &CloudConfig, now: i64) -> Result<Vec<String>, AwsError> {
    let mut changes = Vec::new();
    let account = app.settings.account.clone();
    let resources = &app.resources;

    for p in &config.saml_providers {
        let xml = p.metadata_xml.as_deref().ok_or_else(|| {
            AwsError::validation(format!("SAML provider {}: give metadata_file or metadata_xml", p.name))
        })?;
        let arn = format!("arn:aws:iam::{account}:saml-provider/{}", p.name);
        let existing: Option<crate::state::Versioned<SamlProvider>> = resources.provider_by_arn(&arn).await?;
        let mut out = XmlOut::default();
        match existing {
            Some(e) if e.value.metadata_xml == xml => {}
            Some(_) => {
                iam_api::update_saml_provider(
                    resources,
                    &params(&[("SAMLProviderArn", &arn), ("SAMLMetadataDocument", xml)]),
                    now,
                    &mut out,
                )
                .await
                .map_err(context(format!("SAML provider {}", p.name)))?;
                changes.push(format!("updated SAML provider {} from new metadata", p.name));
            }
            None => {
                iam_api::create_saml_provider(
                    resources,
                    &account,
                    &params(&[("Name", &p.name), ("SAMLMetadataDocument", xml)]),
                    now,
                    &mut out,
                )
                .await
                .map_err(context(format!("SAML provider {}", p.name)))?;
                changes.push(format!("created SAML provider {}", p.name));
            }
        }
    }

    // Instances before roles: federation policies name the instance IDs.
    let mut instances: BTreeMap<String, ConnectInstance> = BTreeMap::new();
    for i in &config.connect_instances {
        let instance = match resources
            .find::<ConnectInstance>(kind::CONNECT_INSTANCE, &account, &i.alias.to_lowercase())
            .await?
        {
            Some(existing) if existing.value.identity_management_type != i.identity_management => {
                return Err(AwsError::validation(format!(
                    "Connect instance {} exists with identity management {}, the configuration says {}; identity management cannot be changed after creation: delete the instance (or its data) to recreate it",
                    i.alias, existing.value.identity_management_type, i.identity_management
                )));
            }
            Some(existing) => existing.value,
            None => {
                let body = json!({"IdentityManagementType": i.identity_management, "InstanceAlias": i.alias,
                    "InboundCallsEnabled": true, "OutboundCallsEnabled": true});
                let (_, created) = crate::connect_api::create_instance(app, body.to_string().as_bytes(), now)
                    .await
                    .map_err(context(format!("Connect instance {}", i.alias)))?;
                let id = created.get("Id").and_then(|v| v.as_str()).unwrap_or("").to_string();
                changes.push(format!("created Connect instance {} ({id})", i.alias));
                resources
                    .get::<ConnectInstance>(kind::CONNECT_INSTANCE, &id)
                    .await?
                    .map(|v| v.value)
                    .ok_or_else(|| AwsError::new("InternalFailure", 500, "instance vanished after creation"))?
            }
        };
        apply_users(app, &instance, &i.users, now, &mut changes).await?;
        instances.insert(i.alias.clone(), instance);
    }

    for r in &config.roles {
        let trust = match (&r.trust_policy, &r.trust_saml_provider) {
            (Some(policy), None) => policy.clone(),
            (None, Some(provider)) => saml_trust_policy(
                &format!("arn:aws:iam::{account}:saml-provider/{provider}"),
                &app.settings.signin_urls,
            ),
            _ => {
                return Err(AwsError::validation(format!(
                    "role {}: give exactly one of trust_policy or trust_saml_provider",
                    r.name
                )));
            }
        };
        let mut policies = r.inline_policies.clone();
        for alias in &r.connect_federation {
            let instance = instances.get(alias).ok_or_else(|| {
                AwsError::validation(format!(
                    "role {}: connect_federation names {alias:?}, which is not a configured Connect instance",
                    r.name
                ))
            })?;
            policies.insert(
                format!("connect-federation-{alias}"),
                connect_federation_policy(instance, &app.settings.region),
            );
        }
        let max = r.max_session_duration.to_string();
        let mut out = XmlOut::default();
        let existing: Option<crate::state::Versioned<Role>> =
            resources.find(kind::ROLE, &account, &r.name.to_lowercase()).await?;
        match existing {
            None => {
                iam_api::create_role(
                    resources,
                    &account,
                    &params(&[
                        ("RoleName", &r.name),
                        ("AssumeRolePolicyDocument", &trust),
                        ("MaxSessionDuration", &max),
                    ]),
                    now,
                    &mut out,
                )
                .await
                .map_err(context(format!("role {}", r.name)))?;
                changes.push(format!("created role {}", r.name));
            }
            Some(e) if e.value.assume_role_policy != trust => {
                iam_api::update_assume_role_policy(
                    resources,
                    &account,
                    &params(&[("RoleName", &r.name), ("PolicyDocument", &trust)]),
                    now,
                )
                .await
                .map_err(context(format!("role {}", r.name)))?;
                changes.push(format!("updated the trust policy of role {}", r.name));
            }
            Some(_) => {}
        }
        for (name, document) in &policies {
            let current: Option<crate::state::Versioned<Role>> =
                resources.find(kind::ROLE, &account, &r.name.to_lowercase()).await?;
            if current.as_ref().and_then(|c| c.value.inline_policies.get(name)) == Some(document) {
                continue;
            }
            iam_api::put_role_policy(
                resources,
                &account,
                &params(&[("RoleName", &r.name), ("PolicyName", name), ("PolicyDocument", document)]),
                now,
            )
            .await
            .map_err(context(format!("role {} policy {name}", r.name)))?;
            changes.push(format!("set policy {name} of role {}", r.name));
        }
    }
    Ok(changes)
}

async fn apply_users(
    app: &App,
    instance: &ConnectInstance,
    users: &[UserConfig],
    now: i64,
    changes: &mut Vec<String>,
) -> Result<(), AwsError> {
    let resources = &app.resources;
    let security: Vec<Profile> = resources.list(kind::SECURITY_PROFILE, &instance.id).await?;
    let routing: Vec<Profile> = resources.list(kind::ROUTING_PROFILE, &instance.id).await?;
    for u in users {
        let mut security_ids = Vec::new();
        for name in &u.security_profiles {
            let p = security.iter().find(|p| p.name == *name).ok_or_else(|| {
                AwsError::validation(format!(
                    "Connect user {}: no security profile {name:?} in instance {}",
                    u.username,
                    instance.instance_alias.clone().unwrap_or_default()
                ))
            })?;
            security_ids.push(p.id.clone());
        }
        let routing_id =
            routing.iter().find(|p| p.name == u.routing_profile).map(|p| p.id.clone()).ok_or_else(|| {
                AwsError::validation(format!("Connect user {}: no routing profile {:?}", u.username, u.routing_profile))
            })?;
        let existing: Option<crate::state::Versioned<ConnectUser>> =
            resources.find(kind::CONNECT_USER, &instance.id, &u.username.to_lowercase()).await?;
        if existing.is_some() {
            continue;
        }
        let body = json!({
            "Username": u.username, "PhoneConfig": {"PhoneType": "SOFT_PHONE"}, "SecurityProfileIds": security_ids,
            "RoutingProfileId": routing_id,
            "IdentityInfo": {"FirstName": u.first_name, "LastName": u.last_name, "Email": u.email},
        });
        crate::connect_api::create_user(app, &instance.id, body.to_string().as_bytes(), now)
            .await
            .map_err(context(format!("Connect user {}", u.username)))?;
        changes.push(format!("created Connect user {}", u.username));
    }
    Ok(())
}
