//! Responses as the IdP builds them, written directly in canonical form: every signed element's
//! bytes are its canonical form, xmlsec1 (an independent XML-DSig implementation) verifies their
//! signatures, and values XML cannot carry are refused rather than written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_saml::{Attribute, NameId, ResponseSpec, SignedParts, Timestamp, build_response, ns};
use crossfed_testkit::{temp_dir, xmlsec1_verify};
use crossfed_xml::{C14nOptions, XmlError, canonicalize_to_vec, parse};
use crossfed_xmldsig::{DsigError, SigningKey, VerifyOptions, verify_enveloped};

/// Values that exercise every escape of canonical XML, and characters beyond ASCII.
const ODD: &str = "quote \" apostrophe ' amp & lt < gt > tab\there LF\nCR\r Zoë 東京 😀";

fn spec(signed_parts: SignedParts) -> ResponseSpec {
    let now = Timestamp::parse("2026-11-25T10:00:00Z").unwrap();
    ResponseSpec {
        issuer: "https://hub.example.com/saml/apps/connect".into(),
        destination: "https://signin.aws.amazon.com/saml?a=1&b=2".into(),
        audiences: vec!["urn:amazon:webservices".into(), ODD.into()],
        in_response_to: Some("_request-1".into()),
        name_id: NameId {
            value: ODD.into(),
            format: Some(ns::NAMEID_EMAIL.into()),
            name_qualifier: Some("corp & co".into()),
            sp_name_qualifier: None,
        },
        session_index: "_session".into(),
        authn_instant: now.minus_seconds(30),
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
        attributes: vec![
            Attribute::uri("https://aws.amazon.com/SAML/Attributes/RoleSessionName", vec![ODD.into()]),
            Attribute {
                name: "groups".into(),
                name_format: None,
                friendly_name: Some("Groups \"all\"".into()),
                values: vec!["a".into(), "".into(), ODD.into()],
            },
        ],
        lifetime_seconds: 300,
        not_before_skew_seconds: 60,
        session_not_on_or_after: Some(now.plus_seconds(3600)),
        signed_parts,
    }
}

fn key() -> SigningKey {
    SigningKey::generate_rsa("built responses", crossfed_clock::Clock::system().now(), 30).unwrap()
}

#[test]
fn each_signed_element_is_written_as_its_canonical_form_and_verifies() {
    let key = key();
    let now = Timestamp::parse("2026-11-25T10:00:00Z").unwrap();
    for parts in [SignedParts::Assertion, SignedParts::Response, SignedParts::Both] {
        let built = build_response(&spec(parts), now, &key).unwrap();
        let doc = parse(built.xml.as_bytes()).unwrap();
        let root = doc.root_element();
        let assertion = doc.descendants().find(|e| e.is(ns::ASSERTION, "Assertion")).unwrap();
        assert_eq!(root.attr("ID"), Some(built.response_id.as_str()));
        assert_eq!(assertion.attr("ID"), Some(built.assertion_id.as_str()));
        // The whole Response, as written, is its own canonical form (after the declaration).
        let canonical = canonicalize_to_vec(&doc, root.id(), &C14nOptions::default());
        assert_eq!(canonical, built.xml.as_bytes()[crossfed_xml::XML_DECLARATION.len()..], "{parts:?}");
        let certificates = [key.certificate().clone()];
        for (element, signed) in [
            (assertion.id(), matches!(parts, SignedParts::Assertion | SignedParts::Both)),
            (root.id(), matches!(parts, SignedParts::Response | SignedParts::Both)),
        ] {
            let verified = verify_enveloped(&doc, element, &certificates, &VerifyOptions::default());
            if signed {
                assert!(verified.is_ok(), "{parts:?}: {verified:?}");
            } else {
                assert!(matches!(verified, Err(DsigError::NotSigned { .. })), "{parts:?}: {verified:?}");
            }
        }
        // The values come back exactly.
        let name_id = assertion.descendants().find(|e| e.is(ns::ASSERTION, "NameID")).unwrap();
        assert_eq!(name_id.text(), Ok(ODD));
        assert_eq!(name_id.attr("NameQualifier"), Some("corp & co"));
        let values: Vec<&str> = assertion
            .descendants()
            .filter(|e| e.is(ns::ASSERTION, "AttributeValue"))
            .map(|e| e.text().unwrap())
            .collect();
        assert_eq!(values, [ODD, "a", "", ODD]);
    }
}

#[test]
fn xmlsec1_verifies_the_built_responses() {
    let key = key();
    let dir = temp_dir();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, key.certificate().to_pem()).unwrap();
    let now = Timestamp::parse("2026-11-25T10:00:00Z").unwrap();
    // xmlsec1 checks the first signature of the document: the assertion's when only it is
    // signed, the Response's (which covers the assertion and its signature) otherwise.
    for parts in [SignedParts::Assertion, SignedParts::Response, SignedParts::Both] {
        let built = build_response(&spec(parts), now, &key).unwrap();
        let verify = |xml: &str| {
            let file = dir.path().join("response.xml");
            std::fs::write(&file, xml).unwrap();
            let id_nodes =
                ["urn:oasis:names:tc:SAML:2.0:assertion:Assertion", "urn:oasis:names:tc:SAML:2.0:protocol:Response"];
            xmlsec1_verify(&cert, &id_nodes, &file)
        };
        let out = verify(&built.xml);
        assert!(out.status.success(), "{parts:?}: {}\n{}", String::from_utf8_lossy(&out.stderr), built.xml);
        let tampered = built.xml.replacen("Zoë", "Zoe", 1);
        assert!(!verify(&tampered).status.success(), "{parts:?}: xmlsec1 accepted a changed NameID");
    }
}

#[test]
fn a_value_xml_cannot_carry_is_refused() {
    let key = key();
    let now = Timestamp::parse("2026-11-25T10:00:00Z").unwrap();
    let mut with_control = spec(SignedParts::Assertion);
    with_control.attributes[0].values = vec!["bell \u{7}".into()];
    assert!(matches!(
        build_response(&with_control, now, &key),
        Err(DsigError::Xml(XmlError::InvalidCharacter { code: 7 }))
    ));
    let mut in_attribute = spec(SignedParts::Response);
    in_attribute.name_id.format = Some("\u{FFFF}".into());
    assert!(matches!(
        build_response(&in_attribute, now, &key),
        Err(DsigError::Xml(XmlError::InvalidCharacter { code: 0xFFFF }))
    ));
}
