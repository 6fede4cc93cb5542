//! Building Responses with one Assertion (the IdP side), in the shape AWS sign-in and other SPs
//! require: one bearer SubjectConfirmation with Recipient and NotOnOrAfter, an
//! AudienceRestriction, an AuthnStatement with SessionIndex, multi-valued Attributes.

use crossfed_xml::{CanonicalWriter, Document, NodeId, QualifiedName, XML_DECLARATION, XmlError};
use crossfed_xmldsig::{DsigError, SignOptions, SigningKey, enveloped_signature};

use crate::id::new_id;
use crate::ns;
use crate::timestamp::Timestamp;

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
    pub authn_instant: Timestamp,
    pub authn_context_class: String,
    pub attributes: Vec<Attribute>,
    /// How long the assertion may be presented (Conditions and SubjectConfirmationData).
    pub lifetime_seconds: i64,
    /// Allowance for SP clocks running behind: NotBefore is this far in the past.
    pub not_before_skew_seconds: i64,
    pub session_not_on_or_after: Option<Timestamp>,
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
    now: Timestamp,
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

/// Builds and signs a Response at `now`. It is written directly in canonical form (see
/// [`CanonicalWriter`]): the assertion's and the Response's bytes are what their digests cover,
/// so no tree is built and no canonicalization pass runs on the IdP's hot path. A value XML
/// cannot carry (a control character) is refused with [`XmlError::InvalidCharacter`].
pub fn build_response(spec: &ResponseSpec, now: Timestamp, key: &SigningKey) -> Result<BuiltResponse, DsigError> {
    let response_id = new_id();
    let assertion_id = new_id();
    let issue_instant = now.to_xml();
    let not_on_or_after = now.plus_seconds(spec.lifetime_seconds).to_xml();
    let not_before = now.minus_seconds(spec.not_before_skew_seconds).to_xml();
    let authn_instant = spec.authn_instant.to_xml();
    let session_end = spec.session_not_on_or_after.map(Timestamp::to_xml);
    let in_response_to = spec.in_response_to.as_deref();
    let values: usize = spec.attributes.iter().flat_map(|a| a.values.iter().map(|v| v.len() + 64)).sum();

    let mut w = CanonicalWriter::with_capacity(6144 + values);
    w.raw(XML_DECLARATION.as_bytes());
    let response_start = w.begin_standalone();
    w.start(
        samlp("Response"),
        &[
            ("ID", Some(&response_id)),
            ("Version", Some("2.0")),
            ("IssueInstant", Some(&issue_instant)),
            ("Destination", Some(&spec.destination)),
            ("InResponseTo", in_response_to),
        ],
    )?;
    w.text_element(saml("Issuer"), &[], &spec.issuer)?;
    let response_signature_at = w.position();
    w.start(samlp("Status"), &[])?;
    w.start(samlp("StatusCode"), &[("Value", Some(ns::STATUS_SUCCESS))])?;
    w.end();
    w.end();

    let assertion_start = w.begin_standalone();
    w.start(
        saml("Assertion"),
        &[("ID", Some(&assertion_id)), ("Version", Some("2.0")), ("IssueInstant", Some(&issue_instant))],
    )?;
    w.text_element(saml("Issuer"), &[], &spec.issuer)?;
    let assertion_signature_at = w.position();

    w.start(saml("Subject"), &[])?;
    let name_id = &spec.name_id;
    w.text_element(
        saml("NameID"),
        &[
            ("Format", name_id.format.as_deref()),
            ("NameQualifier", name_id.name_qualifier.as_deref()),
            ("SPNameQualifier", name_id.sp_name_qualifier.as_deref()),
        ],
        &name_id.value,
    )?;
    w.start(saml("SubjectConfirmation"), &[("Method", Some(ns::CONFIRMATION_BEARER))])?;
    w.start(
        saml("SubjectConfirmationData"),
        &[
            ("InResponseTo", in_response_to),
            ("NotOnOrAfter", Some(&not_on_or_after)),
            ("Recipient", Some(&spec.destination)),
        ],
    )?;
    w.end();
    w.end();
    w.end();

    w.start(saml("Conditions"), &[("NotBefore", Some(&not_before)), ("NotOnOrAfter", Some(&not_on_or_after))])?;
    w.start(saml("AudienceRestriction"), &[])?;
    for audience in &spec.audiences {
        w.text_element(saml("Audience"), &[], audience)?;
    }
    w.end();
    w.end();

    w.start(
        saml("AuthnStatement"),
        &[
            ("AuthnInstant", Some(&authn_instant)),
            ("SessionIndex", Some(&spec.session_index)),
            ("SessionNotOnOrAfter", session_end.as_deref()),
        ],
    )?;
    w.start(saml("AuthnContext"), &[])?;
    w.text_element(saml("AuthnContextClassRef"), &[], &spec.authn_context_class)?;
    w.end();
    w.end();

    if !spec.attributes.is_empty() {
        w.start(saml("AttributeStatement"), &[])?;
        for a in &spec.attributes {
            w.start(
                saml("Attribute"),
                &[
                    ("Name", Some(&a.name)),
                    ("NameFormat", a.name_format.as_deref()),
                    ("FriendlyName", a.friendly_name.as_deref()),
                ],
            )?;
            for value in &a.values {
                // No xsi:type: a type QName inside an attribute value is invisible to exclusive
                // c14n, and plain string values are what AWS and Entra ID exchange anyway.
                w.text_element(saml("AttributeValue"), &[], value)?;
            }
            w.end();
        }
        w.end();
    }
    w.end();
    let assertion_end = w.position();
    w.end();

    // The assertion is signed first, so a signed Response covers the assertion's signature.
    let options = SignOptions::default();
    if matches!(spec.signed_parts, SignedParts::Assertion | SignedParts::Both) {
        let assertion = w.written(assertion_start..assertion_end);
        let signature = enveloped_signature(assertion, &assertion_id, key, &options)?;
        w.insert(assertion_signature_at, &signature);
    }
    if matches!(spec.signed_parts, SignedParts::Response | SignedParts::Both) {
        let signature = enveloped_signature(w.written(response_start..w.position()), &response_id, key, &options)?;
        w.insert(response_signature_at, &signature);
    }
    Ok(BuiltResponse { xml: w.into_string(), response_id, assertion_id })
}
