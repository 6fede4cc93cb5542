//! Interop with pysaml2, an independent SAML 2.0 implementation in Python:
//! - its SP accepts the Responses crossfed issues as an IdP (SP- and IdP-initiated, every signing
//!   choice, also signed with ECDSA P-256 and RSA-SHA512) and refuses broken ones;
//! - crossfed's SP validation accepts what its IdP issues, and refuses tampered, foreign-signed,
//!   misaddressed, expired, replayed, unsigned and SHA-1-signed responses with the specific error;
//! - each side reads the other's AuthnRequests (Redirect and POST, signed and unsigned).
//!
//! The pysaml2 side runs as the scripts in `crates/testkit/peers` (one JSON object in on stdin,
//! one out on stdout). Both sides stamp real times, so these tests use the current time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fs::File;
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crossfed_saml::html_escape;
use crossfed_saml::{
    Accepted, Attribute, AuthnRequestSpec, BindingError, MemoryReplayCache, MessageKind, NameId, RequestError,
    ResponseSpec, SignatureRequirement, SignedParts, SpPolicy, Timestamp, ValidationError, build_authn_request,
    build_response, decode_redirect, ns, parse_authn_request, redirect_query, validate_response,
};
use crossfed_testkit::{peer_script, python, run, temp_dir};
use crossfed_xmldsig::{AlgorithmPolicy, Certificate, DsigError, SignatureAlgorithm, SigningKey};
use serde_json::{Value, json};

// crossfed as the IdP, pysaml2 as its SP.
const CROSSFED_IDP: &str = "https://hub.example.com/saml/idp";
const CROSSFED_IDP_SSO: &str = "https://hub.example.com/saml/sso";
const PYSAML2_SP: &str = "https://app.example.org/saml/sp";
const PYSAML2_SP_ACS: &str = "https://app.example.org/saml/acs";

// pysaml2 as the IdP, crossfed as its SP.
const PYSAML2_IDP: &str = "https://idp.example.org/saml/idp";
const PYSAML2_IDP_SSO: &str = "https://idp.example.org/saml/sso";
const CROSSFED_SP: &str = "https://hub.example.com/saml/sp";
const CROSSFED_ACS: &str = "https://hub.example.com/saml/acs";
/// Another SP the pysaml2 IdP knows, sharing crossfed's ACS URL, to aim assertions elsewhere.
const OTHER_SP: &str = "https://other-sp.example.net/saml/sp";

const OID_MAIL: &str = "urn:oid:0.9.2342.19200300.100.1.3";
const OID_AFFILIATION: &str = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1";
const OID_DISPLAY_NAME: &str = "urn:oid:2.16.840.1.113730.3.1.241";
const GROUPS: &str = "https://hub.example.com/saml/attributes/groups";

struct Keys {
    crossfed_idp: SigningKey,
    crossfed_sp: SigningKey,
    pysaml2_idp: SigningKey,
    pysaml2_sp: SigningKey,
    attacker: SigningKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = |name: &str| SigningKey::generate_rsa(name, crossfed_clock::Clock::system().now(), 30).unwrap();
        Keys {
            crossfed_idp: key("crossfed idp"),
            crossfed_sp: key("crossfed sp"),
            pysaml2_idp: key("pysaml2 idp"),
            pysaml2_sp: key("pysaml2 sp"),
            attacker: key("attacker"),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Running the peers

/// A folder holding one peer's key pair and the metadata it trusts, alive while the peer runs.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        Scene { dir: temp_dir() }
    }

    /// Writes a file and returns its path as the scripts take it.
    fn file(&self, name: &str, content: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// Writes a key and its certificate as PEM files, returning (key file, certificate file).
    fn key_pair(&self, name: &str, key: &SigningKey) -> (String, String) {
        (
            self.file(&format!("{name}.key"), &key.private_key_pem()),
            self.file(&format!("{name}.crt"), &key.certificate().to_pem()),
        )
    }
}

/// Runs a peer script on `input`, returning the JSON object it answered with.
fn call_peer(script: &str, input: &Value) -> Value {
    let dir = temp_dir();
    let input_path = dir.path().join("input.json");
    std::fs::write(&input_path, serde_json::to_vec(input).unwrap()).unwrap();
    let output = run(Command::new(python())
        .arg(peer_script(script))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(File::open(&input_path).unwrap()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed ({}):\n{stderr}", output.status);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{script} did not answer with JSON ({e}):\n{}\n{stderr}", String::from_utf8_lossy(&output.stdout))
    })
}

/// `base` with the fields of `extra` added or replaced.
fn merged(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    if let (Some(fields), Value::Object(more)) = (out.as_object_mut(), extra) {
        fields.extend(more);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Metadata, written here rather than by crossfed so the peers' trust does not depend on it

enum Role<'a> {
    Idp { sso_url: &'a str },
    Sp { acs_url: &'a str },
}

/// A minimal EntityDescriptor: one role, its signing certificate, its POST (and for an IdP,
/// Redirect) endpoint.
fn entity_descriptor(entity_id: &str, role: Role<'_>, certificate: &Certificate) -> String {
    let key = format!(
        "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate>\
         </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
        certificate.to_base64()
    );
    let (post, redirect) = (ns::BINDING_HTTP_POST, ns::BINDING_HTTP_REDIRECT);
    let role = match role {
        Role::Idp { sso_url } => {
            let sso = html_escape(sso_url);
            format!(
                "<md:IDPSSODescriptor protocolSupportEnumeration=\"{protocol}\">{key}\
                 <md:NameIDFormat>{email}</md:NameIDFormat>\
                 <md:SingleSignOnService Binding=\"{redirect}\" Location=\"{sso}\"/>\
                 <md:SingleSignOnService Binding=\"{post}\" Location=\"{sso}\"/></md:IDPSSODescriptor>",
                protocol = ns::PROTOCOL,
                email = ns::NAMEID_EMAIL,
            )
        }
        Role::Sp { acs_url } => format!(
            "<md:SPSSODescriptor protocolSupportEnumeration=\"{protocol}\">{key}\
             <md:AssertionConsumerService Binding=\"{post}\" Location=\"{acs}\" index=\"0\" isDefault=\"true\"/>\
             </md:SPSSODescriptor>",
            protocol = ns::PROTOCOL,
            acs = html_escape(acs_url),
        ),
    };
    format!(
        "<md:EntityDescriptor xmlns:md=\"{md}\" xmlns:ds=\"{ds}\" entityID=\"{id}\">{role}</md:EntityDescriptor>",
        md = ns::METADATA,
        ds = ns::DSIG,
        id = html_escape(entity_id),
    )
}

/// A metadata document holding `entities`.
fn metadata(entities: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntitiesDescriptor xmlns:md=\"{}\">{}</md:EntitiesDescriptor>\n",
        ns::METADATA,
        entities.concat()
    )
}

// ---------------------------------------------------------------------------------------------
// crossfed as the IdP, pysaml2 as the SP

/// A pysaml2 SP that trusts crossfed's IdP: the scene holding its files, and its settings.
fn pysaml2_sp() -> (Scene, Value) {
    pysaml2_sp_trusting(keys().crossfed_idp.certificate())
}

/// A pysaml2 SP that trusts crossfed's IdP to sign with `idp_certificate`.
fn pysaml2_sp_trusting(idp_certificate: &Certificate) -> (Scene, Value) {
    let scene = Scene::new();
    let (key_file, cert_file) = scene.key_pair("sp", &keys().pysaml2_sp);
    let idp = entity_descriptor(CROSSFED_IDP, Role::Idp { sso_url: CROSSFED_IDP_SSO }, idp_certificate);
    let metadata_file = scene.file("idp-metadata.xml", &metadata(&[idp]));
    let settings = json!({
        "entity_id": PYSAML2_SP,
        "acs_url": PYSAML2_SP_ACS,
        "key_file": key_file,
        "cert_file": cert_file,
        "idp_metadata_file": metadata_file,
        "idp_entity_id": CROSSFED_IDP,
    });
    (scene, settings)
}

/// What crossfed's IdP asserts to the pysaml2 SP.
fn spec_for_pysaml2(in_response_to: Option<&str>, signed_parts: SignedParts) -> ResponseSpec {
    ResponseSpec {
        issuer: CROSSFED_IDP.to_string(),
        destination: PYSAML2_SP_ACS.to_string(),
        audiences: vec![PYSAML2_SP.to_string()],
        in_response_to: in_response_to.map(str::to_string),
        name_id: NameId {
            value: "alice@example.com".into(),
            format: Some(ns::NAMEID_EMAIL.into()),
            ..NameId::default()
        },
        session_index: "_session1".into(),
        authn_instant: Timestamp::from(crossfed_clock::Clock::system().now()),
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
        attributes: vec![
            Attribute {
                friendly_name: Some("mail".into()),
                ..Attribute::uri(OID_MAIL, vec!["alice@example.com".into()])
            },
            Attribute::uri(GROUPS, vec!["agents".into(), "supervisors".into()]),
            Attribute::uri(OID_DISPLAY_NAME, vec!["Zoë Šťastná & co <ops>".into()]),
        ],
        lifetime_seconds: 300,
        not_before_skew_seconds: 30,
        session_not_on_or_after: None,
        signed_parts,
    }
}

/// Posts `xml` to the pysaml2 SP's ACS. Its policy asks for exactly the signatures
/// `signed_parts` puts on the response.
fn pysaml2_acs(
    sp: &Value,
    xml: &str,
    outstanding: Option<&str>,
    allow_unsolicited: bool,
    signed_parts: SignedParts,
) -> Value {
    call_peer(
        "pysaml2_sp.py",
        &merged(
            sp,
            json!({
                "action": "acs",
                "saml_response": STANDARD.encode(xml.as_bytes()),
                "outstanding": outstanding,
                "allow_unsolicited": allow_unsolicited,
                "want_assertions_signed": signed_parts != SignedParts::Response,
                "want_response_signed": signed_parts != SignedParts::Assertion,
            }),
        ),
    )
}

fn peer_attribute<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("pysaml2 reported no attribute {name}: {result}"))
}

fn assert_pysaml2_accepted(result: &Value, context: &str, in_response_to: Option<&str>) {
    assert_eq!(result["accepted"], true, "{context}: pysaml2 refused the response: {}", result["error"]);
    assert_eq!(result["issuer"], CROSSFED_IDP, "{context}");
    assert_eq!(result["name_id"], "alice@example.com", "{context}");
    assert_eq!(result["name_id_format"], ns::NAMEID_EMAIL, "{context}");
    assert_eq!(result["in_response_to"], json!(in_response_to), "{context}");
    assert_eq!(result["audiences"], json!([PYSAML2_SP]), "{context}");
    let mail = peer_attribute(result, OID_MAIL);
    assert_eq!(mail["values"], json!(["alice@example.com"]), "{context}");
    assert_eq!(mail["friendly_name"], "mail", "{context}");
    assert_eq!(mail["name_format"], ns::ATTRNAME_URI, "{context}");
    assert_eq!(peer_attribute(result, GROUPS)["values"], json!(["agents", "supervisors"]), "{context}");
    assert_eq!(peer_attribute(result, OID_DISPLAY_NAME)["values"], json!(["Zoë Šťastná & co <ops>"]), "{context}");
}

/// Checks that pysaml2 refused, for a reason mentioning `reason` (its exception class or
/// message), so a refusal for some unrelated cause (a broken test setup) does not pass.
fn assert_pysaml2_refused(result: &Value, context: &str, reason: &str) {
    assert_eq!(result["accepted"], false, "{context}: pysaml2 accepted a message it must refuse: {result}");
    let error = result["error"].as_str().unwrap_or_default();
    assert!(error.contains(reason), "{context}: pysaml2 refused, but not for the expected reason {reason:?}: {error}");
}

const ALL_PARTS: [SignedParts; 3] = [SignedParts::Assertion, SignedParts::Response, SignedParts::Both];

#[test]
fn pysaml2_sp_accepts_crossfed_responses_to_its_requests() {
    let (_scene, sp) = pysaml2_sp();
    // pysaml2 starts the login; crossfed, as the IdP, reads its Redirect-binding AuthnRequest.
    let request = call_peer("pysaml2_sp.py", &merged(&sp, json!({"action": "authn_request"})));
    let request_id = request["request_id"].as_str().unwrap();
    let (endpoint, query) = request["location"].as_str().unwrap().split_once('?').unwrap();
    assert_eq!(endpoint, CROSSFED_IDP_SSO);
    let message = decode_redirect(query).unwrap();
    assert_eq!(message.kind, MessageKind::Request);
    let parsed = parse_authn_request(&message.xml, None).unwrap();
    assert_eq!(parsed.id, request_id);
    assert_eq!(parsed.issuer, PYSAML2_SP);
    assert_eq!(parsed.destination.as_deref(), Some(CROSSFED_IDP_SSO));
    assert_eq!(parsed.acs_url.as_deref(), Some(PYSAML2_SP_ACS));

    for parts in ALL_PARTS {
        let built = build_response(
            &spec_for_pysaml2(Some(&parsed.id), parts),
            Timestamp::from(crossfed_clock::Clock::system().now()),
            &keys().crossfed_idp,
        )
        .unwrap();
        let result = pysaml2_acs(&sp, &built.xml, Some(request_id), false, parts);
        assert_pysaml2_accepted(&result, &format!("SP-initiated, {parts:?} signed"), Some(request_id));
    }
}

#[test]
fn pysaml2_sp_accepts_crossfed_idp_initiated_responses() {
    let (_scene, sp) = pysaml2_sp();
    for parts in ALL_PARTS {
        let built = build_response(
            &spec_for_pysaml2(None, parts),
            Timestamp::from(crossfed_clock::Clock::system().now()),
            &keys().crossfed_idp,
        )
        .unwrap();
        let result = pysaml2_acs(&sp, &built.xml, None, true, parts);
        assert_pysaml2_accepted(&result, &format!("IdP-initiated, {parts:?} signed"), None);
    }
}

#[test]
fn pysaml2_sp_accepts_crossfed_responses_signed_with_other_algorithms() {
    let keys = [
        (
            "ECDSA P-256 with SHA-256",
            SigningKey::generate_ecdsa_p256("crossfed idp ecdsa", crossfed_clock::Clock::system().now(), 30).unwrap(),
        ),
        (
            "RSA with SHA-512",
            SigningKey::generate_rsa("crossfed idp rsa-sha512", crossfed_clock::Clock::system().now(), 30)
                .unwrap()
                .with_rsa_sha512(),
        ),
    ];
    for (name, key) in keys {
        let (_scene, sp) = pysaml2_sp_trusting(key.certificate());
        for parts in [SignedParts::Assertion, SignedParts::Response] {
            let built = build_response(
                &spec_for_pysaml2(None, parts),
                Timestamp::from(crossfed_clock::Clock::system().now()),
                &key,
            )
            .unwrap();
            let result = pysaml2_acs(&sp, &built.xml, None, true, parts);
            assert_pysaml2_accepted(&result, &format!("{name}, {parts:?} signed"), None);
        }
    }
}

#[test]
fn crossfed_reads_signed_pysaml2_authn_requests() {
    let (_scene, sp) = pysaml2_sp();
    let sp_certificates = [keys().pysaml2_sp.certificate().clone()];
    let wrong_certificates = [keys().attacker.certificate().clone()];
    let algorithms = AlgorithmPolicy::default();

    // Redirect: pysaml2 signs the query; crossfed checks the signature over the bytes received.
    // The RelayState has a space, which pysaml2 form-encodes as '+'.
    let relay_state = "/app/page?x=1 y&z=ü";
    let request = call_peer(
        "pysaml2_sp.py",
        &merged(
            &sp,
            json!({"action": "authn_request", "binding": "redirect", "sign": true, "relay_state": relay_state}),
        ),
    );
    let (_, query) = request["location"].as_str().unwrap().split_once('?').unwrap();
    let message = decode_redirect(query).unwrap();
    assert!(message.is_signed());
    assert_eq!(message.sig_alg.as_deref(), Some(SignatureAlgorithm::RsaSha256.uri()));
    assert_eq!(message.relay_state.as_deref(), Some(relay_state));
    assert_eq!(message.verify(&sp_certificates, &algorithms), Ok(0));
    assert_eq!(message.verify(&wrong_certificates, &algorithms), Err(BindingError::Signature(DsigError::BadSignature)));
    let parsed = parse_authn_request(&message.xml, None).unwrap();
    assert_eq!(parsed.id, request["request_id"].as_str().unwrap());
    assert_eq!(parsed.issuer, PYSAML2_SP);
    // The same query with the RelayState changed no longer verifies.
    let changed = query.replacen("RelayState=", "RelayState=x", 1);
    assert_ne!(changed, query);
    let message = decode_redirect(&changed).unwrap();
    assert_eq!(message.verify(&sp_certificates, &algorithms), Err(BindingError::Signature(DsigError::BadSignature)));

    // POST: pysaml2 signs the XML; crossfed reads the request through the verified element.
    let request = call_peer(
        "pysaml2_sp.py",
        &merged(
            &sp,
            json!({"action": "authn_request", "binding": "post", "sign": true, "idp_sso_url": CROSSFED_IDP_SSO}),
        ),
    );
    let xml = request["request_xml"].as_str().unwrap();
    let parsed = parse_authn_request(xml.as_bytes(), Some(&sp_certificates)).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(parsed.xml_signed);
    assert_eq!(parsed.id, request["request_id"].as_str().unwrap());
    assert_eq!(parsed.issuer, PYSAML2_SP);
    assert_eq!(parsed.destination.as_deref(), Some(CROSSFED_IDP_SSO));
    assert_eq!(parsed.acs_url.as_deref(), Some(PYSAML2_SP_ACS));
    assert_eq!(
        parse_authn_request(xml.as_bytes(), Some(&wrong_certificates)).unwrap_err(),
        RequestError::Signature(DsigError::UntrustedCertificate)
    );
    let tampered = xml.replace(PYSAML2_SP_ACS, "https://evil.example.net/acs");
    assert_ne!(tampered, xml);
    assert_eq!(
        parse_authn_request(tampered.as_bytes(), Some(&sp_certificates)).unwrap_err(),
        RequestError::Signature(DsigError::DigestMismatch)
    );
}

/// Replaces the text of the (first, the Subject's) NameID with `value`.
fn tamper_name_id(xml: &str, expected: &str, value: &str) -> String {
    let tag = xml.find(":NameID ").unwrap();
    let start = tag + xml[tag..].find('>').unwrap() + 1;
    let end = start + xml[start..].find('<').unwrap();
    assert_eq!(&xml[start..end], expected, "the NameID to tamper with");
    format!("{}{value}{}", &xml[..start], &xml[end..])
}

#[test]
fn pysaml2_sp_refuses_broken_crossfed_responses() {
    let (_scene, sp) = pysaml2_sp();
    let request_id = "_pysaml2-request-1";
    let good = |parts| spec_for_pysaml2(Some(request_id), parts);
    let build = |spec: &ResponseSpec, key: &SigningKey, at: Timestamp| build_response(spec, at, key).unwrap().xml;
    let now = Timestamp::from(crossfed_clock::Clock::system().now());

    for parts in ALL_PARTS {
        let context = |what: &str| format!("{what}, {parts:?} signed");

        let wrong_audience = ResponseSpec { audiences: vec![OTHER_SP.to_string()], ..good(parts) };
        let result =
            pysaml2_acs(&sp, &build(&wrong_audience, &keys().crossfed_idp, now), Some(request_id), false, parts);
        assert_pysaml2_refused(&result, &context("wrong audience"), "AudienceRestrictions");

        let tampered =
            tamper_name_id(&build(&good(parts), &keys().crossfed_idp, now), "alice@example.com", "admin@example.com");
        let result = pysaml2_acs(&sp, &tampered, Some(request_id), false, parts);
        assert_pysaml2_refused(&result, &context("tampered NameID"), "SignatureError");

        let foreign = build(&good(parts), &keys().attacker, now);
        let result = pysaml2_acs(&sp, &foreign, Some(request_id), false, parts);
        assert_pysaml2_refused(&result, &context("signed by a key not in the IdP metadata"), "SignatureError");
    }

    let parts = SignedParts::Assertion;
    let expired = build(&good(parts), &keys().crossfed_idp, now.minus_seconds(3600));
    let result = pysaml2_acs(&sp, &expired, Some(request_id), false, parts);
    assert_pysaml2_refused(&result, "expired an hour ago", "ResponseLifetimeExceed");

    let answer_to_another = build(&spec_for_pysaml2(Some("_another-request"), parts), &keys().crossfed_idp, now);
    let result = pysaml2_acs(&sp, &answer_to_another, Some(request_id), false, parts);
    assert_pysaml2_refused(&result, "answers a request the SP did not send", "UnsolicitedResponse");

    let unsolicited = build(&spec_for_pysaml2(None, parts), &keys().crossfed_idp, now);
    let result = pysaml2_acs(&sp, &unsolicited, None, false, parts);
    assert_pysaml2_refused(&result, "unsolicited while the SP does not allow it", "UnsolicitedResponse");
}

// ---------------------------------------------------------------------------------------------
// pysaml2 as the IdP, crossfed as the SP

/// A pysaml2 IdP signing with `signing_key`, knowing crossfed's SP (and another SP that shares
/// its ACS URL): the scene holding its files, and its settings.
fn pysaml2_idp(signing_key: &SigningKey) -> (Scene, Value) {
    let scene = Scene::new();
    let (key_file, cert_file) = scene.key_pair("idp", signing_key);
    let sp_certificate = keys().crossfed_sp.certificate();
    let sps = [
        entity_descriptor(CROSSFED_SP, Role::Sp { acs_url: CROSSFED_ACS }, sp_certificate),
        entity_descriptor(OTHER_SP, Role::Sp { acs_url: CROSSFED_ACS }, keys().attacker.certificate()),
    ];
    let metadata_file = scene.file("sp-metadata.xml", &metadata(&sps));
    let settings = json!({
        "entity_id": PYSAML2_IDP,
        "sso_url": PYSAML2_IDP_SSO,
        "key_file": key_file,
        "cert_file": cert_file,
        "sp_metadata_file": metadata_file,
    });
    (scene, settings)
}

/// Which parts pysaml2 signs: (assertion, response).
const PYSAML2_SIGNING: [(bool, bool); 3] = [(true, false), (false, true), (true, true)];

/// A Response from the pysaml2 IdP for `sp_entity_id`, delivered to crossfed's ACS.
fn pysaml2_response(idp: &Value, sp_entity_id: &str, in_response_to: Option<&str>, signing: (bool, bool)) -> String {
    pysaml2_response_with(idp, sp_entity_id, in_response_to, signing, json!({}))
}

/// [`pysaml2_response`] with more settings for the IdP script.
fn pysaml2_response_with(
    idp: &Value,
    sp_entity_id: &str,
    in_response_to: Option<&str>,
    signing: (bool, bool),
    extra: Value,
) -> String {
    let idp = merged(idp, extra);
    let answer = call_peer(
        "pysaml2_idp.py",
        &merged(
            &idp,
            json!({
                "action": "respond",
                "sp_entity_id": sp_entity_id,
                "acs_url": CROSSFED_ACS,
                "in_response_to": in_response_to,
                "name_id": {"value": "alice@example.org", "format": ns::NAMEID_EMAIL},
                "identity": {
                    "mail": ["alice@example.org"],
                    "eduPersonAffiliation": ["member", "staff"],
                    "displayName": ["Zoë Šťastná & co <ops>"],
                },
                "sign_assertion": signing.0,
                "sign_response": signing.1,
            }),
        ),
    );
    answer["response_xml"].as_str().unwrap().to_string()
}

/// crossfed's SP validation of a response from the pysaml2 IdP, trusting the pysaml2 IdP's key.
fn crossfed_validate(
    xml: &str,
    request_id: Option<&str>,
    allow_unsolicited: bool,
    now: Timestamp,
    replay: &MemoryReplayCache,
) -> Result<Accepted, ValidationError> {
    let certificates = [keys().pysaml2_idp.certificate().clone()];
    let mut policy = SpPolicy::new(CROSSFED_SP, CROSSFED_ACS, PYSAML2_IDP, &certificates);
    policy.allow_unsolicited = allow_unsolicited;
    validate_response(xml.as_bytes(), &policy, request_id, now, replay)
}

fn validate_now(xml: &str, request_id: Option<&str>, allow_unsolicited: bool) -> Result<Accepted, ValidationError> {
    crossfed_validate(
        xml,
        request_id,
        allow_unsolicited,
        Timestamp::from(crossfed_clock::Clock::system().now()),
        &MemoryReplayCache::default(),
    )
}

fn crossfed_request_spec() -> AuthnRequestSpec {
    AuthnRequestSpec {
        issuer: CROSSFED_SP.to_string(),
        destination: PYSAML2_IDP_SSO.to_string(),
        acs_url: CROSSFED_ACS.to_string(),
        protocol_binding: ns::BINDING_HTTP_POST.to_string(),
        name_id_format: Some(ns::NAMEID_EMAIL.to_string()),
        force_authn: false,
    }
}

fn assert_crossfed_accepted(accepted: &Accepted, context: &str, in_response_to: Option<&str>, signing: (bool, bool)) {
    assert_eq!(accepted.issuer, PYSAML2_IDP, "{context}");
    assert_eq!(accepted.name_id.value, "alice@example.org", "{context}");
    assert_eq!(accepted.name_id.format.as_deref(), Some(ns::NAMEID_EMAIL), "{context}");
    assert_eq!(accepted.in_response_to.as_deref(), in_response_to, "{context}");
    assert_eq!((accepted.assertion_signed, accepted.response_signed), signing, "{context}");
    assert_eq!(accepted.certificate_sha256, keys().pysaml2_idp.certificate().fingerprint_hex(), "{context}");
    assert_eq!(accepted.attribute(OID_MAIL), Some(&["alice@example.org".to_string()][..]), "{context}");
    assert_eq!(
        accepted.attribute(OID_AFFILIATION),
        Some(&["member".to_string(), "staff".to_string()][..]),
        "{context}"
    );
    assert_eq!(accepted.attribute(OID_DISPLAY_NAME), Some(&["Zoë Šťastná & co <ops>".to_string()][..]), "{context}");
    let mail = accepted.attributes.iter().find(|a| a.name == OID_MAIL).unwrap();
    assert_eq!(mail.friendly_name.as_deref(), Some("mail"), "{context}");
    assert_eq!(mail.name_format.as_deref(), Some(ns::ATTRNAME_URI), "{context}");
    assert!(accepted.session_index.is_some(), "{context}: no SessionIndex");
}

#[test]
fn crossfed_accepts_pysaml2_responses_to_its_requests() {
    let (_scene, idp) = pysaml2_idp(&keys().pysaml2_idp);
    let (request_id, request_xml) =
        build_authn_request(&crossfed_request_spec(), Timestamp::from(crossfed_clock::Clock::system().now()), None)
            .unwrap();
    // pysaml2 reads crossfed's request first, and answers the ID it read.
    let parsed = pysaml2_parse_redirect(&idp, &request_xml, None, false);
    assert_eq!(parsed["accepted"], true, "pysaml2 refused crossfed's AuthnRequest: {}", parsed["error"]);
    assert_eq!(parsed["id"], request_id.as_str());
    let answered = parsed["id"].as_str().unwrap();

    for signing in PYSAML2_SIGNING {
        let context = format!("SP-initiated, pysaml2 signing (assertion, response) = {signing:?}");
        let xml = pysaml2_response(&idp, CROSSFED_SP, Some(answered), signing);
        let accepted = validate_now(&xml, Some(&request_id), false)
            .unwrap_or_else(|e| panic!("{context}: crossfed refused: {e}\n{xml}"));
        assert_crossfed_accepted(&accepted, &context, Some(&request_id), signing);
    }
}

#[test]
fn crossfed_accepts_pysaml2_idp_initiated_responses() {
    let (_scene, idp) = pysaml2_idp(&keys().pysaml2_idp);
    for signing in PYSAML2_SIGNING {
        let context = format!("IdP-initiated, pysaml2 signing (assertion, response) = {signing:?}");
        let xml = pysaml2_response(&idp, CROSSFED_SP, None, signing);
        let accepted =
            validate_now(&xml, None, true).unwrap_or_else(|e| panic!("{context}: crossfed refused: {e}\n{xml}"));
        assert_crossfed_accepted(&accepted, &context, None, signing);
        // The same response, with IdP-initiated login not allowed.
        assert_eq!(validate_now(&xml, None, false).unwrap_err(), ValidationError::Unsolicited, "{context}");
    }
}

#[test]
fn crossfed_refuses_tampered_pysaml2_responses() {
    let (_scene, idp) = pysaml2_idp(&keys().pysaml2_idp);
    let request_id = "_crossfed-request-1";
    // The Response signature is checked first, so it reports the change whenever it is present.
    let cases = [
        ((true, false), ValidationError::AssertionSignature(DsigError::DigestMismatch)),
        ((false, true), ValidationError::ResponseSignature(DsigError::DigestMismatch)),
        ((true, true), ValidationError::ResponseSignature(DsigError::DigestMismatch)),
    ];
    for (signing, expected) in cases {
        let xml = pysaml2_response(&idp, CROSSFED_SP, Some(request_id), signing);
        assert!(validate_now(&xml, Some(request_id), false).is_ok(), "{signing:?}: the untampered control was refused");
        let tampered = tamper_name_id(&xml, "alice@example.org", "admin@example.org");
        assert_eq!(validate_now(&tampered, Some(request_id), false).unwrap_err(), expected, "{signing:?}");
    }
}

#[test]
fn crossfed_refuses_pysaml2_responses_signed_by_another_key() {
    // The pysaml2 IdP signs with a key crossfed was not configured with (and puts that key's
    // certificate in KeyInfo, which crossfed must not trust).
    let (_scene, idp) = pysaml2_idp(&keys().attacker);
    let request_id = "_crossfed-request-2";
    let cases = [
        ((true, false), ValidationError::AssertionSignature(DsigError::UntrustedCertificate)),
        ((false, true), ValidationError::ResponseSignature(DsigError::UntrustedCertificate)),
    ];
    for (signing, expected) in cases {
        let xml = pysaml2_response(&idp, CROSSFED_SP, Some(request_id), signing);
        assert_eq!(validate_now(&xml, Some(request_id), false).unwrap_err(), expected, "{signing:?}");
    }
}

#[test]
fn crossfed_refuses_misaddressed_expired_and_replayed_pysaml2_responses() {
    let (_scene, idp) = pysaml2_idp(&keys().pysaml2_idp);
    let request_id = "_crossfed-request-3";
    let signing = (true, false);

    let for_other_sp = pysaml2_response(&idp, OTHER_SP, Some(request_id), signing);
    assert_eq!(
        validate_now(&for_other_sp, Some(request_id), false).unwrap_err(),
        ValidationError::Audience { expected: CROSSFED_SP.to_string(), found: vec![OTHER_SP.to_string()] }
    );

    let xml = pysaml2_response(&idp, CROSSFED_SP, Some(request_id), signing);
    // pysaml2 gives assertions five minutes (its policy above); an hour later they are over.
    let later = Timestamp::from(crossfed_clock::Clock::system().now()).plus_seconds(3600);
    let err = crossfed_validate(&xml, Some(request_id), false, later, &MemoryReplayCache::default()).unwrap_err();
    assert!(matches!(err, ValidationError::ConfirmationExpired { .. } | ValidationError::Expired { .. }), "{err:?}");
    // And an hour earlier they were not valid yet (Conditions NotBefore is the issue instant).
    let earlier = Timestamp::from(crossfed_clock::Clock::system().now()).minus_seconds(3600);
    let err = crossfed_validate(&xml, Some(request_id), false, earlier, &MemoryReplayCache::default()).unwrap_err();
    assert!(matches!(err, ValidationError::NotYetValid { .. }), "{err:?}");

    assert!(matches!(
        validate_now(&xml, Some("_another-request"), false).unwrap_err(),
        ValidationError::InResponseTo { .. }
    ));

    let cache = MemoryReplayCache::default();
    let first = crossfed_validate(
        &xml,
        Some(request_id),
        false,
        Timestamp::from(crossfed_clock::Clock::system().now()),
        &cache,
    )
    .unwrap();
    let again = crossfed_validate(
        &xml,
        Some(request_id),
        false,
        Timestamp::from(crossfed_clock::Clock::system().now()),
        &cache,
    )
    .unwrap_err();
    assert_eq!(again, ValidationError::Replay { id: first.assertion_id });
}

#[test]
fn crossfed_refuses_unsigned_pysaml2_responses() {
    let (_scene, idp) = pysaml2_idp(&keys().pysaml2_idp);
    let request_id = "_crossfed-request-4";
    let xml = pysaml2_response(&idp, CROSSFED_SP, Some(request_id), (false, false));
    assert!(!xml.contains("Signature"), "pysaml2 signed although asked not to:\n{xml}");
    assert_eq!(
        validate_now(&xml, Some(request_id), false).unwrap_err(),
        ValidationError::Unsigned { required: SignatureRequirement::AssertionCovered }
    );
}

#[test]
fn crossfed_refuses_pysaml2_responses_signed_with_sha1() {
    // pysaml2 signs with RSA-SHA1 and SHA-1 digests unless configured otherwise; crossfed's
    // default algorithm policy refuses both.
    let (_scene, idp) = pysaml2_idp(&keys().pysaml2_idp);
    let request_id = "_crossfed-request-5";
    let legacy = json!({"pysaml2_default_algorithms": true});
    for signing in [(true, false), (false, true)] {
        let xml = pysaml2_response_with(&idp, CROSSFED_SP, Some(request_id), signing, legacy.clone());
        assert!(
            xml.contains(crossfed_xmldsig::RSA_SHA1),
            "{signing:?}: pysaml2 no longer defaults to RSA-SHA1:\n{xml}"
        );
        let err = validate_now(&xml, Some(request_id), false).unwrap_err();
        let weak = match (signing, &err) {
            ((true, false), ValidationError::AssertionSignature(e))
            | ((false, true), ValidationError::ResponseSignature(e)) => e,
            _ => panic!("{signing:?}: expected the signature of the signed part to be refused, got {err:?}"),
        };
        assert!(matches!(weak, DsigError::WeakAlgorithm { .. }), "{signing:?}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// pysaml2 as the IdP reading crossfed's AuthnRequests

/// The URL-decoded value of `name` in a query string.
fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name)
            .then(|| percent_encoding::percent_decode_str(&value.replace('+', " ")).decode_utf8().unwrap().into_owned())
    })
}

/// Sends `request_xml` to the pysaml2 IdP over the Redirect binding, signing the query with
/// `sign_with`, and returns what the IdP read.
fn pysaml2_parse_redirect(idp: &Value, request_xml: &str, sign_with: Option<&SigningKey>, want_signed: bool) -> Value {
    // pysaml2 checks a Redirect signature over the query it re-encodes itself (space as '+'),
    // not over the bytes received as SAML bindings §3.4.4.1 requires; crossfed form-encodes
    // spaces as '+' too, so a RelayState with a space verifies on both sides.
    let relay_state = "relay/42 ü~:?&=+%";
    let query = redirect_query(MessageKind::Request, request_xml, Some(relay_state), sign_with).unwrap();
    call_peer(
        "pysaml2_idp.py",
        &merged(
            idp,
            json!({
                "action": "parse_request",
                "binding": "redirect",
                "saml_request": query_value(&query, "SAMLRequest").unwrap(),
                "relay_state": query_value(&query, "RelayState"),
                "sig_alg": query_value(&query, "SigAlg"),
                "signature": query_value(&query, "Signature"),
                "want_authn_requests_signed": want_signed,
            }),
        ),
    )
}

/// Sends `request_xml` to the pysaml2 IdP over the POST binding.
fn pysaml2_parse_post(idp: &Value, request_xml: &str, want_signed: bool) -> Value {
    call_peer(
        "pysaml2_idp.py",
        &merged(
            idp,
            json!({
                "action": "parse_request",
                "binding": "post",
                "saml_request": STANDARD.encode(request_xml.as_bytes()),
                "want_authn_requests_signed": want_signed,
            }),
        ),
    )
}

fn assert_pysaml2_read_request(result: &Value, context: &str, request_id: &str) {
    assert_eq!(result["accepted"], true, "{context}: pysaml2 refused crossfed's AuthnRequest: {}", result["error"]);
    assert_eq!(result["id"], request_id, "{context}");
    assert_eq!(result["issuer"], CROSSFED_SP, "{context}");
    assert_eq!(result["acs_url"], CROSSFED_ACS, "{context}");
    assert_eq!(result["destination"], PYSAML2_IDP_SSO, "{context}");
    assert_eq!(result["protocol_binding"], ns::BINDING_HTTP_POST, "{context}");
    assert_eq!(result["name_id_format"], ns::NAMEID_EMAIL, "{context}");
    assert_eq!(result["issue_instant_ok"], true, "{context}");
}

#[test]
fn pysaml2_idp_reads_crossfed_authn_requests() {
    let (_scene, idp) = pysaml2_idp(&keys().pysaml2_idp);
    let spec = crossfed_request_spec();

    let (id, xml) = build_authn_request(&spec, Timestamp::from(crossfed_clock::Clock::system().now()), None).unwrap();
    assert_pysaml2_read_request(&pysaml2_parse_redirect(&idp, &xml, None, false), "Redirect, unsigned", &id);
    let result = pysaml2_parse_redirect(&idp, &xml, Some(&keys().crossfed_sp), true);
    assert_pysaml2_read_request(&result, "Redirect, query signed", &id);
    assert_pysaml2_read_request(&pysaml2_parse_post(&idp, &xml, false), "POST, unsigned", &id);

    let (id, signed_xml) =
        build_authn_request(&spec, Timestamp::from(crossfed_clock::Clock::system().now()), Some(&keys().crossfed_sp))
            .unwrap();
    assert_pysaml2_read_request(&pysaml2_parse_post(&idp, &signed_xml, true), "POST, XML signed", &id);
}

#[test]
fn pysaml2_idp_refuses_badly_signed_crossfed_authn_requests() {
    let (_scene, idp) = pysaml2_idp(&keys().pysaml2_idp);
    let spec = crossfed_request_spec();
    let (_, xml) = build_authn_request(&spec, Timestamp::from(crossfed_clock::Clock::system().now()), None).unwrap();
    let result = pysaml2_parse_redirect(&idp, &xml, None, true);
    assert_pysaml2_refused(&result, "Redirect, unsigned but signing required", "IncorrectlySigned");
    let result = pysaml2_parse_redirect(&idp, &xml, Some(&keys().attacker), true);
    assert_pysaml2_refused(&result, "Redirect, query signed by a key not in the SP metadata", "IncorrectlySigned");

    let (_, foreign) =
        build_authn_request(&spec, Timestamp::from(crossfed_clock::Clock::system().now()), Some(&keys().attacker))
            .unwrap();
    let result = pysaml2_parse_post(&idp, &foreign, true);
    assert_pysaml2_refused(&result, "POST, XML signed by a key not in the SP metadata", "IncorrectlySigned");
    let (_, signed) =
        build_authn_request(&spec, Timestamp::from(crossfed_clock::Clock::system().now()), Some(&keys().crossfed_sp))
            .unwrap();
    let tampered = signed.replace(CROSSFED_ACS, "https://evil.example.net/acs");
    assert_ne!(tampered, signed);
    let result = pysaml2_parse_post(&idp, &tampered, true);
    assert_pysaml2_refused(&result, "POST, XML changed after signing", "IncorrectlySigned");
}
