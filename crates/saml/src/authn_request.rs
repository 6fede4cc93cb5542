//! AuthnRequest: built by an SP, parsed by an IdP.

use crossfed_xml::QualifiedName;
use crossfed_xmldsig::{Certificate, DsigError, SigningKey};

use crate::ns;
use crate::protocol::{RequestError, finish, issuer_of, new_message, parse_message};
use crate::timestamp::Timestamp;

/// What an SP asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthnRequestSpec {
    pub issuer: String,
    /// The IdP's SSO URL.
    pub destination: String,
    pub acs_url: String,
    pub protocol_binding: String,
    pub name_id_format: Option<String>,
    pub force_authn: bool,
}

/// A parsed AuthnRequest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuthnRequest {
    pub id: String,
    pub issuer: String,
    pub issue_instant: String,
    pub destination: Option<String>,
    pub acs_url: Option<String>,
    pub acs_index: Option<u16>,
    pub protocol_binding: Option<String>,
    pub name_id_format: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    /// Whether an enveloped XML signature verified (Redirect signatures are checked on the query).
    pub xml_signed: bool,
    /// Whether the request carries an enveloped XML signature at all, verified or not: a reader
    /// without certificates uses it to know a signature is there to check.
    pub has_xml_signature: bool,
}

/// Builds an AuthnRequest at `now`, returning (ID, XML). With `sign_with`, it carries an enveloped
/// signature (for the POST binding; the Redirect binding signs the query instead).
pub fn build_authn_request(
    spec: &AuthnRequestSpec,
    now: Timestamp,
    sign_with: Option<&SigningKey>,
) -> Result<(String, String), DsigError> {
    let (id, mut doc) = new_message("AuthnRequest", &spec.issuer, &spec.destination, now)?;
    let root = doc.root();
    let mut set = |name: &str, value: &str| doc.set_attribute(root, QualifiedName::plain(name), value);
    set("AssertionConsumerServiceURL", &spec.acs_url)?;
    set("ProtocolBinding", &spec.protocol_binding)?;
    if spec.force_authn {
        set("ForceAuthn", "true")?;
    }
    let policy = doc.append_element(root, QualifiedName::new("samlp", "NameIDPolicy", ns::PROTOCOL));
    doc.set_attribute(policy, QualifiedName::plain("AllowCreate"), "true")?;
    if let Some(format) = &spec.name_id_format {
        doc.set_attribute(policy, QualifiedName::plain("Format"), format)?;
    }
    Ok((id, finish(doc, sign_with)?))
}

/// Parses an AuthnRequest. With `trusted` certificates, an enveloped signature is required and
/// the fields are read from the verified element; without, the request is read unsigned (the
/// caller then checks the Redirect query signature or decides it needs none).
pub fn parse_authn_request(xml: &[u8], trusted: Option<&[Certificate]>) -> Result<AuthnRequest, RequestError> {
    parse_message(xml, "AuthnRequest", trusted, |view, xml_signed| {
        match view.attr("Version") {
            Some("2.0") => {}
            other => return Err(RequestError::Version(other.unwrap_or("").to_string())),
        }
        let owned = |v: Option<&str>| v.map(str::to_string);
        let acs_index = view
            .attr("AssertionConsumerServiceIndex")
            .map(|i| i.parse::<u16>().map_err(|_| RequestError::BadIndex(i.to_string())))
            .transpose()?;
        Ok(AuthnRequest {
            id: view.attr("ID").ok_or(RequestError::Missing("ID"))?.to_string(),
            issuer: issuer_of(view)?,
            issue_instant: view.attr("IssueInstant").ok_or(RequestError::Missing("IssueInstant"))?.to_string(),
            destination: owned(view.attr("Destination")),
            acs_url: owned(view.attr("AssertionConsumerServiceURL")),
            acs_index,
            protocol_binding: owned(view.attr("ProtocolBinding")),
            name_id_format: owned(view.child(ns::PROTOCOL, "NameIDPolicy").and_then(|p| p.attr("Format"))),
            force_authn: matches!(view.attr("ForceAuthn"), Some("true" | "1")),
            is_passive: matches!(view.attr("IsPassive"), Some("true" | "1")),
            xml_signed,
            has_xml_signature: view.child(ns::DSIG, "Signature").is_some(),
        })
    })
}
