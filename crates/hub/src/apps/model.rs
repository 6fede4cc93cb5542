//! Applications the hub signs users into, and the catalog that fills them in: Amazon Connect, AWS
//! account console access, and custom SAML 2.0 service providers.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::apps::mapping::{AttributeMapping, MappingError, Template, UserValues};
use crossfed_saml::{Attribute, NameId, ns};
use crossfed_xmldsig::Certificate;

pub const AWS_SIGNIN_URL: &str = "https://signin.aws.amazon.com/saml";
pub const AWS_AUDIENCE: &str = "urn:amazon:webservices";
pub const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
pub const ROLE_SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
pub const SESSION_DURATION_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SessionDuration";

/// Which catalog entry an application came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    AmazonConnect,
    AwsAccount,
    CustomSaml,
}

/// Which parts of the Response are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signing {
    Assertion,
    Response,
    Both,
}

/// A SAML service provider the hub signs users into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub kind: Kind,
    pub name: String,
    /// Where the Response is posted (the SP's ACS; for AWS, the sign-in URL).
    pub acs_url: String,
    pub audience: String,
    pub name_id_format: String,
    pub name_id: Template,
    pub attributes: Vec<AttributeMapping>,
    /// RelayState sent with IdP-initiated launches (the application start URL).
    pub relay_state: Option<String>,
    pub signing: Signing,
    /// How long the assertion may be presented.
    pub assertion_lifetime_seconds: i64,
    /// How this SP's AuthnRequests are checked.
    #[serde(default)]
    pub requests: RequestSigning,
    /// The SP's SingleLogoutService (HTTP-Redirect), from its metadata: where the hub answers
    /// the SP's LogoutRequests.
    #[serde(default)]
    pub logout_url: Option<String>,
    /// Signed with a key of its own (`assertion:ID`) rather than the hub's assertion key.
    #[serde(default)]
    pub own_key: bool,
}

/// The SP's request-signing certificates (from its metadata), and whether every request must be
/// signed. A signed request is verified whenever certificates are known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSigning {
    #[serde(with = "base64_certificates")]
    pub certificates: Vec<Certificate>,
    pub required: bool,
}

/// Certificates as base64 DER strings, as metadata carries them.
mod base64_certificates {
    use crossfed_xmldsig::Certificate;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(certificates: &[Certificate], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(certificates.iter().map(Certificate::to_base64))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Certificate>, D::Error> {
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|text| Certificate::from_base64(text).map_err(D::Error::custom))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatalogError {
    #[error("{field} {value:?} is invalid: {expected}")]
    Invalid { field: &'static str, value: String, expected: &'static str },
}

fn invalid(field: &'static str, value: &str, expected: &'static str) -> CatalogError {
    CatalogError::Invalid { field, value: value.to_string(), expected }
}

fn check_account(account: &str) -> Result<(), CatalogError> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid("account ID", account, "12 digits"))
    }
}

fn check_region(region: &str) -> Result<(), CatalogError> {
    let parts: Vec<&str> = region.split('-').collect();
    let valid = parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if valid { Ok(()) } else { Err(invalid("region", region, "a region code such as us-east-1")) }
}

fn check_iam_name(field: &'static str, name: &str) -> Result<(), CatalogError> {
    let valid =
        (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if valid { Ok(()) } else { Err(invalid(field, name, "1 to 64 letters, digits and _+=,.@-")) }
}

fn check_instance_id(id: &str) -> Result<(), CatalogError> {
    let groups: Vec<&str> = id.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let valid = lengths == [8, 4, 4, 4, 12] && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    if valid {
        Ok(())
    } else {
        Err(invalid("Connect instance ID", id, "the instance's UUID, e.g. 11111111-2222-3333-4444-555555555555"))
    }
}

/// One IAM role of an AWS application, and the SAML provider it trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsRole {
    pub role_name: String,
    pub provider_name: String,
}

fn role_value(account: &str, role: &AwsRole) -> Result<String, CatalogError> {
    check_iam_name("role name", &role.role_name)?;
    check_iam_name("SAML provider name", &role.provider_name)?;
    // Role first, as AWS documents; AWS accepts either order.
    Ok(format!(
        "arn:aws:iam::{account}:role/{},arn:aws:iam::{account}:saml-provider/{}",
        role.role_name, role.provider_name
    ))
}

fn aws_attributes(
    account: &str,
    roles: &[AwsRole],
    session_duration: i64,
) -> Result<Vec<AttributeMapping>, CatalogError> {
    if !(900..=43_200).contains(&session_duration) {
        return Err(invalid("session duration", &session_duration.to_string(), "900 to 43200 seconds"));
    }
    if roles.is_empty() {
        return Err(invalid("roles", "", "at least one role"));
    }
    let uri = Some(ns::ATTRNAME_URI.to_string());
    let mut role_values = Vec::new();
    for role in roles {
        role_values.push(role_value(account, role)?);
    }
    Ok(vec![
        // The role values, one per line: several make AWS show its role picker.
        AttributeMapping {
            name: ROLE_ATTRIBUTE.to_string(),
            name_format: uri.clone(),
            template: Template::literal(&role_values.join("\n")),
            optional: false,
        },
        // Must equal the Connect username: the user's e-mail, as in the reference setup.
        AttributeMapping {
            name: ROLE_SESSION_NAME_ATTRIBUTE.to_string(),
            name_format: uri.clone(),
            template: email_template(),
            optional: false,
        },
        AttributeMapping {
            name: SESSION_DURATION_ATTRIBUTE.to_string(),
            name_format: uri,
            template: Template::literal(&session_duration.to_string()),
            optional: false,
        },
    ])
}

fn email_template() -> Template {
    // A constant, valid template: parsing cannot fail; fall back to the literal just in case.
    Template::parse("${user:email}").unwrap_or_else(|_| Template::literal(""))
}

/// What the Amazon Connect entry of the catalog asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonConnect {
    pub account_id: String,
    pub region: String,
    pub instance_id: String,
    pub role: AwsRole,
    /// AWS sign-in URL (the emulated account's `/saml` in the demo).
    pub signin_url: Option<String>,
    /// Console base URL for the relay state; the AWS console of the region by default.
    pub console_url: Option<String>,
    /// Connect page to land on, e.g. `/agent-app-v2` or `/ccp-v2/chat`.
    pub destination: Option<String>,
    pub session_duration: i64,
}

/// The relay state that sends a signed-in AWS session into a Connect instance.
pub fn connect_relay_state(
    region: &str,
    instance_id: &str,
    console_url: Option<&str>,
    destination: Option<&str>,
) -> String {
    let base = match console_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None if region.starts_with("us-gov-") => "https://console.amazonaws-us-gov.com".to_string(),
        None => format!("https://{region}.console.aws.amazon.com"),
    };
    let mut relay = format!("{base}/connect/federate/{instance_id}");
    if let Some(d) = destination {
        relay.push_str("?destination=");
        relay.push_str(&percent_encode(d));
    }
    relay
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl AmazonConnect {
    pub fn application(&self, name: &str) -> Result<Application, CatalogError> {
        check_account(&self.account_id)?;
        check_region(&self.region)?;
        check_instance_id(&self.instance_id)?;
        if let Some(d) = &self.destination
            && !d.starts_with('/')
        {
            return Err(invalid("destination", d, "a path inside the instance, such as /agent-app-v2"));
        }
        let relay = connect_relay_state(
            &self.region,
            &self.instance_id,
            self.console_url.as_deref(),
            self.destination.as_deref(),
        );
        Ok(Application {
            kind: Kind::AmazonConnect,
            name: name.to_string(),
            acs_url: self.signin_url.clone().unwrap_or_else(|| AWS_SIGNIN_URL.to_string()),
            audience: AWS_AUDIENCE.to_string(),
            name_id_format: ns::NAMEID_EMAIL.to_string(),
            name_id: email_template(),
            attributes: aws_attributes(&self.account_id, std::slice::from_ref(&self.role), self.session_duration)?,
            relay_state: Some(relay),
            signing: Signing::Assertion,
            assertion_lifetime_seconds: 300,
            requests: RequestSigning::default(),
            logout_url: None,
            own_key: false,
        })
    }
}

/// What the AWS account entry asks for: console access with one or several roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsAccount {
    pub account_id: String,
    pub roles: Vec<AwsRole>,
    pub signin_url: Option<String>,
    pub relay_state: Option<String>,
    pub session_duration: i64,
}

impl AwsAccount {
    pub fn application(&self, name: &str) -> Result<Application, CatalogError> {
        check_account(&self.account_id)?;
        Ok(Application {
            kind: Kind::AwsAccount,
            name: name.to_string(),
            acs_url: self.signin_url.clone().unwrap_or_else(|| AWS_SIGNIN_URL.to_string()),
            audience: AWS_AUDIENCE.to_string(),
            name_id_format: ns::NAMEID_PERSISTENT.to_string(),
            name_id: Template::parse("${user:subject}").unwrap_or_else(|_| Template::literal("")),
            attributes: aws_attributes(&self.account_id, &self.roles, self.session_duration)?,
            relay_state: self.relay_state.clone(),
            signing: Signing::Assertion,
            assertion_lifetime_seconds: 300,
            requests: RequestSigning::default(),
            logout_url: None,
            own_key: false,
        })
    }
}

impl Application {
    /// Whether any mapping reads the user's groups (else a launch need not load them).
    pub fn uses_groups(&self) -> bool {
        self.name_id.uses_groups() || self.attributes.iter().any(|a| a.template.uses_groups())
    }

    /// The NameID and attributes this application receives for `user`. A literal mapping whose
    /// text has several lines gives one value per line (the AWS Role attribute with several roles).
    pub fn assertion_contents(&self, user: &UserValues) -> Result<(NameId, Vec<Attribute>), MappingError> {
        let name_id = self.name_id.evaluate(user, "Subject")?.into_iter().next().unwrap_or_default();
        let mut attributes = Vec::new();
        for mapping in &self.attributes {
            let evaluated = match mapping.template.evaluate(user, &mapping.name) {
                Err(MappingError::MissingValue { .. }) if mapping.optional => continue,
                other => other?,
            };
            let values: Vec<String> =
                evaluated.into_iter().flat_map(|v| v.lines().map(str::to_string).collect::<Vec<_>>()).collect();
            attributes.push(Attribute {
                name: mapping.name.clone(),
                name_format: mapping.name_format.clone(),
                friendly_name: None,
                values,
            });
        }
        Ok((NameId { value: name_id, format: Some(self.name_id_format.clone()), ..NameId::default() }, attributes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTANCE: &str = "11111111-2222-3333-4444-555555555555";

    #[test]
    fn request_certificates_survive_a_json_round_trip_and_bad_ones_are_refused() {
        let key = crossfed_xmldsig::SigningKey::generate_rsa("sp", crossfed_clock::Clock::system().now(), 1).unwrap();
        let signing = RequestSigning { certificates: vec![key.certificate().clone()], required: true };
        let json = serde_json::to_string(&signing).unwrap();
        assert!(json.contains(&key.certificate().to_base64()), "{json}");
        assert_eq!(serde_json::from_str::<RequestSigning>(&json).unwrap(), signing);
        assert!(
            serde_json::from_str::<RequestSigning>(r#"{"certificates":["bm90IGEgY2VydA=="],"required":false}"#)
                .is_err()
        );
    }

    fn connect() -> AmazonConnect {
        AmazonConnect {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            instance_id: INSTANCE.into(),
            role: AwsRole { role_name: "ConnectAgent".into(), provider_name: "Hub".into() },
            signin_url: None,
            console_url: None,
            destination: None,
            session_duration: 43200,
        }
    }

    fn alice() -> UserValues {
        UserValues {
            subject: "s1".into(),
            user_name: "alice".into(),
            email: Some("alice@example.com".into()),
            ..UserValues::default()
        }
    }

    #[test]
    fn amazon_connect_application_as_aws_expects_it() {
        let app = connect().application("Amazon Connect").unwrap();
        assert_eq!(app.acs_url, "https://signin.aws.amazon.com/saml");
        assert_eq!(app.audience, "urn:amazon:webservices");
        assert_eq!(
            app.relay_state.as_deref(),
            Some("https://us-east-1.console.aws.amazon.com/connect/federate/11111111-2222-3333-4444-555555555555")
        );
        let (name_id, attributes) = app.assertion_contents(&alice()).unwrap();
        assert_eq!(name_id.value, "alice@example.com");
        assert_eq!(name_id.format.as_deref(), Some(ns::NAMEID_EMAIL));
        let value = |name: &str| attributes.iter().find(|a| a.name == name).unwrap().values.clone();
        assert_eq!(
            value(ROLE_ATTRIBUTE),
            ["arn:aws:iam::123456789012:role/ConnectAgent,arn:aws:iam::123456789012:saml-provider/Hub"]
        );
        assert_eq!(value(ROLE_SESSION_NAME_ATTRIBUTE), ["alice@example.com"]);
        assert_eq!(value(SESSION_DURATION_ATTRIBUTE), ["43200"]);
    }

    #[test]
    fn relay_states_for_regions_destinations_and_the_emulated_console() {
        assert_eq!(
            connect_relay_state("us-gov-west-1", INSTANCE, None, Some("/ccp-v2/chat")),
            format!("https://console.amazonaws-us-gov.com/connect/federate/{INSTANCE}?destination=%2Fccp-v2%2Fchat")
        );
        assert_eq!(
            connect_relay_state("eu-west-2", INSTANCE, Some("http://127.0.0.1:8443/"), None),
            format!("http://127.0.0.1:8443/connect/federate/{INSTANCE}")
        );
    }

    #[test]
    fn a_user_without_email_cannot_get_a_session_name() {
        let app = connect().application("Connect").unwrap();
        let mut user = alice();
        user.email = None;
        let e = app.assertion_contents(&user).unwrap_err();
        assert!(e.to_string().contains("has no value for ${user:email}"), "{e}");
    }

    #[test]
    fn optional_mappings_are_left_out_when_the_user_lacks_the_value() {
        let mut app = connect().application("Connect").unwrap();
        let mut given = AttributeMapping::new("givenName", "${user:givenName}").unwrap();
        given.optional = true;
        app.attributes.push(given);
        let (_, attributes) = app.assertion_contents(&alice()).unwrap();
        assert!(!attributes.iter().any(|a| a.name == "givenName"));
        let mut user = alice();
        user.given_name = Some("Alice".into());
        let (_, attributes) = app.assertion_contents(&user).unwrap();
        assert_eq!(attributes.iter().find(|a| a.name == "givenName").unwrap().values, ["Alice"]);
    }

    #[test]
    fn several_roles_give_several_values() {
        let app = AwsAccount {
            account_id: "123456789012".into(),
            roles: vec![
                AwsRole { role_name: "ReadOnly".into(), provider_name: "Hub".into() },
                AwsRole { role_name: "Admin".into(), provider_name: "Hub".into() },
            ],
            signin_url: None,
            relay_state: None,
            session_duration: 3600,
        }
        .application("AWS")
        .unwrap();
        let (name_id, attributes) = app.assertion_contents(&alice()).unwrap();
        assert_eq!(name_id.value, "s1");
        assert_eq!(attributes.iter().find(|a| a.name == ROLE_ATTRIBUTE).unwrap().values.len(), 2);
    }

    #[test]
    fn bad_catalog_fields_say_what_is_expected() {
        let mut c = connect();
        c.account_id = "1234".into();
        assert_eq!(c.application("x").unwrap_err().to_string(), "account ID \"1234\" is invalid: 12 digits");
        let mut c = connect();
        c.instance_id = "not-a-uuid".into();
        assert!(c.application("x").unwrap_err().to_string().contains("instance's UUID"));
        let mut c = connect();
        c.region = "mars".into();
        assert!(c.application("x").is_err());
        let mut c = connect();
        c.session_duration = 60;
        assert!(c.application("x").unwrap_err().to_string().contains("900 to 43200"));
        let mut c = connect();
        c.destination = Some("agent-app-v2".into());
        assert!(c.application("x").is_err());
        let mut c = connect();
        c.role.role_name = "bad role".into();
        assert!(c.application("x").is_err());
    }
}
