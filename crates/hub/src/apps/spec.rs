//! An application as an administrator describes it — a `[[applications]]` entry of the
//! configuration file or the JSON body of the admin API, both the same shape — and its
//! compilation, with every check, into the [`Application`] launches use.

use crossfed_saml::MetadataError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::apps::mapping::{AttributeMapping, Template, TemplateError};
use crate::apps::model::{
    AmazonConnect, Application, AwsAccount, AwsRole, CatalogError, Kind, RequestSigning, Signing,
};
use crate::metadata_source::{FetchError, fetch_metadata};

/// Why an application's settings were refused; each names the application and what to change.
#[derive(Debug, Error)]
pub enum SpecError {
    #[error("application id {0:?}: use 1 to 64 letters, digits, - and _")]
    BadId(String),
    #[error("application id {0:?} is used twice")]
    UsedTwice(String),
    #[error("{whose}: give it a name")]
    NoName { whose: String },
    #[error(
        "{whose}: secret_access_key_file and secret_access_key_env are read from the configuration file only; give secret_access_key"
    )]
    SecretElsewhere { whose: String },
    #[error("{whose}: give exactly one of amazon_connect, aws_account or custom")]
    NotOneTemplate { whose: String },
    #[error(
        "{whose}: provisioning needs access_key_id and secret_access_key of an identity allowed to manage Connect users"
    )]
    ProvisioningKeys { whose: String },
    #[error("{whose}: {source}")]
    Catalog { whose: String, source: CatalogError },
    #[error("{whose}: {what}{source}")]
    Mapping { whose: String, what: &'static str, source: TemplateError },
    #[error("{whose}: give acs_url and audience, or the SP's metadata, not both")]
    AcsAndMetadata { whose: String },
    #[error(
        "{whose}: give acs_url and audience, or the application's metadata (metadata_file, metadata_url or metadata_xml)"
    )]
    NoAcs { whose: String },
    #[error("{whose}: give one of metadata_file, metadata_url or metadata_xml")]
    MetadataTwice { whose: String },
    #[error("{whose} metadata: not UTF-8")]
    MetadataNotUtf8 { whose: String },
    #[error("{whose} metadata: {source}")]
    SpMetadata { whose: String, source: MetadataError },
    #[error("{whose} metadata: no AssertionConsumerService with the HTTP-POST binding")]
    NoPostAcs { whose: String },
    #[error("{whose} metadata: AuthnRequestsSigned is set but no signing certificate is given")]
    SignedWithoutCertificate { whose: String },
    #[error("{whose}: {field} {url:?}: give an http:// or https:// URL")]
    BadUrl { whose: String, field: &'static str, url: String },
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("application {id}: its stored definition does not read: {source}")]
    Unreadable { id: String, source: serde_json::Error },
    #[error("application {id}: encoding it: {source}")]
    Encoding { id: String, source: serde_json::Error },
    /// The JSON form of an application, as the admin API takes it, is not one.
    #[error("{0}")]
    Body(String),
}

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
    /// Sign for this application with a key of its own (`assertion:ID`), rotated on its own,
    /// rather than the hub's assertion key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub own_signing_key: bool,
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
    /// The configuration file only: a file or an environment variable holding the secret key,
    /// read into `secret_access_key` before the application is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key_file: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key_env: Option<String>,
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
pub fn check_id(id: &str) -> Result<(), SpecError> {
    let valid = (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid { Ok(()) } else { Err(SpecError::BadId(id.to_string())) }
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
    pub async fn with_metadata_read(&self, whose: &str) -> Result<ApplicationSpec, SpecError> {
        let mut filled = self.clone();
        if let Some(custom) = filled.custom.as_mut()
            && (custom.metadata_file.is_some() || custom.metadata_url.is_some())
        {
            if custom.metadata_xml.is_some() {
                return Err(SpecError::MetadataTwice { whose: whose.to_string() });
            }
            let xml = fetch_metadata(custom.metadata_file.as_deref(), custom.metadata_url.as_deref(), whose).await?;
            let xml = String::from_utf8(xml).map_err(|_| SpecError::MetadataNotUtf8 { whose: whose.to_string() })?;
            custom.metadata_xml = Some(xml);
            custom.metadata_file = None;
            custom.metadata_url = None;
        }
        Ok(filled)
    }

    /// The application this entry describes, checked; `id` names it in errors.
    pub fn compile(&self, id: &str) -> Result<Application, SpecError> {
        self.compile_kind(id).map(|app| Application { own_key: self.own_signing_key, ..app })
    }

    fn compile_kind(&self, id: &str) -> Result<Application, SpecError> {
        check_id(id)?;
        let whose = format!("application {id}");
        if self.name.trim().is_empty() {
            return Err(SpecError::NoName { whose });
        }
        let context = |source: CatalogError| SpecError::Catalog { whose: whose.clone(), source };
        match (&self.amazon_connect, &self.aws_account, &self.custom) {
            (Some(c), None, None) => {
                if let Some(p) = &c.provisioning {
                    // Reading the hub's files or environment is not the admin API's to ask for.
                    if p.secret_access_key_file.is_some() || p.secret_access_key_env.is_some() {
                        return Err(SpecError::SecretElsewhere { whose });
                    }
                    if p.access_key_id.is_empty() || p.secret_access_key.is_empty() {
                        return Err(SpecError::ProvisioningKeys { whose });
                    }
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
            _ => Err(SpecError::NotOneTemplate { whose }),
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
    fn compile(&self, name: &str, whose: &str) -> Result<Application, SpecError> {
        let mapping = |what: &'static str| {
            move |source: TemplateError| SpecError::Mapping { whose: whose.to_string(), what, source }
        };
        let attributes = self
            .attributes
            .iter()
            .map(|a| AttributeMapping::new(&a.name, &a.value).map(|m| AttributeMapping { optional: !a.required, ..m }))
            .collect::<Result<Vec<_>, _>>()
            .map_err(mapping(""))?;
        let name_id = Template::parse(&self.name_id).map_err(mapping("NameID: "))?;
        let (acs_url, audience, requests, logout_url) = match (&self.metadata_xml, &self.acs_url, &self.audience) {
            (Some(xml), None, None) => self.read_sp_metadata(xml, whose)?,
            (None, Some(acs_url), Some(audience)) => (
                acs_url.clone(),
                audience.clone(),
                RequestSigning { certificates: Vec::new(), required: self.require_signed_requests },
                None,
            ),
            (Some(_), _, _) => return Err(SpecError::AcsAndMetadata { whose: whose.to_string() }),
            _ => return Err(SpecError::NoAcs { whose: whose.to_string() }),
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
            own_key: false,
        })
    }

    /// ACS URL, audience, request signing and the logout endpoint from the SP's metadata.
    fn read_sp_metadata(
        &self,
        xml: &str,
        whose: &str,
    ) -> Result<(String, String, RequestSigning, Option<String>), SpecError> {
        let invalid = |source| SpecError::SpMetadata { whose: whose.to_string(), source };
        let sp = crossfed_saml::EntityDescriptor::parse(xml.as_bytes()).map_err(invalid)?;
        let descriptor = sp.require_sp().map_err(invalid)?;
        let acs = descriptor
            .default_acs(crossfed_saml::ns::BINDING_HTTP_POST)
            .ok_or_else(|| SpecError::NoPostAcs { whose: whose.to_string() })?;
        if descriptor.authn_requests_signed && descriptor.signing_certificates.is_empty() {
            return Err(SpecError::SignedWithoutCertificate { whose: whose.to_string() });
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
fn check_url(url: &str, whose: &str, field: &'static str) -> Result<(), SpecError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>');
    if ok { Ok(()) } else { Err(SpecError::BadUrl { whose: whose.to_string(), field, url: url.to_string() }) }
}

/// The id and definition of an application given as JSON (the admin API's body, or the
/// console's form made into it); `path_id` is the id the URL names, if any.
pub fn spec_from_json(mut value: Value, path_id: Option<&str>) -> Result<(String, ApplicationSpec), SpecError> {
    let Some(fields) = value.as_object_mut() else {
        return Err(SpecError::Body("the request body: give a JSON object".to_string()));
    };
    let id = match (fields.remove("id"), path_id) {
        (Some(Value::String(id)), None) => id,
        (None, None) | (Some(_), None) => {
            return Err(SpecError::Body("id: give the application's id, a string such as \"connect\"".to_string()));
        }
        (Some(Value::String(id)), Some(path)) if id != path => {
            return Err(SpecError::Body(format!("id {id:?} differs from the URL's {path:?}; IDs cannot change")));
        }
        (_, Some(path)) => path.to_string(),
    };
    let spec: ApplicationSpec =
        serde_json::from_value(value).map_err(|e| SpecError::Body(format!("the application: {e}")))?;
    if spec.custom.as_ref().is_some_and(|c| c.metadata_file.is_some() || c.metadata_url.is_some()) {
        return Err(SpecError::Body(
            "custom.metadata_file and custom.metadata_url are for the configuration file; send the document as custom.metadata_xml"
                .to_string(),
        ));
    }
    Ok((id, spec))
}
