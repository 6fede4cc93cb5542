//! The hub as SP toward the corporate IdP: metadata for upload, a signed SP-initiated request,
//! the IdP's answer validated, and the user created just in time or required to exist.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_hub::upstream::{IdentitySource, Provisioning, SourceError, user_for_assertion};
use crossfed_saml::{
    Attribute, Endpoint, EntityDescriptor, Instant, MemoryReplayCache, NameId, ResponseSpec, SignedParts, SpPolicy,
    build_response, decode_redirect, ns, parse_authn_request, validate_response,
};
use crossfed_store::UserStore;
use crossfed_xmldsig::{AlgorithmPolicy, SigningKey};

const CORP: &str = "https://corp.example.com/idp";

fn source(idp_key: &SigningKey, provisioning: Provisioning) -> IdentitySource {
    IdentitySource {
        sp_entity_id: "https://hub.example.com/saml/sp".into(),
        acs_url: "https://hub.example.com/saml/acs".into(),
        idp: EntityDescriptor::idp(
            CORP,
            vec![idp_key.certificate().clone()],
            vec![Endpoint::redirect("https://corp.example.com/sso"), Endpoint::post("https://corp.example.com/sso")],
        ),
        provisioning,
        allow_idp_initiated: false,
    }
}

fn answer(idp_key: &SigningKey, request_id: &str, given_name: &str, now: Instant) -> String {
    build_response(
        &ResponseSpec {
            issuer: CORP.into(),
            destination: "https://hub.example.com/saml/acs".into(),
            audiences: vec!["https://hub.example.com/saml/sp".into()],
            in_response_to: Some(request_id.into()),
            name_id: NameId {
                value: "00u-alice".into(),
                format: Some(ns::NAMEID_PERSISTENT.into()),
                ..NameId::default()
            },
            session_index: "_corp".into(),
            authn_instant: now,
            authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
            attributes: vec![
                Attribute::uri(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                    vec!["alice@example.com".into()],
                ),
                Attribute::uri(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
                    vec![given_name.into()],
                ),
            ],
            lifetime_seconds: 300,
            not_before_skew_seconds: 0,
            session_not_on_or_after: None,
            signed_parts: SignedParts::Assertion,
        },
        now,
        idp_key,
    )
    .unwrap()
    .xml
}

#[tokio::test]
async fn metadata_request_response_and_just_in_time_user() {
    let hub_key = SigningKey::generate_rsa("hub sp", 30).unwrap();
    let idp_key = SigningKey::generate_rsa("corp idp", 30).unwrap();
    let source = source(&idp_key, Provisioning::JustInTime);

    let metadata = EntityDescriptor::parse(source.sp_metadata(&[hub_key.certificate().clone()]).as_bytes()).unwrap();
    let sp = metadata.require_sp().unwrap();
    assert!(sp.authn_requests_signed && sp.want_assertions_signed);
    assert_eq!(sp.default_acs(ns::BINDING_HTTP_POST).unwrap().location, "https://hub.example.com/saml/acs");

    let now = Instant::now();
    let (request_id, url) = source.start_login(&hub_key, Some("/portal"), now).unwrap();
    let query = url.strip_prefix("https://corp.example.com/sso?").unwrap();
    let message = decode_redirect(query).unwrap();
    message.verify(&[hub_key.certificate().clone()], &AlgorithmPolicy::default()).unwrap();
    let request = parse_authn_request(&message.xml, None).unwrap();
    assert_eq!(request.id, request_id);
    assert_eq!(request.acs_url.as_deref(), Some("https://hub.example.com/saml/acs"));

    let store = crossfed_testkit::test_store("upstream").await;
    let certs = source.idp_certificates().unwrap().to_vec();
    let policy = SpPolicy::new(&source.sp_entity_id, &source.acs_url, CORP, &certs);
    let accepted = validate_response(
        answer(&idp_key, &request_id, "Alice", now).as_bytes(),
        &policy,
        Some(&request_id),
        now,
        &MemoryReplayCache::default(),
    )
    .unwrap();
    let user = user_for_assertion(&store, &source, &accepted, now.unix()).await.unwrap();
    assert_eq!(user.user_name, "alice@example.com");
    assert_eq!(user.external_id.as_deref(), Some("00u-alice"));
    assert_eq!(user.given_name.as_deref(), Some("Alice"));

    // The next login updates the claims on the same user.
    let accepted = validate_response(
        answer(&idp_key, &request_id, "Alicia", now).as_bytes(),
        &policy,
        Some(&request_id),
        now,
        &MemoryReplayCache::default(),
    )
    .unwrap();
    let again = user_for_assertion(&store, &source, &accepted, now.unix()).await.unwrap();
    assert_eq!(again.id, user.id);
    assert_eq!(again.given_name.as_deref(), Some("Alicia"));
    assert_eq!(store.list_users(Default::default()).await.unwrap().1, 1);

    // Another IdP subject claiming alice's name does not get her account.
    let mut impostor = accepted.clone();
    impostor.name_id.value = "00u-mallory".to_string();
    let e = user_for_assertion(&store, &source, &impostor, now.unix()).await.unwrap_err();
    assert!(matches!(&e, SourceError::LinkedElsewhere { linked, .. } if linked == "00u-alice"), "{e}");
    assert!(e.to_string().contains("externalId"), "{e}");
}

#[tokio::test]
async fn provisioned_only_mode_refuses_unknown_users() {
    let idp_key = SigningKey::generate_rsa("corp idp", 30).unwrap();
    let source = source(&idp_key, Provisioning::Required);
    let store = crossfed_testkit::test_store("upstream").await;
    let now = Instant::now();
    let certs = source.idp_certificates().unwrap().to_vec();
    let policy = SpPolicy::new(&source.sp_entity_id, &source.acs_url, CORP, &certs);
    let accepted = validate_response(
        answer(&idp_key, "_r", "Alice", now).as_bytes(),
        &policy,
        Some("_r"),
        now,
        &MemoryReplayCache::default(),
    )
    .unwrap();
    let e = user_for_assertion(&store, &source, &accepted, now.unix()).await.unwrap_err();
    assert!(matches!(&e, SourceError::NotProvisioned(name) if name == "alice@example.com"), "{e}");
    assert!(e.to_string().contains("not provisioned"));
}
