//! STS AssumeRoleWithSAML, as AWS performs it: validate the assertion against the provider's
//! certificates, find the requested role among the assertion's Role values, check the session
//! name and duration, evaluate the role's trust policy with the SAML context keys, and issue
//! temporary credentials.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crossfed_iam::{Policy, RequestContext, RequestPrincipal, evaluate_trust};
use crossfed_saml::{
    Accepted, DeferredReplayCheck, SpPolicy, SurroundingWhitespace, Timestamp, ValidationError, validate_response,
};
use crossfed_store::{ObjectKey, ReplayStore};
use crossfed_xmldsig::Certificate;

use crate::error::AwsError;
use crate::ids;
use crate::model::{Credentials, Principal, Role, SamlProvider, kind};
use crate::state::{Resources, Settings};

pub const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
pub const ROLE_SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
pub const SESSION_DURATION_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SessionDuration";
/// The audience AWS sign-in accepts besides its URL.
pub const AWS_AUDIENCE: &str = "urn:amazon:webservices";

/// The validated assertion, before any role is chosen: what the sign-in page needs to show
/// the role picker.
#[derive(Debug, Clone)]
pub struct ValidatedAssertion {
    pub accepted: Accepted,
    pub provider: SamlProvider,
    /// (role ARN, provider ARN) pairs from the Role attribute.
    pub roles: Vec<(String, String)>,
}

/// A successful AssumeRoleWithSAML.
#[derive(Debug, Clone)]
pub struct AssumedRole {
    pub credentials: Credentials,
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
    pub issuer: String,
    pub audience: String,
    pub subject: String,
    pub subject_type: String,
    pub name_qualifier: String,
    pub expiration: i64,
}

fn map_validation(e: ValidationError) -> AwsError {
    match e {
        ValidationError::Expired { .. }
        | ValidationError::ConfirmationExpired { .. }
        | ValidationError::SessionExpired(_) => {
            AwsError::new("ExpiredTokenException", 400, format!("The SAML assertion has expired: {e}"))
        }
        ValidationError::Status { .. } => {
            AwsError::new("IDPRejectedClaim", 403, format!("The identity provider reported a failure: {e}"))
        }
        ValidationError::ReplayCache(_) => AwsError::new("ServiceUnavailable", 503, e.to_string()),
        _ => AwsError::invalid_identity_token(format!("The SAML assertion is not valid: {e}")),
    }
}

/// The assertion's Role values as (role ARN, provider ARN); AWS accepts either order.
pub fn role_pairs(accepted: &Accepted) -> Result<Vec<(String, String)>, AwsError> {
    let values = accepted.attribute(ROLE_ATTRIBUTE).unwrap_or(&[]);
    if values.is_empty() {
        return Err(AwsError::invalid_identity_token(format!(
            "Your request included an invalid SAML response: it has no {ROLE_ATTRIBUTE} attribute; \
             map it to \"ROLE_ARN,PROVIDER_ARN\" in the identity provider"
        )));
    }
    let mut pairs = Vec::new();
    for value in values {
        // The ARNs name who is signed in as what: taken exactly as the IdP signed them.
        let parts: Vec<&str> = value
            .split(',')
            .map(|part| SurroundingWhitespace::check("Role attribute ARN", part))
            .collect::<Result<_, _>>()
            .map_err(|e| AwsError::invalid_identity_token(format!("Role attribute value {value:?}: {e}")))?;
        let pair = match parts.as_slice() {
            [a, b] if a.contains(":role/") && b.contains(":saml-provider/") => (a.to_string(), b.to_string()),
            [a, b] if b.contains(":role/") && a.contains(":saml-provider/") => (b.to_string(), a.to_string()),
            _ => {
                return Err(AwsError::invalid_identity_token(format!(
                    "Role attribute value {value:?} must be \"ROLE_ARN,PROVIDER_ARN\""
                )));
            }
        };
        pairs.push(pair);
    }
    Ok(pairs)
}

/// RoleSessionName: 2 to 64 characters of `[\w+=,.@-]`.
pub fn check_session_name(name: &str) -> Result<(), AwsError> {
    let valid_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !(2..=64).contains(&name.len()) || !valid_chars {
        return Err(AwsError::invalid_identity_token(format!(
            "RoleSessionName {name:?} is invalid: it must be 2 to 64 characters of letters, digits and _+=,.@-"
        )));
    }
    Ok(())
}

/// `SAML:namequalifier` as AWS documents it: base64(SHA-1(Issuer + account + "/" + provider name)).
pub fn name_qualifier(issuer: &str, account: &str, provider_name: &str) -> String {
    let input = format!("{issuer}{account}/{provider_name}");
    STANDARD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, input.as_bytes()))
}

/// `SAML:sub_type`: `persistent`, `transient`, or the full format URI.
fn subject_type(format: Option<&str>) -> String {
    match format {
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent") => "persistent".to_string(),
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:transient") => "transient".to_string(),
        Some(other) => other.to_string(),
        None => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".to_string(),
    }
}

/// Attribute names AWS exposes as `SAML:` context keys besides the computed ones.
const ATTRIBUTE_KEYS: [(&str, &str); 8] = [
    ("urn:oid:2.5.4.3", "saml:cn"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.1", "saml:edupersonaffiliation"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "saml:edupersonprincipalname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.7", "saml:edupersonentitlement"),
    ("urn:oid:2.5.4.42", "saml:givenName"),
    ("urn:oid:2.5.4.4", "saml:sn"),
    ("urn:oid:0.9.2342.19200300.100.1.1", "saml:uid"),
    ("urn:oid:0.9.2342.19200300.100.1.3", "saml:mail"),
];

/// The SAML context keys of an accepted assertion presented to `provider`.
pub fn saml_keys(accepted: &Accepted, provider: &SamlProvider) -> BTreeMap<String, String> {
    let mut keys = BTreeMap::new();
    // SAML:aud is the endpoint the assertion was presented to: the Recipient, not the Audience.
    keys.insert("saml:aud".to_string(), accepted.recipient.clone());
    keys.insert("saml:iss".to_string(), accepted.issuer.clone());
    keys.insert("saml:sub".to_string(), accepted.name_id.value.clone());
    keys.insert("saml:sub_type".to_string(), subject_type(accepted.name_id.format.as_deref()));
    keys.insert("saml:doc".to_string(), format!("{}/{}", provider.account, provider.name));
    keys.insert("saml:namequalifier".to_string(), name_qualifier(&accepted.issuer, &provider.account, &provider.name));
    for (attribute, key) in ATTRIBUTE_KEYS {
        if let Some(value) = accepted.attribute(attribute).and_then(|v| v.first()) {
            keys.insert(key.to_string(), value.clone());
        }
    }
    keys
}

/// Decodes and validates a base64 SAML Response posted to this account (sign-in or STS),
/// against the provider named in the assertion's Role values or `provider_arn`.
pub async fn validate(
    resources: &Resources,
    settings: &Settings,
    saml_response_b64: &str,
    provider_arn: Option<&str>,
    now: i64,
) -> Result<ValidatedAssertion, AwsError> {
    let xml = crossfed_saml::decode_post(saml_response_b64)
        .map_err(|e| AwsError::invalid_identity_token(format!("The SAMLResponse value cannot be decoded: {e}")))?;

    // Which provider? The caller's PrincipalArn, or the first Role value's (sign-in endpoint).
    // The assertion is read unverified only to find the provider; it is then fully validated.
    let provider_arn = match provider_arn {
        Some(arn) => arn.to_string(),
        None => provider_from_unverified(&xml)?,
    };
    let provider = resources
        .provider_by_arn(&provider_arn)
        .await?
        .ok_or_else(|| {
            AwsError::invalid_identity_token(format!("No SAML provider {provider_arn} exists in this account"))
        })?
        .value;
    let certificates: Vec<Certificate> = provider
        .signing_certificates
        .iter()
        .map(|c| Certificate::from_base64(c))
        .collect::<Result<_, _>>()
        .map_err(|e| AwsError::new("InternalFailure", 500, format!("provider certificate unreadable: {e}")))?;

    let audiences = vec![AWS_AUDIENCE.to_string()];
    let extra_urls: Vec<String> = settings.signin_urls.iter().skip(1).cloned().collect();
    let primary = settings.signin_urls.first().cloned().unwrap_or_default();
    let mut policy = SpPolicy::new(&primary, &primary, &provider.entity_id, &certificates);
    policy.extra_audiences = &audiences;
    policy.extra_acs_urls = &extra_urls;
    policy.ignore_in_response_to = true;
    policy.allow_unsolicited = true;
    let replay = DeferredReplayCheck::default();
    let instant =
        Timestamp::from_unix(now).ok_or_else(|| AwsError::new("InternalFailure", 500, "clock out of range"))?;
    let accepted = validate_response(&xml, &policy, None, instant, &replay).map_err(map_validation)?;
    // Recorded in the store, shared by every listener on it, and only once all else passed.
    if let Some((id, expires)) = replay.take() {
        // Keyed by issuer, not provider: one IdP registered twice cannot redeem an assertion twice.
        let fresh = resources.store.record_once(&format!("{}:{id}", provider.entity_id), expires.unix(), now).await?;
        if !fresh {
            return Err(AwsError::invalid_identity_token(format!(
                "The SAML assertion {id} was already used; sign in again at the identity provider"
            )));
        }
    }
    // Only the roles reached through the provider that verified the assertion are on offer.
    let roles: Vec<(String, String)> = role_pairs(&accepted)?.into_iter().filter(|(_, p)| *p == provider.arn).collect();
    if roles.is_empty() {
        return Err(AwsError::access_denied(format!(
            "Not authorized to perform sts:AssumeRoleWithSAML: the assertion's Role values name no role through {}, the provider that issued it",
            provider.arn
        )));
    }
    Ok(ValidatedAssertion { accepted, provider, roles })
}

/// Finds the provider ARN of the first Role value of the Response's assertion, only to choose
/// whose certificates to validate with; nothing else is read before validation. A document the
/// parser refuses is refused with the error validation would give it.
fn provider_from_unverified(xml: &[u8]) -> Result<String, AwsError> {
    let doc = crossfed_xml::parse(xml).map_err(|e| map_validation(ValidationError::Xml(e)))?;
    let assertion = doc.root_element().child(crossfed_saml::ns::ASSERTION, "Assertion");
    let statements: Vec<_> = assertion
        .iter()
        .flat_map(|a| {
            a.child_elements().filter(|e| e.is(crossfed_saml::ns::ASSERTION, "AttributeStatement")).collect::<Vec<_>>()
        })
        .collect();
    let attributes =
        statements.iter().flat_map(|s| s.child_elements().filter(|e| e.is(crossfed_saml::ns::ASSERTION, "Attribute")));
    for attribute in attributes {
        if attribute.attr("Name") != Some(ROLE_ATTRIBUTE) {
            continue;
        }
        for value in attribute.child_elements() {
            if let Ok(text) = value.text()
                && let Some(arn) = text.split(',').map(str::trim).find(|p| p.contains(":saml-provider/"))
            {
                return Ok(arn.to_string());
            }
        }
    }
    Err(AwsError::invalid_identity_token(format!(
        "Your request included an invalid SAML response: it has no {ROLE_ATTRIBUTE} attribute naming a SAML provider"
    )))
}

/// Assumes `role_arn` with a validated assertion: role granted by the assertion, session name
/// and duration valid, trust policy allows it; then issues and stores credentials.
pub async fn assume_role(
    resources: &Resources,
    assertion: &ValidatedAssertion,
    role_arn: &str,
    provider_arn: &str,
    duration_seconds: Option<i64>,
    now: i64,
) -> Result<AssumedRole, AwsError> {
    // The provider the role is assumed through must be the one whose certificate verified the
    // assertion; otherwise an IdP trusted for one provider could name another in a Role value.
    if provider_arn != assertion.provider.arn {
        return Err(AwsError::access_denied(format!(
            "Not authorized to perform sts:AssumeRoleWithSAML: the assertion was issued by {} (provider {}), not by provider {provider_arn}",
            assertion.provider.entity_id, assertion.provider.arn
        )));
    }
    if !assertion.roles.iter().any(|(r, p)| r == role_arn && p == provider_arn) {
        return Err(AwsError::access_denied(format!(
            "Not authorized to perform sts:AssumeRoleWithSAML: the assertion's Role attribute does not grant {role_arn} through {provider_arn}"
        )));
    }
    let role: Role = resources
        .role_by_arn(role_arn)
        .await?
        .ok_or_else(|| {
            AwsError::access_denied(format!(
                "Not authorized to perform sts:AssumeRoleWithSAML: role {role_arn} does not exist"
            ))
        })?
        .value;
    let accepted = &assertion.accepted;
    let session_name = accepted
        .attribute(ROLE_SESSION_NAME_ATTRIBUTE)
        .and_then(|v| v.first())
        .ok_or_else(|| {
            AwsError::invalid_identity_token(format!(
                "The SAML assertion has no {ROLE_SESSION_NAME_ATTRIBUTE} attribute"
            ))
        })?
        .clone();
    check_session_name(&session_name)?;

    let attribute_duration = match accepted.attribute(SESSION_DURATION_ATTRIBUTE).and_then(|v| v.first()) {
        Some(text) => {
            Some(text.trim().parse::<i64>().ok().filter(|d| (900..=43_200).contains(d)).ok_or_else(|| {
                AwsError::invalid_identity_token(format!(
                    "SessionDuration {text:?} must be a number of seconds from 900 to 43200"
                ))
            })?)
        }
        None => None,
    };
    let duration = match duration_seconds {
        Some(d) if !(900..=43_200).contains(&d) => {
            return Err(AwsError::validation(format!("DurationSeconds {d} must be between 900 and 43200")));
        }
        Some(d) if d > role.max_session_duration => {
            return Err(AwsError::validation(format!(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role ({})",
                role.max_session_duration
            )));
        }
        Some(d) => attribute_duration.map_or(d, |a| d.min(a)),
        None => attribute_duration.unwrap_or(3600).min(role.max_session_duration),
    };

    let keys = saml_keys(accepted, &assertion.provider);
    let trust = Policy::parse(&role.assume_role_policy)
        .map_err(|e| AwsError::malformed_policy(format!("the trust policy of {role_arn} is invalid: {e}")))?;
    let mut context = RequestContext::new("sts:AssumeRoleWithSAML", role_arn)
        .with_principal(RequestPrincipal::federated(provider_arn));
    for (key, value) in &keys {
        context = context.with_key(key.as_str(), value.as_str());
    }
    let decision = evaluate_trust(&trust, &context);
    if !decision.is_allowed() {
        return Err(AwsError::access_denied(format!(
            "Not authorized to perform sts:AssumeRoleWithSAML: the trust policy of {} does not allow this provider and assertion ({decision}; SAML:aud was {:?})",
            role.name, accepted.recipient
        )));
    }

    let expiration = now + duration;
    let credentials = Credentials {
        access_key_id: ids::temporary_access_key_id(),
        secret_access_key: ids::secret_access_key(),
        session_token: Some(ids::session_token()),
        expiration: Some(expiration),
        principal: Principal::AssumedRole {
            account: role.account.clone(),
            role_arn: role.arn.clone(),
            role_id: role.role_id.clone(),
            role_name: role.name.clone(),
            session_name: session_name.clone(),
            saml_keys: keys.clone(),
        },
    };
    let key = ObjectKey {
        kind: kind::CREDENTIALS,
        scope: &role.account,
        name_key: &credentials.access_key_id,
        id: &credentials.access_key_id,
    };
    resources.insert(key, &credentials, now).await?;
    Ok(AssumedRole {
        assumed_role_arn: credentials.principal.arn(),
        assumed_role_id: credentials.principal.user_id(),
        credentials,
        issuer: accepted.issuer.clone(),
        audience: accepted.recipient.clone(),
        subject: accepted.name_id.value.clone(),
        subject_type: keys.get("saml:sub_type").cloned().unwrap_or_default(),
        name_qualifier: keys.get("saml:namequalifier").cloned().unwrap_or_default(),
        expiration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names() {
        assert!(check_session_name("alice@example.com").is_ok());
        assert!(check_session_name("a").is_err());
        assert!(check_session_name(&"x".repeat(65)).is_err());
        assert!(check_session_name("alice smith").is_err());
        assert!(check_session_name("a/b").is_err());
    }

    fn with_roles(values: &[&str]) -> Accepted {
        Accepted {
            response_id: None,
            assertion_id: "_a".into(),
            issuer: "https://idp.example.com".into(),
            name_id: crossfed_saml::NameId { value: "alice".into(), ..Default::default() },
            session_index: None,
            authn_instant: None,
            session_not_on_or_after: None,
            not_on_or_after: "2026-11-25T10:05:00Z".into(),
            attributes: vec![crossfed_saml::Attribute::uri(
                ROLE_ATTRIBUTE,
                values.iter().map(|v| v.to_string()).collect(),
            )],
            in_response_to: None,
            recipient: "https://signin.example.com/saml".into(),
            response_signed: false,
            assertion_signed: true,
            certificate_sha256: String::new(),
        }
    }

    #[test]
    fn role_values_are_taken_exactly_as_signed() {
        let role = "arn:aws:iam::123456789012:role/Agent";
        let provider = "arn:aws:iam::123456789012:saml-provider/Corp";
        let pairs = role_pairs(&with_roles(&[&format!("{provider},{role}")])).unwrap();
        assert_eq!(pairs, [(role.to_string(), provider.to_string())]);
        for value in [format!("{role}, {provider}"), format!(" {role},{provider}"), format!("{role},{provider}\n")] {
            let error = role_pairs(&with_roles(&[&value])).unwrap_err();
            assert_eq!(error.code, "InvalidIdentityToken");
            assert!(
                error.message.contains("has surrounding whitespace; identity values are taken exactly as signed"),
                "{}",
                error.message
            );
            assert!(
                error.message.starts_with(&format!("Role attribute value {value:?}: Role attribute ARN ")),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn name_qualifier_is_base64_sha1() {
        // base64(SHA-1("https://idp.example.com" + "123456789012/Hub")), computed with Python's hashlib.
        let q = name_qualifier("https://idp.example.com", "123456789012", "Hub");
        assert_eq!(q, "9rbmVK3HHkXbLo/QX3asMY7rQYc=");
        assert_ne!(q, name_qualifier("https://idp.example.com", "123456789012", "Other"));
    }
}
