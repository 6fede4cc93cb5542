//! Enveloped signing, SAML profile: one Reference to the element's own ID, transforms
//! enveloped-signature + exclusive c14n, the signature placed after the Issuer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crossfed_xml::{C14nOptions, CanonicalWriter, Document, EXC_C14N, NodeId, QualifiedName, canonicalize};

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

    let mut canonical = Vec::with_capacity(4096);
    canonicalize(doc, element, &C14nOptions::default(), &mut canonical);
    // The signature is written once, by enveloped_signature, and read back into this tree.
    let written = enveloped_signature(&canonical, &id, key, options)?;
    let fragment = crossfed_xml::parse(&written)?;
    let signature = doc.import(&fragment, fragment.root())?;
    match issuer {
        Some(issuer) => doc.insert_after(issuer, signature),
        None => doc.prepend_child(element, signature),
    }
    Ok(signature)
}

/// The enveloped `ds:Signature` element, as bytes to put inside the signed element, for an
/// element whose ID is `id` and whose canonical form without the signature is `canonical`:
/// what [`sign_enveloped`] adds to a tree, for a document written directly in canonical form
/// with a [`CanonicalWriter`] (the signature's bytes are canonical there too).
pub fn enveloped_signature(
    canonical: &[u8],
    id: &str,
    key: &SigningKey,
    options: &SignOptions<'_>,
) -> Result<Vec<u8>, DsigError> {
    let digest = STANDARD.encode(options.digest.digest(canonical));
    let reference = format!("#{id}");
    // What is signed is SignedInfo's canonical form on its own, which declares ds; in place,
    // ds:Signature declares it instead.
    let signed_info = SignedInfo {
        signature_method: key.algorithm().uri(),
        reference: &reference,
        digest_method: options.digest.uri(),
        digest: &digest,
    };
    let mut alone = CanonicalWriter::with_capacity(1024);
    signed_info.write(&mut alone)?;
    let value = STANDARD.encode(key.sign(&alone.into_bytes())?);
    let mut w = CanonicalWriter::with_capacity(3072);
    w.start(ds("Signature"), &[])?;
    signed_info.write(&mut w)?;
    w.text_element(ds("SignatureValue"), &[], &value)?;
    if options.include_certificate {
        w.start(ds("KeyInfo"), &[])?;
        w.start(ds("X509Data"), &[])?;
        w.text_element(ds("X509Certificate"), &[], key.certificate().base64())?;
        w.end();
        w.end();
    }
    w.end();
    Ok(w.into_bytes())
}

/// What a signature's SignedInfo says.
struct SignedInfo<'a> {
    signature_method: &'a str,
    reference: &'a str,
    digest_method: &'a str,
    digest: &'a str,
}

impl<'a> SignedInfo<'a> {
    fn write(&self, w: &mut CanonicalWriter<'a>) -> Result<(), crossfed_xml::XmlError> {
        w.start(ds("SignedInfo"), &[])?;
        w.start(ds("CanonicalizationMethod"), &[("Algorithm", Some(EXC_C14N))])?;
        w.end();
        w.start(ds("SignatureMethod"), &[("Algorithm", Some(self.signature_method))])?;
        w.end();
        w.start(ds("Reference"), &[("URI", Some(self.reference))])?;
        w.start(ds("Transforms"), &[])?;
        for algorithm in [ENVELOPED_SIGNATURE, EXC_C14N] {
            w.start(ds("Transform"), &[("Algorithm", Some(algorithm))])?;
            w.end();
        }
        w.end();
        w.start(ds("DigestMethod"), &[("Algorithm", Some(self.digest_method))])?;
        w.end();
        w.text_element(ds("DigestValue"), &[], self.digest)?;
        w.end();
        w.end();
        Ok(())
    }
}
