//! AuthnRequest: built by an SP, parsed by an IdP.

use crossfed_xml::{Document, QualifiedName, XmlError, to_xml};
use crossfed_xmldsig::{
    Certificate, DsigError, SignOptions, SigningKey, VerifyOptions, sign_enveloped, verify_enveloped,
};

use crate::id::new_id;
use crate::instant::Instant;
use crate::ns;

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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the request is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    #[error("expected samlp:{expected}, found <{found}>")]
    WrongElement { expected: &'static str, found: String },
    #[error("{0} is required but missing")]
    Missing(&'static str),
    #[error("unsupported SAML version {0:?}")]
    Version(String),
    #[error("the request signature is invalid: {0}")]
    Signature(DsigError),
    #[error("AssertionConsumerServiceIndex {0:?} is not a number")]
    BadIndex(String),
}

/// Builds an AuthnRequest at `now`, returning (ID, XML). With `sign_with`, it carries an enveloped
/// signature (for the POST binding; the Redirect binding signs the query instead).
pub fn build_authn_request(
    spec: &AuthnRequestSpec,
    now: Instant,
    sign_with: Option<&SigningKey>,
) -> Result<(String, String), DsigError> {
    let id = new_id();
    let mut doc = Document::new(QualifiedName::new("samlp", "AuthnRequest", ns::PROTOCOL));
    let root = doc.root();
    doc.declare_namespace(root, "samlp", ns::PROTOCOL)?;
    doc.declare_namespace(root, "saml", ns::ASSERTION)?;
    let set = |doc: &mut Document, name: &str, value: &str| doc.set_attribute(root, QualifiedName::plain(name), value);
    set(&mut doc, "ID", &id)?;
    set(&mut doc, "Version", "2.0")?;
    set(&mut doc, "IssueInstant", &now.to_xml())?;
    set(&mut doc, "Destination", &spec.destination)?;
    set(&mut doc, "AssertionConsumerServiceURL", &spec.acs_url)?;
    set(&mut doc, "ProtocolBinding", &spec.protocol_binding)?;
    if spec.force_authn {
        set(&mut doc, "ForceAuthn", "true")?;
    }
    doc.append_text_element(root, QualifiedName::new("saml", "Issuer", ns::ASSERTION), &spec.issuer);
    let policy = doc.append_element(root, QualifiedName::new("samlp", "NameIDPolicy", ns::PROTOCOL));
    doc.set_attribute(policy, QualifiedName::plain("AllowCreate"), "true")?;
    if let Some(format) = &spec.name_id_format {
        doc.set_attribute(policy, QualifiedName::plain("Format"), format)?;
    }
    if let Some(key) = sign_with {
        sign_enveloped(&mut doc, root, key, &SignOptions::default())?;
    }
    Ok((id, to_xml(&doc)))
}

/// Parses an AuthnRequest. With `trusted` certificates, an enveloped signature is required and
/// the fields are read from the verified element; without, the request is read unsigned (the
/// caller then checks the Redirect query signature or decides it needs none).
pub fn parse_authn_request(xml: &[u8], trusted: Option<&[Certificate]>) -> Result<AuthnRequest, RequestError> {
    let doc = crossfed_xml::parse(xml)?;
    let root = doc.root_element();
    if !root.is(ns::PROTOCOL, "AuthnRequest") {
        return Err(RequestError::WrongElement { expected: "AuthnRequest", found: root.qualified_name() });
    }
    let (view, xml_signed) = match trusted {
        Some(certs) => {
            let verified =
                verify_enveloped(&doc, root.id(), certs, &VerifyOptions::default()).map_err(RequestError::Signature)?;
            (verified.view().as_element(), true)
        }
        None => (root, false),
    };
    match view.attr("Version") {
        Some("2.0") => {}
        other => return Err(RequestError::Version(other.unwrap_or("").to_string())),
    }
    let owned = |v: Option<&str>| v.map(str::to_string);
    let issuer = view
        .child(ns::ASSERTION, "Issuer")
        .map(|i| i.trimmed_text().map(str::to_string))
        .transpose()?
        .ok_or(RequestError::Missing("Issuer"))?;
    let acs_index = view
        .attr("AssertionConsumerServiceIndex")
        .map(|i| i.parse::<u16>().map_err(|_| RequestError::BadIndex(i.to_string())))
        .transpose()?;
    Ok(AuthnRequest {
        id: view.attr("ID").ok_or(RequestError::Missing("ID"))?.to_string(),
        issuer,
        issue_instant: view.attr("IssueInstant").ok_or(RequestError::Missing("IssueInstant"))?.to_string(),
        destination: owned(view.attr("Destination")),
        acs_url: owned(view.attr("AssertionConsumerServiceURL")),
        acs_index,
        protocol_binding: owned(view.attr("ProtocolBinding")),
        name_id_format: owned(view.child(ns::PROTOCOL, "NameIDPolicy").and_then(|p| p.attr("Format"))),
        force_authn: matches!(view.attr("ForceAuthn"), Some("true" | "1")),
        is_passive: matches!(view.attr("IsPassive"), Some("true" | "1")),
        xml_signed,
    })
}
