//! Verification of an enveloped signature, SAML profile, returning a view of the element that
//! was actually verified. Everything outside the profile is refused rather than interpreted.

use crossfed_xml::{C14nOptions, Child, Document, EXC_C14N, Element, NodeId, XmlError, canonicalize};

use crate::algorithm::{AlgorithmPolicy, DSIG_NS, ENVELOPED_SIGNATURE, SignatureAlgorithm};
use crate::error::DsigError;
use crate::keys::{Certificate, decode_base64};

/// What a verifier accepts.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The attribute holding the element's ID (`ID` in SAML).
    pub id_attribute: &'a str,
    pub algorithms: AlgorithmPolicy,
}

impl Default for VerifyOptions<'_> {
    fn default() -> Self {
        VerifyOptions { id_attribute: "ID", algorithms: AlgorithmPolicy::default() }
    }
}

/// An element whose enveloped signature verified. Reading goes through [`SignedView`], which
/// can only walk down into the signed subtree, never up or sideways out of it.
#[derive(Debug, Clone, Copy)]
pub struct VerifiedElement<'d> {
    element: Element<'d>,
    signature: NodeId,
    certificate: usize,
    algorithm: SignatureAlgorithm,
}

impl<'d> VerifiedElement<'d> {
    /// The signed element, for reading its fields.
    pub fn view(&self) -> SignedView<'d> {
        SignedView { element: self.element }
    }

    pub fn node(&self) -> NodeId {
        self.element.id()
    }

    /// The `ds:Signature` element that verified.
    pub fn signature_node(&self) -> NodeId {
        self.signature
    }

    /// Index into the trusted certificates of the one whose key verified the signature.
    pub fn certificate_index(&self) -> usize {
        self.certificate
    }

    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }
}

/// Read access to a signed subtree. Deliberately has no `parent()`.
#[derive(Debug, Clone, Copy)]
pub struct SignedView<'d> {
    element: Element<'d>,
}

impl<'d> SignedView<'d> {
    pub fn local_name(&self) -> &'d str {
        self.element.local_name()
    }
    pub fn namespace(&self) -> &'d str {
        self.element.namespace()
    }
    pub fn qualified_name(&self) -> String {
        self.element.qualified_name()
    }
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.element.is(ns, local)
    }
    pub fn node(&self) -> NodeId {
        self.element.id()
    }
    pub fn attr(&self, local: &str) -> Option<&'d str> {
        self.element.attr(local)
    }
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&'d str> {
        self.element.attr_ns(ns, local)
    }
    /// Text content; comments or elements inside are errors (see `Element::text`).
    pub fn text(&self) -> Result<&'d str, XmlError> {
        self.element.text()
    }
    pub fn trimmed_text(&self) -> Result<&'d str, XmlError> {
        self.element.trimmed_text()
    }
    pub fn child(&self, ns: &str, local: &str) -> Option<SignedView<'d>> {
        self.element.child(ns, local).map(|element| SignedView { element })
    }
    pub fn children_named<'a>(&self, ns: &'a str, local: &'a str) -> impl Iterator<Item = SignedView<'d>> + 'a
    where
        'd: 'a,
    {
        self.element.children_named(ns, local).map(|element| SignedView { element })
    }
    pub fn child_elements(&self) -> impl Iterator<Item = SignedView<'d>> + 'd {
        self.element.child_elements().map(|element| SignedView { element })
    }
    /// The subtree as a plain element, for display and canonicalization only.
    pub fn as_element(&self) -> Element<'d> {
        self.element
    }
}

/// Refuses documents in which one ID value appears twice: then "the element with ID x" is
/// ambiguous, which is what signature-wrapping attacks rely on.
pub fn check_unique_ids(doc: &Document) -> Result<(), DsigError> {
    let mut ids: Vec<&str> = Vec::with_capacity(8);
    for e in doc.descendants() {
        for a in e.attributes() {
            if a.local.eq_ignore_ascii_case("id") {
                ids.push(a.value);
            }
        }
    }
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w.first() == w.get(1)) {
        return Err(DsigError::DuplicateId { id: w.first().copied().unwrap_or_default().to_string() });
    }
    Ok(())
}

fn malformed(message: impl Into<String>) -> DsigError {
    DsigError::Malformed(message.into())
}

/// Child elements of a signature element, refusing text other than whitespace.
fn element_children<'d>(e: Element<'d>) -> Result<Vec<Element<'d>>, DsigError> {
    let mut out = Vec::with_capacity(4);
    for child in e.children() {
        match child {
            Child::Element(c) => out.push(c),
            Child::Text(t) if t.trim().is_empty() => {}
            Child::Text(_) => return Err(malformed(format!("unexpected text inside <{}>", e.qualified_name()))),
            Child::Comment(_) => {}
        }
    }
    Ok(out)
}

fn expect_ds<'d>(e: Option<&Element<'d>>, local: &str, context: &str) -> Result<Element<'d>, DsigError> {
    match e {
        Some(e) if e.is(DSIG_NS, local) => Ok(*e),
        Some(e) => Err(malformed(format!("expected ds:{local} in {context}, found <{}>", e.qualified_name()))),
        None => Err(malformed(format!("ds:{local} missing in {context}"))),
    }
}

fn algorithm_of(e: Element<'_>) -> Result<&str, DsigError> {
    e.attr("Algorithm").ok_or_else(|| malformed(format!("<{}> has no Algorithm", e.qualified_name())))
}

/// Reads an exclusive-c14n method or transform, with its optional InclusiveNamespaces.
fn inclusive_prefixes<'d>(e: Element<'d>) -> Result<Vec<&'d str>, DsigError> {
    let mut prefixes = Vec::new();
    for child in element_children(e)? {
        if child.is(EXC_C14N, "InclusiveNamespaces") {
            let list = child.attr("PrefixList").unwrap_or("");
            prefixes.extend(list.split_ascii_whitespace());
        } else {
            return Err(malformed(format!("unexpected <{}> inside <{}>", child.qualified_name(), e.qualified_name())));
        }
    }
    Ok(prefixes)
}

/// Verifies the enveloped signature of `element` against `trusted` certificates.
pub fn verify_enveloped<'d>(
    doc: &'d Document,
    element: NodeId,
    trusted: &[Certificate],
    options: &VerifyOptions<'_>,
) -> Result<VerifiedElement<'d>, DsigError> {
    let target = doc.element(element).ok_or(XmlError::NotAnElement)?;
    let signatures: Vec<Element<'d>> = target.children_named(DSIG_NS, "Signature").collect();
    let signature = match signatures.as_slice() {
        [] => return Err(DsigError::NotSigned { element: target.qualified_name() }),
        [one] => *one,
        many => return Err(DsigError::MultipleSignatures { element: target.qualified_name(), count: many.len() }),
    };
    if trusted.is_empty() {
        return Err(DsigError::NoTrustedCertificates);
    }
    check_unique_ids(doc)?;
    let id = target.attr(options.id_attribute).ok_or_else(|| DsigError::MissingId {
        element: target.qualified_name(),
        attribute: options.id_attribute.to_string(),
    })?;

    // ds:Signature = SignedInfo, SignatureValue, KeyInfo? — nothing else in this profile.
    let parts = element_children(signature)?;
    let signed_info = expect_ds(parts.first(), "SignedInfo", "ds:Signature")?;
    let signature_value = expect_ds(parts.get(1), "SignatureValue", "ds:Signature")?;
    let key_info = match parts.get(2) {
        Some(k) => Some(expect_ds(Some(k), "KeyInfo", "ds:Signature")?),
        None => None,
    };
    if let Some(extra) = parts.get(3) {
        return Err(malformed(format!("unexpected <{}> in ds:Signature", extra.qualified_name())));
    }

    // ds:SignedInfo = CanonicalizationMethod, SignatureMethod, exactly one Reference.
    let info = element_children(signed_info)?;
    let c14n_method = expect_ds(info.first(), "CanonicalizationMethod", "ds:SignedInfo")?;
    let method = algorithm_of(c14n_method)?;
    if method != EXC_C14N {
        return Err(DsigError::DisallowedCanonicalization(method.to_string()));
    }
    let signed_info_prefixes = inclusive_prefixes(c14n_method)?;
    let sig_method = expect_ds(info.get(1), "SignatureMethod", "ds:SignedInfo")?;
    let algorithm = options.algorithms.signature_algorithm(algorithm_of(sig_method)?)?;
    let references: Vec<&Element<'d>> = info.iter().skip(2).collect();
    let reference = match references.as_slice() {
        [one] => expect_ds(Some(*one), "Reference", "ds:SignedInfo")?,
        [] => return Err(malformed("ds:SignedInfo has no ds:Reference")),
        many => return Err(malformed(format!("ds:SignedInfo has {} references; exactly one is allowed", many.len()))),
    };

    let uri = reference.attr("URI").unwrap_or("");
    let expected_uri = format!("#{id}");
    if uri != expected_uri {
        return Err(DsigError::ReferenceMismatch { expected: id.to_string(), found: uri.to_string() });
    }

    // ds:Reference = Transforms (enveloped, exc-c14n), DigestMethod, DigestValue.
    let ref_parts = element_children(reference)?;
    let transforms = expect_ds(ref_parts.first(), "Transforms", "ds:Reference")?;
    let transform_list: Vec<Element<'d>> = element_children(transforms)?;
    let uris: Vec<&str> = transform_list.iter().map(|t| t.attr("Algorithm").unwrap_or("?")).collect();
    let all_transforms = transform_list.iter().all(|t| t.is(DSIG_NS, "Transform"));
    if !all_transforms || uris != [ENVELOPED_SIGNATURE, EXC_C14N] {
        return Err(DsigError::DisallowedTransforms { found: uris.join(", ") });
    }
    if let Some(enveloped) = transform_list.first()
        && !element_children(*enveloped)?.is_empty()
    {
        return Err(malformed("the enveloped-signature transform takes no parameters"));
    }
    let reference_prefixes = match transform_list.get(1) {
        Some(t) => inclusive_prefixes(*t)?,
        None => Vec::new(),
    };
    let digest_method = expect_ds(ref_parts.get(1), "DigestMethod", "ds:Reference")?;
    let digest_algorithm = options.algorithms.digest_algorithm(algorithm_of(digest_method)?)?;
    let digest_value = expect_ds(ref_parts.get(2), "DigestValue", "ds:Reference")?;
    if let Some(extra) = ref_parts.get(3) {
        return Err(malformed(format!("unexpected <{}> in ds:Reference", extra.qualified_name())));
    }
    let expected_digest =
        decode_base64(digest_value.text()?).map_err(|_| DsigError::Base64("DigestValue".to_string()))?;
    let signature_bytes =
        decode_base64(signature_value.text()?).map_err(|_| DsigError::Base64("SignatureValue".to_string()))?;

    // Keys come from configuration only; a certificate in the message may only choose one.
    let candidates: Vec<usize> = match key_info.and_then(embedded_certificate) {
        Some(text) => {
            let der = decode_base64(text?).map_err(|_| DsigError::Base64("X509Certificate".to_string()))?;
            match trusted.iter().position(|c| c.der() == der.as_slice()) {
                Some(i) => vec![i],
                None => return Err(DsigError::UntrustedCertificate),
            }
        }
        None => (0..trusted.len()).collect(),
    };

    let mut buffer = Vec::with_capacity(8192);
    let options_ref = C14nOptions { exclude: Some(signature.id()), inclusive_prefixes: &reference_prefixes };
    canonicalize(doc, element, &options_ref, &mut buffer);
    let actual_digest = digest_algorithm.digest(&buffer);
    if actual_digest.as_ref() != expected_digest.as_slice() {
        return Err(DsigError::DigestMismatch);
    }

    buffer.clear();
    let options_info = C14nOptions { exclude: None, inclusive_prefixes: &signed_info_prefixes };
    canonicalize(doc, signed_info.id(), &options_info, &mut buffer);
    let verified_by = candidates
        .into_iter()
        .find(|&i| trusted.get(i).is_some_and(|c| c.verify(algorithm, &buffer, &signature_bytes)));
    match verified_by {
        Some(certificate) => Ok(VerifiedElement { element: target, signature: signature.id(), certificate, algorithm }),
        None => Err(DsigError::BadSignature),
    }
}

/// The text of KeyInfo/X509Data/X509Certificate, if the signer included one.
fn embedded_certificate<'d>(key_info: Element<'d>) -> Option<Result<&'d str, XmlError>> {
    let cert = key_info.child(DSIG_NS, "X509Data")?.child(DSIG_NS, "X509Certificate")?;
    Some(cert.text())
}
