//! AuthnRequest and Logout messages: build, sign, parse, and refuse what was tampered with.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_saml::{
    AuthnRequestSpec, NameId, RequestError, Timestamp, build_authn_request, build_logout_request,
    build_logout_response, ns, parse_authn_request, parse_logout_request, parse_logout_response,
};
use crossfed_xmldsig::{DsigError, SigningKey};

fn now() -> Timestamp {
    Timestamp::parse("2026-11-25T10:00:00Z").unwrap()
}

#[test]
fn authn_request_round_trip_signed() {
    let key = SigningKey::generate_rsa("sp", crossfed_clock::Clock::system().now(), 30).unwrap();
    let spec = AuthnRequestSpec {
        issuer: "https://hub.example.com/sp".into(),
        destination: "https://corp.example.com/sso".into(),
        acs_url: "https://hub.example.com/acs".into(),
        protocol_binding: ns::BINDING_HTTP_POST.into(),
        name_id_format: Some(ns::NAMEID_PERSISTENT.into()),
        force_authn: true,
    };
    let (id, xml) = build_authn_request(&spec, now(), Some(&key)).unwrap();
    let parsed = parse_authn_request(xml.as_bytes(), Some(&[key.certificate().clone()])).unwrap();
    assert_eq!(parsed.id, id);
    assert_eq!(parsed.issuer, spec.issuer);
    assert_eq!(parsed.acs_url.as_deref(), Some("https://hub.example.com/acs"));
    assert_eq!(parsed.name_id_format.as_deref(), Some(ns::NAMEID_PERSISTENT));
    assert!(parsed.force_authn && parsed.xml_signed && !parsed.is_passive);

    let tampered = xml.replace("https://hub.example.com/acs", "https://evil.example.com/acs");
    assert_eq!(
        parse_authn_request(tampered.as_bytes(), Some(&[key.certificate().clone()])).unwrap_err(),
        RequestError::Signature(DsigError::DigestMismatch)
    );
    // Read unsigned, the same request parses (the caller then checks the Redirect signature).
    assert!(!parse_authn_request(xml.as_bytes(), None).unwrap().xml_signed);
}

#[test]
fn logout_request_and_response_round_trip() {
    let key = SigningKey::generate_rsa("hub", crossfed_clock::Clock::system().now(), 30).unwrap();
    let name_id =
        NameId { value: "alice@example.com".into(), format: Some(ns::NAMEID_EMAIL.into()), ..NameId::default() };
    let (id, xml) = build_logout_request(
        "https://hub.example.com/sp",
        "https://corp.example.com/slo",
        &name_id,
        Some("_s1"),
        now(),
        Some(&key),
    )
    .unwrap();
    let request = parse_logout_request(xml.as_bytes(), Some(&[key.certificate().clone()])).unwrap();
    assert_eq!(request.id, id);
    assert_eq!(request.name_id, name_id);
    assert_eq!(request.session_indexes, ["_s1"]);

    let (_, xml) = build_logout_response(
        "https://corp.example.com/idp",
        "https://hub.example.com/slo",
        &id,
        ns::STATUS_SUCCESS,
        now(),
        None,
    )
    .unwrap();
    let response = parse_logout_response(xml.as_bytes(), None).unwrap();
    assert!(response.is_success());
    assert_eq!(response.in_response_to.as_deref(), Some(id.as_str()));
    assert!(matches!(
        parse_logout_response(xml.as_bytes(), Some(&[key.certificate().clone()])).unwrap_err(),
        RequestError::Signature(DsigError::NotSigned { .. })
    ));
    assert!(matches!(parse_logout_request(xml.as_bytes(), None).unwrap_err(), RequestError::WrongElement { .. }));
}

#[test]
fn logout_request_identity_values_are_taken_exactly_as_sent() {
    let padded = NameId { value: " alice@example.com ".into(), ..NameId::default() };
    let (_, xml) =
        build_logout_request("https://hub.example.com/sp", "https://corp.example.com/slo", &padded, None, now(), None)
            .unwrap();
    assert_eq!(
        parse_logout_request(xml.as_bytes(), None).unwrap_err().to_string(),
        "NameID \" alice@example.com \" has surrounding whitespace; identity values are taken exactly as signed, so expected a value without it"
    );
    let name_id = NameId { value: "alice@example.com".into(), ..NameId::default() };
    let (_, xml) = build_logout_request(
        "https://hub.example.com/sp",
        "https://corp.example.com/slo",
        &name_id,
        Some("_s1\n"),
        now(),
        None,
    )
    .unwrap();
    assert!(
        parse_logout_request(xml.as_bytes(), None)
            .unwrap_err()
            .to_string()
            .starts_with("SessionIndex \"_s1\\n\" has surrounding whitespace"),
    );
    let (_, xml) = build_logout_request(
        " https://hub.example.com/sp",
        "https://corp.example.com/slo",
        &name_id,
        None,
        now(),
        None,
    )
    .unwrap();
    assert!(
        parse_logout_request(xml.as_bytes(), None)
            .unwrap_err()
            .to_string()
            .starts_with("Issuer \" https://hub.example.com/sp\" has surrounding whitespace"),
    );
}
