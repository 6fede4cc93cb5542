//! The Redirect and POST bindings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_saml::{BindingError, MessageKind, decode_redirect, redirect_query};
use crossfed_saml::{MAX_MESSAGE_BYTES, inflate_bounded};
use crossfed_xmldsig::{AlgorithmPolicy, DsigError, SigningKey};

const XML: &str = "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_1\"/>";

#[test]
fn redirect_round_trip_unsigned_and_signed() {
    let query = redirect_query(MessageKind::Request, XML, Some("https://app/ä?x=1&y"), None).unwrap();
    let message = decode_redirect(&query).unwrap();
    assert_eq!(message.xml, XML.as_bytes());
    assert_eq!(message.relay_state.as_deref(), Some("https://app/ä?x=1&y"));
    assert!(!message.is_signed());

    let key = SigningKey::generate_rsa("sp", crossfed_clock::Clock::system().now(), 30).unwrap();
    let query = redirect_query(MessageKind::Request, XML, Some("state"), Some(&key)).unwrap();
    let message = decode_redirect(&query).unwrap();
    assert_eq!(message.verify(&[key.certificate().clone()], &AlgorithmPolicy::default()).unwrap(), 0);

    // The signature covers the exact bytes: a changed RelayState fails.
    let tampered = query.replace("RelayState=state", "RelayState=other");
    let message = decode_redirect(&tampered).unwrap();
    assert_eq!(
        message.verify(&[key.certificate().clone()], &AlgorithmPolicy::default()).unwrap_err(),
        BindingError::Signature(DsigError::BadSignature)
    );
}

#[test]
fn deflate_bombs_are_bounded() {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![b'a'; MAX_MESSAGE_BYTES * 8]).unwrap();
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 10_000);
    assert_eq!(inflate_bounded(&bomb).unwrap_err(), BindingError::TooLarge { limit: MAX_MESSAGE_BYTES });
}

#[test]
fn malformed_queries_are_refused() {
    assert!(matches!(decode_redirect("RelayState=x").unwrap_err(), BindingError::MissingParameter(_)));
    assert_eq!(decode_redirect("SAMLRequest=%%%").unwrap_err(), BindingError::Base64("the message"));
    let valid = redirect_query(MessageKind::Request, XML, None, None).unwrap();
    assert_eq!(
        decode_redirect(&format!("{valid}&RelayState=%FF")).unwrap_err(),
        BindingError::PercentEncoding("RelayState")
    );
    assert_eq!(
        decode_redirect("SAMLRequest=AAAA&SAMLRequest=AAAA").unwrap_err(),
        BindingError::DuplicateParameter("SAMLRequest".into())
    );
    assert_eq!(decode_redirect("SAMLRequest=AAAA&SAMLResponse=AAAA").unwrap_err(), BindingError::BothMessages);
    let query = redirect_query(MessageKind::Request, XML, None, None).unwrap();
    assert_eq!(decode_redirect(&format!("{query}&SigAlg=x")).unwrap_err(), BindingError::IncompleteSignature);
}
