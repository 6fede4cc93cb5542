//! Signing and the verifier's refusals, one rule at a time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use crossfed_xml::{Document, NodeId, parse, to_xml};
use crossfed_xmldsig::{
    AlgorithmPolicy, Certificate, DsigError, SignOptions, SigningKey, VerifyOptions, sign_enveloped, verify_enveloped,
};

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate_rsa("test signer", crossfed_clock::Clock::system().now(), 30).unwrap())
}

fn other_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate_rsa("attacker", crossfed_clock::Clock::system().now(), 30).unwrap())
}

const ASSERTION: &str = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject><saml:NameID>alice@example.com</saml:NameID></saml:Subject></saml:Assertion>"#;

fn signed(xml: &str, key: &SigningKey) -> String {
    let mut doc = parse(xml.as_bytes()).unwrap();
    let root = doc.root();
    sign_enveloped(&mut doc, root, key, &SignOptions::default()).unwrap();
    to_xml(&doc)
}

fn verify_root(xml: &str, trusted: &[Certificate]) -> Result<String, DsigError> {
    let doc = parse(xml.as_bytes()).map_err(DsigError::Xml)?;
    let verified = verify_enveloped(&doc, doc.root(), trusted, &VerifyOptions::default())?;
    let name_id = verified
        .view()
        .child("urn:oasis:names:tc:SAML:2.0:assertion", "Subject")
        .and_then(|s| s.child("urn:oasis:names:tc:SAML:2.0:assertion", "NameID"))
        .map(|n| n.text().unwrap().to_string())
        .unwrap_or_default();
    Ok(name_id)
}

fn trusted() -> Vec<Certificate> {
    vec![key().certificate().clone()]
}

#[test]
fn signature_goes_after_issuer_and_verifies() {
    let xml = signed(ASSERTION, key());
    let doc = parse(xml.as_bytes()).unwrap();
    let children: Vec<_> = doc.root_element().child_elements().map(|e| e.local_name()).collect();
    assert_eq!(children, ["Issuer", "Signature", "Subject"]);
    assert_eq!(verify_root(&xml, &trusted()).unwrap(), "alice@example.com");
}

#[test]
fn tampered_content_fails_the_digest() {
    let xml = signed(ASSERTION, key()).replace("alice@example.com", "admin@example.com");
    assert_eq!(verify_root(&xml, &trusted()).unwrap_err(), DsigError::DigestMismatch);
}

#[test]
fn certificate_in_keyinfo_only_selects_among_configured_ones() {
    // Signed by an attacker who embeds their own certificate: refused before any crypto.
    let xml = signed(ASSERTION, other_key());
    assert_eq!(verify_root(&xml, &trusted()).unwrap_err(), DsigError::UntrustedCertificate);
    // Without KeyInfo, every configured key is tried and none verifies.
    let mut doc = parse(ASSERTION.as_bytes()).unwrap();
    let root = doc.root();
    let options = SignOptions { include_certificate: false, ..SignOptions::default() };
    sign_enveloped(&mut doc, root, other_key(), &options).unwrap();
    assert_eq!(verify_root(&to_xml(&doc), &trusted()).unwrap_err(), DsigError::BadSignature);
    // Rollover: the right key among several configured ones is found.
    let both = vec![other_key().certificate().clone(), key().certificate().clone()];
    let xml = signed(ASSERTION, key());
    let doc = parse(xml.as_bytes()).unwrap();
    let verified = verify_enveloped(&doc, doc.root(), &both, &VerifyOptions::default()).unwrap();
    assert_eq!(verified.certificate_index(), 1);
}

#[test]
fn unsigned_and_doubly_signed_elements_are_refused() {
    assert!(matches!(verify_root(ASSERTION, &trusted()).unwrap_err(), DsigError::NotSigned { .. }));
    let xml = signed(ASSERTION, key());
    let doc = parse(xml.as_bytes()).unwrap();
    let sig = doc.descendants().find(|e| e.local_name() == "Signature").unwrap();
    let sig_xml = crossfed_xml::element_to_xml(&doc, sig.id());
    let doubled = xml.replace("</saml:Assertion>", &format!("{sig_xml}</saml:Assertion>"));
    assert!(matches!(verify_root(&doubled, &trusted()).unwrap_err(), DsigError::MultipleSignatures { count: 2, .. }));
}

#[test]
fn duplicate_ids_are_refused() {
    let xml = signed(ASSERTION, key()).replace("<saml:Subject>", "<saml:Subject><saml:Extra ID=\"_a1\"/>");
    assert_eq!(verify_root(&xml, &trusted()).unwrap_err(), DsigError::DuplicateId { id: "_a1".into() });
}

#[test]
fn reference_must_point_at_the_signed_element() {
    // The signature of one element moved onto another (signature-wrapping shape).
    let xml = signed(ASSERTION, key()).replace("ID=\"_a1\"", "ID=\"_evil\"");
    assert_eq!(
        verify_root(&xml, &trusted()).unwrap_err(),
        DsigError::ReferenceMismatch { expected: "_evil".into(), found: "#_a1".into() }
    );
    let xml = signed(ASSERTION, key()).replace("URI=\"#_a1\"", "URI=\"\"");
    assert!(matches!(verify_root(&xml, &trusted()).unwrap_err(), DsigError::ReferenceMismatch { .. }));
}

#[test]
fn transforms_are_exactly_enveloped_then_exc_c14n() {
    let base = signed(ASSERTION, key());
    let xpath = base.replace(
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>",
    );
    assert!(matches!(verify_root(&xpath, &trusted()).unwrap_err(), DsigError::DisallowedTransforms { .. }));
    let only_enveloped = base.replace("<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>", "");
    assert!(matches!(verify_root(&only_enveloped, &trusted()).unwrap_err(), DsigError::DisallowedTransforms { .. }));
    let inclusive = base.replace(
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
    );
    assert!(matches!(verify_root(&inclusive, &trusted()).unwrap_err(), DsigError::DisallowedCanonicalization(_)));
}

#[test]
fn weak_algorithms_are_refused_unless_enabled() {
    let base = signed(ASSERTION, key());
    let sha1 =
        base.replace("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
    assert!(matches!(verify_root(&sha1, &trusted()).unwrap_err(), DsigError::WeakAlgorithm { .. }));
    let hmac = base
        .replace("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2000/09/xmldsig#hmac-sha1");
    assert!(matches!(verify_root(&hmac, &trusted()).unwrap_err(), DsigError::WeakAlgorithm { .. }));
    let sha1_digest = base.replace("http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2000/09/xmldsig#sha1");
    assert!(matches!(verify_root(&sha1_digest, &trusted()).unwrap_err(), DsigError::WeakAlgorithm { .. }));
    // With SHA-1 enabled the algorithm is accepted, and the (now wrong) signature is what fails.
    let doc = parse(sha1.as_bytes()).unwrap();
    let options = VerifyOptions { algorithms: AlgorithmPolicy { allow_sha1: true }, ..VerifyOptions::default() };
    assert_eq!(verify_enveloped(&doc, doc.root(), &trusted(), &options).unwrap_err(), DsigError::BadSignature);
}

#[test]
fn ecdsa_and_rsa_sha512_keys_round_trip() {
    let ec = SigningKey::generate_ecdsa_p256("ec signer", crossfed_clock::Clock::system().now(), 30).unwrap();
    let xml = signed(ASSERTION, &ec);
    assert!(xml.contains("ecdsa-sha256"));
    assert_eq!(verify_root(&xml, &[ec.certificate().clone()]).unwrap(), "alice@example.com");
    let rsa512 =
        SigningKey::generate_rsa("rsa512", crossfed_clock::Clock::system().now(), 30).unwrap().with_rsa_sha512();
    let xml = signed(ASSERTION, &rsa512);
    assert!(xml.contains("rsa-sha512"));
    assert_eq!(verify_root(&xml, &[rsa512.certificate().clone()]).unwrap(), "alice@example.com");
}

#[test]
fn keys_round_trip_through_pem() {
    let pem_key = key().private_key_pem();
    let pem_cert = key().certificate().to_pem();
    let loaded = SigningKey::from_pem(pem_key.as_bytes(), pem_cert.as_bytes()).unwrap();
    let xml = signed(ASSERTION, &loaded);
    assert!(verify_root(&xml, &trusted()).is_ok());
    let mismatch = SigningKey::from_pem(pem_key.as_bytes(), other_key().certificate().to_pem().as_bytes());
    assert!(matches!(mismatch.unwrap_err(), DsigError::Key(_)));
}

#[test]
fn nested_signed_element_verifies_in_context() {
    let response = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1"><saml:Issuer>https://idp.example.com</saml:Issuer>{}</samlp:Response>"#,
        ASSERTION.replace(" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"", "")
    );
    let mut doc: Document = parse(response.as_bytes()).unwrap();
    let assertion: NodeId = doc.descendants().find(|e| e.local_name() == "Assertion").unwrap().id();
    sign_enveloped(&mut doc, assertion, key(), &SignOptions::default()).unwrap();
    let root = doc.root();
    sign_enveloped(&mut doc, root, key(), &SignOptions::default()).unwrap();
    let xml = to_xml(&doc);
    let doc = parse(xml.as_bytes()).unwrap();
    let assertion = doc.descendants().find(|e| e.local_name() == "Assertion").unwrap().id();
    verify_enveloped(&doc, assertion, &trusted(), &VerifyOptions::default()).unwrap();
    verify_enveloped(&doc, doc.root(), &trusted(), &VerifyOptions::default()).unwrap();
}
