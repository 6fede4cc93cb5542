//! An application as an administrator describes it — a `[[applications]]` entry of the
//! configuration file or the JSON body of the admin API, both the same shape — and its
//! compilation, with every check, into the [`Application`] launches use.

use serde::{Deserialize, Serialize};

use crate::catalog::{AmazonConnect, Application, AwsAccount, AwsRole, CatalogError, Kind, RequestSigning, Signing};
use crate::mapping::{AttributeMapping, Template};

/// One application's settings: a name and exactly one catalog template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amazon_connect: Option<ConnectEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_account: Option<AwsAccountEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectEntry {
    pub account_id: String,
    pub region: String,
    pub instance_id: String,
    pub role_name: String,
    pub provider_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signin_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[serde(default = "default_session_duration")]
    pub session_duration: i64,
    /// When given, assigned users get their Connect user created, updated and removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<ConnectProvisioningEntry>,
}

/// Creating the application's users in Amazon Connect through its API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectProvisioningEntry {
    /// The Connect API endpoint (default: the region's AWS endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    pub access_key_id: String,
    /// Never shown by the admin API; an update that leaves it empty keeps the stored one.
    #[serde(default)]
    pub secret_access_key: String,
    #[serde(default = "default_security_profiles")]
    pub security_profiles: Vec<String>,
    #[serde(default = "default_routing_profile")]
    pub routing_profile: String,
}

/// Console access to an AWS account with one or several roles (AWS shows its role picker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsAccountEntry {
    pub account_id: String,
    pub roles: Vec<AwsRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signin_url: Option<String>,
    /// Where the console opens (default: its home page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_state: Option<String>,
    #[serde(default = "default_session_duration")]
    pub session_duration: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomEntry {
    /// Where assertions are posted; with `audience`, or both read from the SP's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acs_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The application's SP metadata: its entity ID becomes the audience, its default HTTP-POST
    /// assertion consumer service the ACS URL, its signing certificates check its requests.
    /// Files and URLs are read when the entry is saved; the document itself is what is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_file: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_xml: Option<String>,
    /// Refuse unsigned AuthnRequests (also implied by `AuthnRequestsSigned` in the metadata).
    #[serde(default)]
    pub require_signed_requests: bool,
    #[serde(default = "default_name_id_format")]
    pub name_id_format: String,
    #[serde(default = "default_name_id")]
    pub name_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_state: Option<String>,
    #[serde(default)]
    pub attributes: Vec<AttributeEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeEntry {
    pub name: String,
    pub value: String,
    /// Refuse the login when the user lacks the value (by default the attribute is left out).
    #[serde(default)]
    pub required: bool,
}

fn default_session_duration() -> i64 {
    43_200
}

fn default_security_profiles() -> Vec<String> {
    vec!["Agent".to_string()]
}

fn default_routing_profile() -> String {
    "Basic Routing Profile".to_string()
}

fn default_name_id_format() -> String {
    crossfed_saml::ns::NAMEID_EMAIL.to_string()
}

fn default_name_id() -> String {
    "${user:email}".to_string()
}

/// Application IDs appear in URLs (`/saml/apps/ID/metadata`).
pub fn check_id(id: &str) -> Result<(), String> {
    let valid = (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid { Ok(()) } else { Err(format!("application id {id:?}: use 1 to 64 letters, digits, - and _")) }
}

impl ApplicationSpec {
    /// The catalog template the entry uses, as stored and shown (`amazon-connect`, …).
    pub fn template(&self) -> &'static str {
        match (&self.amazon_connect, &self.aws_account) {
            (Some(_), _) => "amazon-connect",
            (None, Some(_)) => "aws-account",
            (None, None) => "custom-saml",
        }
    }

    /// The same entry with metadata files and URLs read into `metadata_xml`, so what is stored
    /// is complete by itself.
    pub async fn with_metadata_read(&self, whose: &str) -> Result<ApplicationSpec, String> {
        let mut filled = self.clone();
        if let Some(custom) = filled.custom.as_mut()
            && (custom.metadata_file.is_some() || custom.metadata_url.is_some())
        {
            if custom.metadata_xml.is_some() {
                return Err(format!("{whose}: give one of metadata_file, metadata_url or metadata_xml"));
            }
            let xml = crate::bootstrap::fetch_metadata(
                custom.metadata_file.as_deref(),
                custom.metadata_url.as_deref(),
                whose,
            )
            .await?;
            custom.metadata_xml = Some(String::from_utf8(xml).map_err(|_| format!("{whose} metadata: not UTF-8"))?);
            custom.metadata_file = None;
            custom.metadata_url = None;
        }
        Ok(filled)
    }

    /// The application this entry describes, checked; `id` names it in errors.
    pub fn compile(&self, id: &str) -> Result<Application, String> {
        check_id(id)?;
        let whose = format!("application {id}");
        if self.name.trim().is_empty() {
            return Err(format!("{whose}: give it a name"));
        }
        let context = |e: CatalogError| format!("{whose}: {e}");
        match (&self.amazon_connect, &self.aws_account, &self.custom) {
            (Some(c), None, None) => {
                if let Some(p) = &c.provisioning
                    && (p.access_key_id.is_empty() || p.secret_access_key.is_empty())
                {
                    return Err(format!(
                        "{whose}: provisioning needs access_key_id and secret_access_key of an identity allowed to manage Connect users"
                    ));
                }
                AmazonConnect {
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
                .map_err(context)
            }
            (None, Some(a), None) => AwsAccount {
                account_id: a.account_id.clone(),
                roles: a.roles.clone(),
                signin_url: a.signin_url.clone(),
                relay_state: a.relay_state.clone(),
                session_duration: a.session_duration,
            }
            .application(&self.name)
            .map_err(context),
            (None, None, Some(c)) => c.compile(&self.name, &whose),
            _ => Err(format!("{whose}: give exactly one of amazon_connect, aws_account or custom")),
        }
    }

    /// The entry as the admin API shows it: secrets left out.
    pub fn redacted(&self) -> ApplicationSpec {
        let mut shown = self.clone();
        if let Some(p) = shown.amazon_connect.as_mut().and_then(|c| c.provisioning.as_mut()) {
            p.secret_access_key = String::new();
        }
        shown
    }

    /// Keeps `previous`'s secret when this update left it empty (the API never shows it).
    pub fn keep_secrets_of(&mut self, previous: &ApplicationSpec) {
        let old = previous.amazon_connect.as_ref().and_then(|c| c.provisioning.as_ref());
        if let (Some(new), Some(old)) = (self.amazon_connect.as_mut().and_then(|c| c.provisioning.as_mut()), old)
            && new.secret_access_key.is_empty()
        {
            new.secret_access_key = old.secret_access_key.clone();
        }
    }
}

impl CustomEntry {
    fn compile(&self, name: &str, whose: &str) -> Result<Application, String> {
        let attributes = self
            .attributes
            .iter()
            .map(|a| AttributeMapping::new(&a.name, &a.value).map(|m| AttributeMapping { optional: !a.required, ..m }))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{whose}: {e}"))?;
        let name_id = Template::parse(&self.name_id).map_err(|e| format!("{whose}: NameID: {e}"))?;
        let (acs_url, audience, requests, logout_url) = match (&self.metadata_xml, &self.acs_url, &self.audience) {
            (Some(xml), None, None) => self.read_sp_metadata(xml, whose)?,
            (None, Some(acs_url), Some(audience)) => (
                acs_url.clone(),
                audience.clone(),
                RequestSigning { certificates: Vec::new(), required: self.require_signed_requests },
                None,
            ),
            (Some(_), _, _) => {
                return Err(format!("{whose}: give acs_url and audience, or the SP's metadata, not both"));
            }
            _ => {
                return Err(format!(
                    "{whose}: give acs_url and audience, or the application's metadata (metadata_file, metadata_url or metadata_xml)"
                ));
            }
        };
        check_url(&acs_url, whose, "acs_url")?;
        Ok(Application {
            kind: Kind::CustomSaml,
            name: name.to_string(),
            acs_url,
            audience,
            name_id_format: self.name_id_format.clone(),
            name_id,
            attributes,
            relay_state: self.relay_state.clone(),
            signing: Signing::Assertion,
            assertion_lifetime_seconds: 300,
            requests,
            logout_url,
        })
    }

    /// ACS URL, audience, request signing and the logout endpoint from the SP's metadata.
    fn read_sp_metadata(
        &self,
        xml: &str,
        whose: &str,
    ) -> Result<(String, String, RequestSigning, Option<String>), String> {
        let sp =
            crossfed_saml::EntityDescriptor::parse(xml.as_bytes()).map_err(|e| format!("{whose} metadata: {e}"))?;
        let descriptor = sp.require_sp().map_err(|e| format!("{whose} metadata: {e}"))?;
        let acs = descriptor
            .default_acs(crossfed_saml::ns::BINDING_HTTP_POST)
            .ok_or_else(|| format!("{whose} metadata: no AssertionConsumerService with the HTTP-POST binding"))?;
        if descriptor.authn_requests_signed && descriptor.signing_certificates.is_empty() {
            return Err(format!("{whose} metadata: AuthnRequestsSigned is set but no signing certificate is given"));
        }
        let logout_url = descriptor
            .slo_service(crossfed_saml::ns::BINDING_HTTP_REDIRECT)
            .map(|e| e.response_location.clone().unwrap_or_else(|| e.location.clone()));
        Ok((
            acs.location.clone(),
            sp.entity_id.clone(),
            RequestSigning {
                certificates: descriptor.signing_certificates.clone(),
                required: self.require_signed_requests || descriptor.authn_requests_signed,
            },
            logout_url,
        ))
    }
}

/// Responses are posted by the browser to this URL: only http(s), and nothing a form could abuse.
fn check_url(url: &str, whose: &str, field: &str) -> Result<(), String> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>');
    if ok { Ok(()) } else { Err(format!("{whose}: {field} {url:?}: give an http:// or https:// URL")) }
}
