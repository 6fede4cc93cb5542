//! Building Responses with one Assertion (the IdP side), in the shape AWS sign-in and other SPs
//! require: one bearer SubjectConfirmation with Recipient and NotOnOrAfter, an
//! AudienceRestriction, an AuthnStatement with SessionIndex, multi-valued Attributes.

use crossfed_xml::{Document, NodeId, QualifiedName, XmlError, to_xml};
use crossfed_xmldsig::{DsigError, SignOptions, SigningKey, sign_enveloped};

use crate::id::new_id;
use crate::instant::Instant;
use crate::ns;

/// A SAML NameID.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct NameId {
    pub value: String,
    pub format: Option<String>,
    pub name_qualifier: Option<String>,
    pub sp_name_qualifier: Option<String>,
}

/// A SAML attribute with all its values.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Attribute {
    pub name: String,
    pub name_format: Option<String>,
    pub friendly_name: Option<String>,
    pub values: Vec<String>,
}

impl Attribute {
    /// An attribute with a URI name (the format AWS and most SPs expect).
    pub fn uri(name: &str, values: Vec<String>) -> Self {
        Attribute {
            name: name.to_string(),
            name_format: Some(ns::ATTRNAME_URI.to_string()),
            friendly_name: None,
            values,
        }
    }
}

/// Which parts of a Response carry a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedParts {
    Assertion,
    Response,
    Both,
}

/// Everything an IdP decides when it answers a login.
#[derive(Debug, Clone)]
pub struct ResponseSpec {
    pub issuer: String,
    /// The SP's ACS URL: Response Destination and SubjectConfirmationData Recipient.
    pub destination: String,
    pub audiences: Vec<String>,
    /// The AuthnRequest ID being answered; None for IdP-initiated login.
    pub in_response_to: Option<String>,
    pub name_id: NameId,
    pub session_index: String,
    pub authn_instant: Instant,
    pub authn_context_class: String,
    pub attributes: Vec<Attribute>,
    /// How long the assertion may be presented (Conditions and SubjectConfirmationData).
    pub lifetime_seconds: i64,
    /// Allowance for SP clocks running behind: NotBefore is this far in the past.
    pub not_before_skew_seconds: i64,
    pub session_not_on_or_after: Option<Instant>,
    pub signed_parts: SignedParts,
}

/// A built Response, with the IDs a caller may want to log.
#[derive(Debug, Clone)]
pub struct BuiltResponse {
    pub xml: String,
    pub response_id: String,
    pub assertion_id: String,
}

fn saml(local: &str) -> QualifiedName<'_> {
    QualifiedName::new("saml", local, ns::ASSERTION)
}

fn samlp(local: &str) -> QualifiedName<'_> {
    QualifiedName::new("samlp", local, ns::PROTOCOL)
}

fn attr(doc: &mut Document, element: NodeId, name: &str, value: &str) -> Result<(), XmlError> {
    doc.set_attribute(element, QualifiedName::plain(name), value)
}

fn optional_attr(doc: &mut Document, element: NodeId, name: &str, value: Option<&str>) -> Result<(), XmlError> {
    match value {
        Some(v) => attr(doc, element, name, v),
        None => Ok(()),
    }
}

/// Builds and signs a Response without an assertion that tells the SP why nobody was signed in:
/// a top-level `status` (Requester or Responder), an optional second-level code such as
/// NoPassive, and a message. Returns (ID, XML).
pub fn build_status_response(
    issuer: &str,
    destination: &str,
    in_response_to: Option<&str>,
    status: (&str, Option<&str>),
    message: Option<&str>,
    now: Instant,
    key: &SigningKey,
) -> Result<(String, String), DsigError> {
    let (id, mut doc) = crate::protocol::new_message("Response", issuer, destination, now)?;
    let root = doc.root();
    optional_attr(&mut doc, root, "InResponseTo", in_response_to)?;
    let status_element = doc.append_element(root, samlp("Status"));
    let code = doc.append_element(status_element, samlp("StatusCode"));
    attr(&mut doc, code, "Value", status.0)?;
    if let Some(second) = status.1 {
        let inner = doc.append_element(code, samlp("StatusCode"));
        attr(&mut doc, inner, "Value", second)?;
    }
    if let Some(message) = message {
        doc.append_text_element(status_element, samlp("StatusMessage"), message);
    }
    Ok((id, crate::protocol::finish(doc, Some(key))?))
}

/// Builds and signs a Response at `now`.
pub fn build_response(spec: &ResponseSpec, now: Instant, key: &SigningKey) -> Result<BuiltResponse, DsigError> {
    let response_id = new_id();
    let assertion_id = new_id();
    let issue_instant = now.to_xml();
    let not_on_or_after = now.plus_seconds(spec.lifetime_seconds).to_xml();

    let mut doc = Document::new(samlp("Response"));
    let root = doc.root();
    doc.declare_namespace(root, "samlp", ns::PROTOCOL)?;
    doc.declare_namespace(root, "saml", ns::ASSERTION)?;
    attr(&mut doc, root, "ID", &response_id)?;
    attr(&mut doc, root, "Version", "2.0")?;
    attr(&mut doc, root, "IssueInstant", &issue_instant)?;
    attr(&mut doc, root, "Destination", &spec.destination)?;
    optional_attr(&mut doc, root, "InResponseTo", spec.in_response_to.as_deref())?;
    doc.append_text_element(root, saml("Issuer"), &spec.issuer);
    let status = doc.append_element(root, samlp("Status"));
    let code = doc.append_element(status, samlp("StatusCode"));
    attr(&mut doc, code, "Value", ns::STATUS_SUCCESS)?;

    let assertion = doc.append_element(root, saml("Assertion"));
    attr(&mut doc, assertion, "ID", &assertion_id)?;
    attr(&mut doc, assertion, "Version", "2.0")?;
    attr(&mut doc, assertion, "IssueInstant", &issue_instant)?;
    doc.append_text_element(assertion, saml("Issuer"), &spec.issuer);

    let subject = doc.append_element(assertion, saml("Subject"));
    let name_id = doc.append_text_element(subject, saml("NameID"), &spec.name_id.value);
    optional_attr(&mut doc, name_id, "Format", spec.name_id.format.as_deref())?;
    optional_attr(&mut doc, name_id, "NameQualifier", spec.name_id.name_qualifier.as_deref())?;
    optional_attr(&mut doc, name_id, "SPNameQualifier", spec.name_id.sp_name_qualifier.as_deref())?;
    let confirmation = doc.append_element(subject, saml("SubjectConfirmation"));
    attr(&mut doc, confirmation, "Method", ns::CONFIRMATION_BEARER)?;
    let data = doc.append_element(confirmation, saml("SubjectConfirmationData"));
    optional_attr(&mut doc, data, "InResponseTo", spec.in_response_to.as_deref())?;
    attr(&mut doc, data, "NotOnOrAfter", &not_on_or_after)?;
    attr(&mut doc, data, "Recipient", &spec.destination)?;

    let conditions = doc.append_element(assertion, saml("Conditions"));
    attr(&mut doc, conditions, "NotBefore", &now.minus_seconds(spec.not_before_skew_seconds).to_xml())?;
    attr(&mut doc, conditions, "NotOnOrAfter", &not_on_or_after)?;
    let restriction = doc.append_element(conditions, saml("AudienceRestriction"));
    for audience in &spec.audiences {
        doc.append_text_element(restriction, saml("Audience"), audience);
    }

    let authn = doc.append_element(assertion, saml("AuthnStatement"));
    attr(&mut doc, authn, "AuthnInstant", &spec.authn_instant.to_xml())?;
    attr(&mut doc, authn, "SessionIndex", &spec.session_index)?;
    let session_end = spec.session_not_on_or_after.map(Instant::to_xml);
    optional_attr(&mut doc, authn, "SessionNotOnOrAfter", session_end.as_deref())?;
    let context = doc.append_element(authn, saml("AuthnContext"));
    doc.append_text_element(context, saml("AuthnContextClassRef"), &spec.authn_context_class);

    if !spec.attributes.is_empty() {
        let statement = doc.append_element(assertion, saml("AttributeStatement"));
        for a in &spec.attributes {
            let element = doc.append_element(statement, saml("Attribute"));
            attr(&mut doc, element, "Name", &a.name)?;
            optional_attr(&mut doc, element, "NameFormat", a.name_format.as_deref())?;
            optional_attr(&mut doc, element, "FriendlyName", a.friendly_name.as_deref())?;
            for value in &a.values {
                // No xsi:type: a type QName inside an attribute value is invisible to exclusive
                // c14n, and plain string values are what AWS and Entra ID exchange anyway.
                doc.append_text_element(element, saml("AttributeValue"), value);
            }
        }
    }

    let options = SignOptions::default();
    if matches!(spec.signed_parts, SignedParts::Assertion | SignedParts::Both) {
        sign_enveloped(&mut doc, assertion, key, &options)?;
    }
    if matches!(spec.signed_parts, SignedParts::Response | SignedParts::Both) {
        sign_enveloped(&mut doc, root, key, &options)?;
    }
    Ok(BuiltResponse { xml: to_xml(&doc), response_id, assertion_id })
}
