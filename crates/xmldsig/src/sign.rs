//! Enveloped signing, SAML profile: one Reference to the element's own ID, transforms
//! enveloped-signature + exclusive c14n, the signature placed after the Issuer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crossfed_xml::{C14nOptions, Document, EXC_C14N, NodeId, QualifiedName, canonicalize};

use crate::algorithm::{DSIG_NS, DigestAlgorithm, ENVELOPED_SIGNATURE};
use crate::error::DsigError;
use crate::keys::SigningKey;

const SAML_ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// How to sign.
#[derive(Debug, Clone, Copy)]
pub struct SignOptions<'a> {
    /// The attribute holding the element's ID (`ID` in SAML).
    pub id_attribute: &'a str,
    pub digest: DigestAlgorithm,
    /// Put the certificate in KeyInfo. Verifiers only use it to pick among configured ones.
    pub include_certificate: bool,
}

impl Default for SignOptions<'_> {
    fn default() -> Self {
        SignOptions { id_attribute: "ID", digest: DigestAlgorithm::Sha256, include_certificate: true }
    }
}

fn ds(local: &str) -> QualifiedName<'_> {
    QualifiedName::new("ds", local, DSIG_NS)
}

/// Signs `element` in place and returns the new `ds:Signature` node. The signature goes right
/// after a leading `saml:Issuer` child (where the SAML schemas require it), otherwise first.
pub fn sign_enveloped(
    doc: &mut Document,
    element: NodeId,
    key: &SigningKey,
    options: &SignOptions<'_>,
) -> Result<NodeId, DsigError> {
    let target = doc.element(element).ok_or(crossfed_xml::XmlError::NotAnElement)?;
    let id = target
        .attr(options.id_attribute)
        .ok_or_else(|| DsigError::MissingId {
            element: target.qualified_name(),
            attribute: options.id_attribute.to_string(),
        })?
        .to_string();
    let issuer = target.child_elements().next().filter(|c| c.is(SAML_ASSERTION_NS, "Issuer")).map(|c| c.id());

    let mut buffer = Vec::with_capacity(4096);
    canonicalize(doc, element, &C14nOptions::default(), &mut buffer);
    let digest = STANDARD.encode(options.digest.digest(&buffer));

    let signature = doc.create_element(ds("Signature"));
    doc.declare_namespace(signature, "ds", DSIG_NS)?;
    let signed_info = doc.append_element(signature, ds("SignedInfo"));
    let c14n_method = doc.append_element(signed_info, ds("CanonicalizationMethod"));
    doc.set_attribute(c14n_method, QualifiedName::plain("Algorithm"), EXC_C14N)?;
    let sig_method = doc.append_element(signed_info, ds("SignatureMethod"));
    doc.set_attribute(sig_method, QualifiedName::plain("Algorithm"), key.algorithm().uri())?;
    let reference = doc.append_element(signed_info, ds("Reference"));
    doc.set_attribute(reference, QualifiedName::plain("URI"), &format!("#{id}"))?;
    let transforms = doc.append_element(reference, ds("Transforms"));
    for algorithm in [ENVELOPED_SIGNATURE, EXC_C14N] {
        let t = doc.append_element(transforms, ds("Transform"));
        doc.set_attribute(t, QualifiedName::plain("Algorithm"), algorithm)?;
    }
    let digest_method = doc.append_element(reference, ds("DigestMethod"));
    doc.set_attribute(digest_method, QualifiedName::plain("Algorithm"), options.digest.uri())?;
    doc.append_text_element(reference, ds("DigestValue"), &digest);
    let value = doc.append_element(signature, ds("SignatureValue"));
    if options.include_certificate {
        let key_info = doc.append_element(signature, ds("KeyInfo"));
        let x509 = doc.append_element(key_info, ds("X509Data"));
        doc.append_text_element(x509, ds("X509Certificate"), &key.certificate().to_base64());
    }

    match issuer {
        Some(issuer) => doc.insert_after(issuer, signature),
        None => doc.prepend_child(element, signature),
    }

    // SignedInfo is canonicalized where it now stands, as a verifier will see it.
    buffer.clear();
    canonicalize(doc, signed_info, &C14nOptions::default(), &mut buffer);
    let signature_value = key.sign(&buffer)?;
    doc.append_text(value, &STANDARD.encode(signature_value));
    Ok(signature)
}
