//! What the protocol messages (requests and logout messages) share: their envelope, optional
//! enveloped signature, and the errors of reading them.

use crossfed_xml::{Document, Element, QualifiedName, XmlError, to_xml};
use crossfed_xmldsig::{
    Certificate, DsigError, SignOptions, SigningKey, VerifyOptions, sign_enveloped, verify_enveloped,
};

use crate::id::new_id;
use crate::identity::{SurroundingWhitespace, exact};
use crate::ns;
use crate::timestamp::Timestamp;

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
    #[error(transparent)]
    Identity(#[from] SurroundingWhitespace),
}

/// A new message document `samlp:{local}` with ID, Version, IssueInstant, Destination and
/// Issuer, returning (ID, document).
pub(crate) fn new_message(
    local: &str,
    issuer: &str,
    destination: &str,
    now: Timestamp,
) -> Result<(String, Document), DsigError> {
    let id = new_id();
    let mut doc = Document::new(QualifiedName::new("samlp", local, ns::PROTOCOL));
    let root = doc.root();
    doc.declare_namespace(root, "samlp", ns::PROTOCOL)?;
    doc.declare_namespace(root, "saml", ns::ASSERTION)?;
    for (name, value) in
        [("ID", id.as_str()), ("Version", "2.0"), ("IssueInstant", &now.to_xml()), ("Destination", destination)]
    {
        doc.set_attribute(root, QualifiedName::plain(name), value)?;
    }
    doc.append_text_element(root, QualifiedName::new("saml", "Issuer", ns::ASSERTION), issuer);
    Ok((id, doc))
}

pub(crate) fn finish(mut doc: Document, sign_with: Option<&SigningKey>) -> Result<String, DsigError> {
    if let Some(key) = sign_with {
        let root = doc.root();
        sign_enveloped(&mut doc, root, key, &SignOptions::default())?;
    }
    Ok(to_xml(&doc))
}

/// Parses a protocol message root named `local`, verifying its enveloped signature when
/// `trusted` is given, and hands the (verified) root to `read`.
pub(crate) fn parse_message<T>(
    xml: &[u8],
    local: &'static str,
    trusted: Option<&[Certificate]>,
    read: impl FnOnce(Element<'_>, bool) -> Result<T, RequestError>,
) -> Result<T, RequestError> {
    let doc = crossfed_xml::parse(xml)?;
    let root = doc.root_element();
    if !root.is(ns::PROTOCOL, local) {
        return Err(RequestError::WrongElement { expected: local, found: root.qualified_name() });
    }
    match trusted {
        Some(certs) => {
            let verified =
                verify_enveloped(&doc, root.id(), certs, &VerifyOptions::default()).map_err(RequestError::Signature)?;
            read(verified.view().as_element(), true)
        }
        None => read(root, false),
    }
}

pub(crate) fn issuer_of(e: Element<'_>) -> Result<String, RequestError> {
    let issuer = e.child(ns::ASSERTION, "Issuer").ok_or(RequestError::Missing("Issuer"))?;
    identity_text(issuer, "Issuer")
}

/// The text of an identity-bearing element, exactly as sent (see [`exact`]).
pub(crate) fn identity_text(e: Element<'_>, name: &'static str) -> Result<String, RequestError> {
    Ok(exact(name, e.text()?)?.to_string())
}
