//! SP-side validation at fixed times: acceptance, and each refusal with its own error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use crossfed_saml::{
    Attribute, MemoryReplayCache, NameId, ResponseSpec, SignatureRequirement, SignedParts, SpPolicy, Timestamp,
    ValidationError, build_response, ns, validate_response,
};
use crossfed_xml::{Document, QualifiedName};
use crossfed_xmldsig::{Certificate, DSIG_NS, DsigError, SignOptions, SigningKey, sign_enveloped};

const IDP: &str = "https://corp.example.com/saml/idp";
const SP: &str = "https://hub.example.com/saml/sp";
const ACS: &str = "https://hub.example.com/saml/acs";
const REQUEST_ID: &str = "_req1";

fn idp_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate_rsa("corp idp", crossfed_clock::Clock::system().now(), 30).unwrap())
}

fn attacker_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate_rsa("attacker", crossfed_clock::Clock::system().now(), 30).unwrap())
}

fn t0() -> Timestamp {
    Timestamp::parse("2026-11-25T10:00:00Z").unwrap()
}

fn spec() -> ResponseSpec {
    ResponseSpec {
        issuer: IDP.to_string(),
        destination: ACS.to_string(),
        audiences: vec![SP.to_string()],
        in_response_to: Some(REQUEST_ID.to_string()),
        name_id: NameId {
            value: "alice@example.com".into(),
            format: Some(ns::NAMEID_EMAIL.into()),
            ..NameId::default()
        },
        session_index: "_s1".into(),
        authn_instant: t0(),
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
        attributes: vec![
            Attribute::uri("email", vec!["alice@example.com".into()]),
            Attribute::uri("groups", vec!["agents".into(), "supervisors".into()]),
        ],
        lifetime_seconds: 300,
        not_before_skew_seconds: 0,
        session_not_on_or_after: None,
        signed_parts: SignedParts::Assertion,
    }
}

fn certs() -> Vec<Certificate> {
    vec![idp_key().certificate().clone()]
}

fn validate(xml: &str, request_id: Option<&str>, now: Timestamp) -> Result<crossfed_saml::Accepted, ValidationError> {
    let certs = certs();
    let policy = SpPolicy::new(SP, ACS, IDP, &certs);
    validate_response(xml.as_bytes(), &policy, request_id, now, &MemoryReplayCache::default())
}

fn built(spec: &ResponseSpec) -> String {
    build_response(spec, t0(), idp_key()).unwrap().xml
}

#[test]
fn accepts_a_good_response_with_every_signing_choice() {
    for parts in [SignedParts::Assertion, SignedParts::Response, SignedParts::Both] {
        let xml = built(&ResponseSpec { signed_parts: parts, ..spec() });
        let accepted = validate(&xml, Some(REQUEST_ID), t0().plus_seconds(5)).unwrap();
        assert_eq!(accepted.name_id.value, "alice@example.com");
        assert_eq!(accepted.attribute("groups").unwrap(), ["agents", "supervisors"]);
        assert_eq!(accepted.session_index.as_deref(), Some("_s1"));
        assert_eq!(accepted.assertion_signed, parts != SignedParts::Response);
        assert_eq!(accepted.response_signed, parts != SignedParts::Assertion);
    }
}

#[test]
fn tampered_name_id_is_refused() {
    let xml = built(&spec()).replace("alice@example.com</saml:NameID>", "admin@example.com</saml:NameID>");
    assert_eq!(
        validate(&xml, Some(REQUEST_ID), t0()).unwrap_err(),
        ValidationError::AssertionSignature(DsigError::DigestMismatch)
    );
}

#[test]
fn wrong_key_is_refused() {
    let xml = build_response(&spec(), t0(), attacker_key()).unwrap().xml;
    assert_eq!(
        validate(&xml, Some(REQUEST_ID), t0()).unwrap_err(),
        ValidationError::AssertionSignature(DsigError::UntrustedCertificate)
    );
}

#[test]
fn unsigned_response_is_refused() {
    let xml = built(&spec());
    let doc = crossfed_xml::parse(xml.as_bytes()).unwrap();
    let sig = doc.descendants().find(|e| e.local_name() == "Signature").unwrap();
    // The IdP writes canonical XML, so the signature's canonical form is its text.
    let sig_xml = crossfed_xml::canonicalize_to_vec(&doc, sig.id(), &crossfed_xml::C14nOptions::default());
    let unsigned = xml.replace(std::str::from_utf8(&sig_xml).unwrap(), "");
    assert!(!unsigned.contains("Signature"));
    assert_eq!(
        validate(&unsigned, Some(REQUEST_ID), t0()).unwrap_err(),
        ValidationError::Unsigned { required: SignatureRequirement::AssertionCovered }
    );
}

#[test]
fn wrong_audience_recipient_destination_and_issuer_are_refused() {
    let xml = built(&ResponseSpec { audiences: vec!["https://other.example.com".into()], ..spec() });
    assert!(matches!(validate(&xml, Some(REQUEST_ID), t0()).unwrap_err(), ValidationError::Audience { .. }));
    let xml = built(&ResponseSpec { destination: "https://evil.example.com/acs".into(), ..spec() });
    assert!(matches!(validate(&xml, Some(REQUEST_ID), t0()).unwrap_err(), ValidationError::Destination { .. }));
    let xml = built(&ResponseSpec { issuer: "https://other-idp.example.com".into(), ..spec() });
    assert!(matches!(validate(&xml, Some(REQUEST_ID), t0()).unwrap_err(), ValidationError::Issuer { .. }));
}

#[test]
fn times_are_checked_with_skew() {
    let xml = built(&spec());
    // 300 s lifetime + 120 s skew: fine at 400 s, expired at 420 s.
    assert!(validate(&xml, Some(REQUEST_ID), t0().plus_seconds(400)).is_ok());
    assert!(matches!(
        validate(&xml, Some(REQUEST_ID), t0().plus_seconds(420)).unwrap_err(),
        ValidationError::ConfirmationExpired { .. }
    ));
    // Issued in the future beyond the skew.
    assert!(matches!(
        validate(&xml, Some(REQUEST_ID), t0().minus_seconds(121)).unwrap_err(),
        ValidationError::NotYetValid { .. }
    ));
}

#[test]
fn in_response_to_and_unsolicited() {
    let xml = built(&spec());
    assert!(matches!(validate(&xml, Some("_other"), t0()).unwrap_err(), ValidationError::InResponseTo { .. }));
    assert!(matches!(validate(&xml, None, t0()).unwrap_err(), ValidationError::UnexpectedInResponseTo { .. }));
    let unsolicited = built(&ResponseSpec { in_response_to: None, ..spec() });
    assert_eq!(validate(&unsolicited, None, t0()).unwrap_err(), ValidationError::Unsolicited);
    let certs = certs();
    let mut policy = SpPolicy::new(SP, ACS, IDP, &certs);
    policy.allow_unsolicited = true;
    assert!(validate_with(&unsolicited, &policy, None).is_ok());
}

fn validate_with(
    xml: &str,
    policy: &SpPolicy<'_>,
    request_id: Option<&str>,
) -> Result<crossfed_saml::Accepted, ValidationError> {
    validate_response(xml.as_bytes(), policy, request_id, t0(), &MemoryReplayCache::default())
}

#[test]
fn replay_is_refused() {
    let xml = built(&spec());
    let certs = certs();
    let policy = SpPolicy::new(SP, ACS, IDP, &certs);
    let cache = MemoryReplayCache::default();
    validate_response(xml.as_bytes(), &policy, Some(REQUEST_ID), t0(), &cache).unwrap();
    assert!(matches!(
        validate_response(xml.as_bytes(), &policy, Some(REQUEST_ID), t0(), &cache).unwrap_err(),
        ValidationError::Replay { .. }
    ));
}

#[test]
fn signature_policy_is_enforced() {
    let xml = built(&ResponseSpec { signed_parts: SignedParts::Response, ..spec() });
    let certs = certs();
    let mut policy = SpPolicy::new(SP, ACS, IDP, &certs);
    policy.signatures = SignatureRequirement::AssertionSigned;
    assert!(matches!(
        validate_with(&xml, &policy, Some(REQUEST_ID)).unwrap_err(),
        ValidationError::AssertionNotSigned { .. }
    ));
    let xml = built(&spec());
    policy.signatures = SignatureRequirement::ResponseSigned;
    assert!(matches!(
        validate_with(&xml, &policy, Some(REQUEST_ID)).unwrap_err(),
        ValidationError::ResponseNotSigned { .. }
    ));
}

#[test]
fn non_success_status_is_reported() {
    let xml = built(&spec()).replace(ns::STATUS_SUCCESS, ns::STATUS_RESPONDER);
    assert!(matches!(validate(&xml, Some(REQUEST_ID), t0()).unwrap_err(), ValidationError::Status { .. }));
}

#[test]
fn comment_in_name_id_is_refused() {
    // Even when the comment sits in a signed NameID (c14n drops comments, so the signature
    // still verifies), the value is refused rather than truncated.
    let xml =
        built(&spec()).replace("alice@example.com</saml:NameID>", "alice@example.com<!---->.evil.com</saml:NameID>");
    let err = validate(&xml, Some(REQUEST_ID), t0()).unwrap_err();
    assert!(
        matches!(err, ValidationError::AssertionSignature(DsigError::DigestMismatch) | ValidationError::Xml(_)),
        "{err:?}"
    );
}

#[test]
fn second_assertion_is_refused() {
    let xml = built(&spec());
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let assertion = &xml[start..end];
    let doubled = xml.replacen(assertion, &format!("{assertion}{}", assertion.replace("ID=\"_", "ID=\"_x")), 1);
    assert!(matches!(
        validate(&doubled, Some(REQUEST_ID), t0()).unwrap_err(),
        ValidationError::AssertionCount { found: 2 }
    ));
}

#[test]
fn an_sp_with_several_endpoints_and_no_requests() {
    // AWS sign-in: several recipient URLs, two accepted audiences, never sends AuthnRequests.
    let regional = "https://us-east-1.signin.aws.amazon.com/saml".to_string();
    let xml = built(&ResponseSpec {
        destination: regional.clone(),
        audiences: vec!["urn:amazon:webservices".into()],
        in_response_to: Some("_whatever".into()),
        ..spec()
    });
    let certs = certs();
    let extra_audiences = vec!["urn:amazon:webservices".to_string()];
    let extra_acs = vec![regional.clone()];
    let mut policy = SpPolicy::new(SP, ACS, IDP, &certs);
    policy.extra_audiences = &extra_audiences;
    policy.extra_acs_urls = &extra_acs;
    policy.ignore_in_response_to = true;
    let accepted = validate_with(&xml, &policy, None).unwrap();
    assert_eq!(accepted.recipient, regional);
    // Without the extra endpoint the same response is for someone else.
    policy.extra_acs_urls = &[];
    assert!(matches!(validate_with(&xml, &policy, None).unwrap_err(), ValidationError::Destination { .. }));
}

// --- Identity values are taken exactly as signed; the Response follows the schema. -----------
// These compare the errors' messages, so they build (and fail) against a validator that trims
// identity values and skips what the schema does not allow.

/// What the IdP would sign: `xml` with its assertion changed by `edit` and signed again.
fn resigned(xml: &str, edit: impl FnOnce(&mut Document)) -> String {
    let mut doc = crossfed_xml::parse(xml.as_bytes()).unwrap();
    let assertion = doc.descendants().find(|e| e.is(ns::ASSERTION, "Assertion")).unwrap().id();
    let signature = doc.element(assertion).and_then(|a| a.child(DSIG_NS, "Signature")).unwrap().id();
    doc.detach(signature);
    edit(&mut doc);
    sign_enveloped(&mut doc, assertion, idp_key(), &SignOptions::default()).unwrap();
    crossfed_xml::to_xml(&doc)
}

fn first(doc: &Document, local: &str) -> crossfed_xml::NodeId {
    doc.descendants().find(|e| e.is(ns::ASSERTION, local)).unwrap().id()
}

fn refusal(xml: &str) -> String {
    match validate(xml, Some(REQUEST_ID), t0().plus_seconds(5)) {
        Ok(accepted) => panic!("accepted, as {:?}", accepted.name_id.value),
        Err(e) => e.to_string(),
    }
}

/// The XInclude namespace (`ns::XINCLUDE`), spelled out so these tests build without it.
const XINCLUDE: &str = "http://www.w3.org/2001/XInclude";

const SCHEMA_LEGEND: &str = "(saml = urn:oasis:names:tc:SAML:2.0:assertion, samlp = urn:oasis:names:tc:SAML:2.0:protocol, ds = http://www.w3.org/2000/09/xmldsig#)";

#[test]
fn a_signed_name_id_with_surrounding_whitespace_is_refused_not_trimmed() {
    for value in [" alice@example.com ", "alice@example.com\n", "\talice@example.com"] {
        let name_id = NameId { value: value.into(), ..spec().name_id };
        let xml = built(&ResponseSpec { name_id, ..spec() });
        assert_eq!(
            refusal(&xml),
            format!(
                "NameID {value:?} has surrounding whitespace; identity values are taken exactly as signed, so expected a value without it"
            )
        );
    }
}

#[test]
fn a_signed_issuer_with_surrounding_whitespace_is_refused_not_trimmed() {
    let padded = format!("{IDP}\n");
    let xml = built(&ResponseSpec { issuer: padded.clone(), ..spec() });
    assert!(refusal(&xml).starts_with(&format!("Issuer {padded:?} has surrounding whitespace")), "{}", refusal(&xml));
    // Only the assertion's Issuer padded (re-signed): refused there too.
    let xml = resigned(&built(&spec()), |doc| {
        let issuer = doc.descendants().filter(|e| e.is(ns::ASSERTION, "Issuer")).nth(1).unwrap().id();
        let replacement = doc.create_element(QualifiedName::new("saml", "Issuer", ns::ASSERTION));
        doc.append_text(replacement, &padded);
        doc.insert_after(issuer, replacement);
        doc.detach(issuer);
    });
    assert!(refusal(&xml).starts_with(&format!("Issuer {padded:?} has surrounding whitespace")), "{}", refusal(&xml));
}

#[test]
fn an_assertion_in_a_near_miss_namespace_beside_the_signed_one_is_refused() {
    for near_miss in [
        "urn:oasis:names:tc:SAML:2.0:assertion ",
        "urn:oasis:names:tc:SAML:2.0:Assertion",
        "urn:oasis:names:tc:SAML:1.0:assertion",
    ] {
        let beside = format!(
            "<saml:Assertion xmlns:saml=\"{near_miss}\" ID=\"_beside\" Version=\"2.0\"><saml:Subject><saml:NameID>admin@example.com</saml:NameID></saml:Subject></saml:Assertion>"
        );
        let xml = built(&spec()).replacen("</samlp:Response>", &format!("{beside}</samlp:Response>"), 1);
        assert_eq!(
            refusal(&xml),
            format!(
                "the response does not follow the SAML 2.0 schema: <saml:Assertion> in namespace {near_miss:?} is not \
                 allowed in <samlp:Response> here; the SAML 2.0 schema expects saml:Assertion, saml:EncryptedAssertion \
                 or the end of <samlp:Response> {SCHEMA_LEGEND}"
            )
        );
    }
}

#[test]
fn xinclude_is_refused_in_the_response_and_in_the_signed_assertion() {
    let include = format!("<xi:include xmlns:xi=\"{}\" href=\"file:///etc/passwd\"/>", XINCLUDE);
    let in_response = built(&spec()).replacen("<samlp:Status>", &format!("{include}<samlp:Status>"), 1);
    assert_eq!(
        refusal(&in_response),
        format!(
            "the response does not follow the SAML 2.0 schema: XInclude element <xi:include> (namespace \"{}\") in \
             <samlp:Response>; expected none: XInclude is refused in SAML messages, never processed",
            XINCLUDE
        )
    );
    let in_assertion = resigned(&built(&spec()), |doc| {
        let data = first(doc, "SubjectConfirmationData");
        let xi = doc.append_element(data, QualifiedName::new("xi", "include", XINCLUDE));
        doc.declare_namespace(xi, "xi", XINCLUDE).unwrap();
        doc.set_attribute(xi, QualifiedName::plain("href"), "file:///etc/passwd").unwrap();
    });
    assert!(refusal(&in_assertion).contains("XInclude element <xi:include>"), "{}", refusal(&in_assertion));
    assert!(refusal(&in_assertion).contains("in <saml:SubjectConfirmationData>"), "{}", refusal(&in_assertion));
}

#[test]
fn unknown_elements_in_subject_and_conditions_are_refused() {
    for (parent, expected) in [
        ("Subject", "saml:SubjectConfirmation or the end of <saml:Subject>"),
        (
            "Conditions",
            "saml:Condition, saml:AudienceRestriction, saml:OneTimeUse, saml:ProxyRestriction or the end of <saml:Conditions>",
        ),
    ] {
        let xml = resigned(&built(&spec()), |doc| {
            let at = first(doc, parent);
            let extra = doc.append_element(at, QualifiedName::new("ext", "Extra", "urn:example:ext"));
            doc.declare_namespace(extra, "ext", "urn:example:ext").unwrap();
        });
        assert_eq!(
            refusal(&xml),
            format!(
                "the response does not follow the SAML 2.0 schema: <ext:Extra> in namespace \"urn:example:ext\" is not \
                 allowed in <saml:{parent}> here; the SAML 2.0 schema expects {expected} {SCHEMA_LEGEND}"
            )
        );
    }
}

#[test]
fn what_the_schema_leaves_open_stays_open() {
    // Extensions and SubjectConfirmationData may carry elements of other namespaces; a Response
    // using both is accepted. (AttributeValue is open too, but values are read as text only.)
    let xml = resigned(&built(&spec()), |doc| {
        let data = first(doc, "SubjectConfirmationData");
        let key_info = doc.append_element(data, QualifiedName::new("ds", "KeyInfo", DSIG_NS));
        doc.declare_namespace(key_info, "ds", DSIG_NS).unwrap();
        doc.append_text_element(key_info, QualifiedName::new("ds", "KeyName", DSIG_NS), "alice's key");
    });
    let extensions = "<samlp:Extensions><x:Hint xmlns:x=\"urn:example:x\">any</x:Hint></samlp:Extensions>";
    let xml = xml.replacen("<samlp:Status>", &format!("{extensions}<samlp:Status>"), 1);
    let accepted = validate(&xml, Some(REQUEST_ID), t0().plus_seconds(5)).unwrap();
    assert_eq!(accepted.name_id.value, "alice@example.com");
}
