//! The hub as SP toward the corporate IdP: metadata for upload, a signed SP-initiated request,
//! the IdP's answer validated, and the user created just in time or required to exist.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_hub::upstream::{IdentitySource, Provisioning, SourceError, user_for_assertion};
use crossfed_saml::{
    Attribute, Endpoint, EntityDescriptor, MemoryReplayCache, NameId, ResponseSpec, SignedParts, SpPolicy, Timestamp,
    build_response, decode_redirect, ns, parse_authn_request, validate_response,
};
use crossfed_store::UserStore;
use crossfed_xmldsig::{AlgorithmPolicy, SigningKey};

const CORP: &str = "https://corp.example.com/idp";

/// The directory service over `store`, as the hub builds it.
fn directory(store: &crossfed_store::Store) -> crossfed_hub::directory::Directory {
    let clock = crossfed_clock::Clock::system();
    let audit = crossfed_hub::audit::Auditor::new(
        crossfed_hub::audit_queue::AuditQueue::start(store.clone()).unwrap(),
        clock.clone(),
    );
    crossfed_hub::directory::Directory::new(store.clone(), audit, clock)
}

fn source(idp_key: &SigningKey, provisioning: Provisioning) -> IdentitySource {
    IdentitySource::new(
        "https://hub.example.com/saml/sp".into(),
        "https://hub.example.com/saml/acs".into(),
        EntityDescriptor::idp(
            CORP,
            vec![idp_key.certificate().clone()],
            vec![Endpoint::redirect("https://corp.example.com/sso"), Endpoint::post("https://corp.example.com/sso")],
        ),
        provisioning,
        false,
    )
}

fn answer(idp_key: &SigningKey, request_id: &str, given_name: &str, now: Timestamp) -> String {
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
    let hub_key = SigningKey::generate_rsa("hub sp", crossfed_clock::Clock::system().now(), 30).unwrap();
    let idp_key = SigningKey::generate_rsa("corp idp", crossfed_clock::Clock::system().now(), 30).unwrap();
    let source = source(&idp_key, Provisioning::JustInTime);

    let metadata = EntityDescriptor::parse(source.sp_metadata(&[hub_key.certificate().clone()]).as_bytes()).unwrap();
    let sp = metadata.require_sp().unwrap();
    assert!(sp.authn_requests_signed && sp.want_assertions_signed);
    assert_eq!(sp.default_acs(ns::BINDING_HTTP_POST).unwrap().location, "https://hub.example.com/saml/acs");

    let now = Timestamp::from(crossfed_clock::Clock::system().now());
    let (request_id, url) = source.start_login(&hub_key, Some("/portal"), now).unwrap();
    let query = url.strip_prefix("https://corp.example.com/sso?").unwrap();
    let message = decode_redirect(query).unwrap();
    message.verify(&[hub_key.certificate().clone()], &AlgorithmPolicy::default()).unwrap();
    let request = parse_authn_request(&message.xml, None).unwrap();
    assert_eq!(request.id, request_id);
    assert_eq!(request.acs_url.as_deref(), Some("https://hub.example.com/saml/acs"));
    assert!(!request.force_authn);
    // An application's ForceAuthn is passed on to the IdP.
    let (_, forced) = source.start_login_with(&hub_key, None, true, now).unwrap();
    let forced = decode_redirect(forced.strip_prefix("https://corp.example.com/sso?").unwrap()).unwrap();
    assert!(parse_authn_request(&forced.xml, None).unwrap().force_authn);
    assert!(
        sp.slo_service(ns::BINDING_HTTP_REDIRECT).is_some_and(|e| e.location == "https://hub.example.com/saml/slo")
    );

    let store = crossfed_testkit::test_store("upstream").await;
    let directory = directory(&store);
    let certs = source.idp_certificates(Timestamp::from(crossfed_clock::Clock::system().now())).unwrap();
    let policy = SpPolicy::new(&source.sp_entity_id, &source.acs_url, CORP, &certs);
    let accepted = validate_response(
        answer(&idp_key, &request_id, "Alice", now).as_bytes(),
        &policy,
        Some(&request_id),
        now,
        &MemoryReplayCache::default(),
    )
    .unwrap();
    let user = user_for_assertion(&store, &directory, &source, &accepted).await.unwrap();
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
    let again = user_for_assertion(&store, &directory, &source, &accepted).await.unwrap();
    assert_eq!(again.id, user.id);
    assert_eq!(again.given_name.as_deref(), Some("Alicia"));
    assert_eq!(store.list_users(Default::default()).await.unwrap().1, 1);

    // Another IdP subject claiming alice's name does not get her account.
    let mut impostor = accepted.clone();
    impostor.name_id.value = "00u-mallory".to_string();
    let e = user_for_assertion(&store, &directory, &source, &impostor).await.unwrap_err();
    assert!(matches!(&e, SourceError::LinkedElsewhere { linked, .. } if linked == "00u-alice"), "{e}");
    assert!(e.to_string().contains("externalId"), "{e}");
}

#[tokio::test]
async fn provisioned_only_mode_refuses_unknown_users() {
    let idp_key = SigningKey::generate_rsa("corp idp", crossfed_clock::Clock::system().now(), 30).unwrap();
    let source = source(&idp_key, Provisioning::Required);
    let store = crossfed_testkit::test_store("upstream").await;
    let directory = directory(&store);
    let now = Timestamp::from(crossfed_clock::Clock::system().now());
    let certs = source.idp_certificates(Timestamp::from(crossfed_clock::Clock::system().now())).unwrap();
    let policy = SpPolicy::new(&source.sp_entity_id, &source.acs_url, CORP, &certs);
    let accepted = validate_response(
        answer(&idp_key, "_r", "Alice", now).as_bytes(),
        &policy,
        Some("_r"),
        now,
        &MemoryReplayCache::default(),
    )
    .unwrap();
    let e = user_for_assertion(&store, &directory, &source, &accepted).await.unwrap_err();
    assert!(matches!(&e, SourceError::NotProvisioned(name) if name == "alice@example.com"), "{e}");
    assert!(e.to_string().contains("not provisioned"));
}

/// The identity source's metadata is refreshed from its file: a key rollover is taken, while a
/// copy that does not load, names another IdP or has expired is refused and the last good copy
/// stays. Expired metadata is refused at the ACS too.
#[tokio::test]
async fn identity_source_metadata_is_refreshed_and_bad_copies_are_refused() {
    let data = crossfed_testkit::temp_dir();
    let file = data.path().join("corp-idp.xml");
    let old_key = SigningKey::generate_rsa("corp old", crossfed_clock::Clock::system().now(), 30).unwrap();
    let new_key = SigningKey::generate_rsa("corp new", crossfed_clock::Clock::system().now(), 30).unwrap();
    let metadata = |entity: &str, key: &SigningKey| {
        EntityDescriptor::idp(
            entity,
            vec![key.certificate().clone()],
            vec![Endpoint::redirect("https://corp.example.com/sso")],
        )
    };
    std::fs::write(&file, metadata(CORP, &old_key).to_xml()).unwrap();
    let config: crossfed_hub::config::HubConfig = toml::from_str(&format!(
        "[identity_source]\nmetadata_file = {:?}\nrefresh_minutes = 1\n",
        file.display().to_string()
    ))
    .unwrap();
    let store = crossfed_testkit::test_store("refresh").await;
    let (hub, _) = crossfed_hub::build_hub(
        &config,
        store,
        data.path(),
        "https://hub.example.com",
        crossfed_clock::Clock::system(),
    )
    .await
    .unwrap();
    let source = hub.identity_source.as_ref().unwrap();
    let now = Timestamp::from(crossfed_clock::Clock::system().now());
    assert_eq!(source.idp_certificates(now).unwrap(), vec![old_key.certificate().clone()]);
    assert!(!hub.idp_metadata().unwrap().refresh_once().await.unwrap(), "unchanged");

    // A rollover: the IdP now lists its new key.
    std::fs::write(&file, metadata(CORP, &new_key).to_xml()).unwrap();
    assert!(hub.idp_metadata().unwrap().refresh_once().await.unwrap());
    assert_eq!(source.idp_certificates(now).unwrap(), vec![new_key.certificate().clone()]);

    // Refused copies leave the last good one in place.
    std::fs::write(&file, "<not metadata").unwrap();
    assert!(hub.idp_metadata().unwrap().refresh_once().await.is_err());
    std::fs::write(&file, metadata("https://impostor.example.com/idp", &old_key).to_xml()).unwrap();
    let other = hub.idp_metadata().unwrap().refresh_once().await.unwrap_err();
    assert!(other.to_string().contains("impostor"), "{other}");
    let mut expired = metadata(CORP, &old_key);
    expired.valid_until = Some(Timestamp::from_unix(1_000_000).unwrap());
    std::fs::write(&file, expired.to_xml()).unwrap();
    let refused = hub.idp_metadata().unwrap().refresh_once().await.unwrap_err();
    assert!(refused.to_string().contains("expired"), "{refused}");
    assert_eq!(source.idp_certificates(now).unwrap(), vec![new_key.certificate().clone()]);

    // Metadata that expires while in use stops being trusted.
    let short = IdentitySource::new(
        "sp".into(),
        "acs".into(),
        {
            let mut m = metadata(CORP, &old_key);
            m.valid_until = Some(Timestamp::from_unix(now.unix() + 60).unwrap());
            m
        },
        Provisioning::JustInTime,
        false,
    );
    assert!(short.idp_certificates(now).is_ok());
    let later = Timestamp::from_unix(now.unix() + 61).unwrap();
    assert!(matches!(short.idp_certificates(later), Err(SourceError::MetadataExpired(_))));
}

/// pysaml2 as the upstream IdP of a hub on a free port: pysaml2 accepts the hub's signed
/// Redirect-binding AuthnRequest (checked against the hub's published SP metadata), its Response
/// signs alice in just in time, and the hub refuses, with the reason, the same Response again, a
/// Response to no request, and an assertion that has expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pysaml2_idp_signs_people_into_the_hub() {
    use std::sync::Arc;

    const IDP: &str = "https://pysaml2.example.com/idp";
    let data = crossfed_testkit::temp_dir().keep();
    let idp_dir = data.join("idp");
    std::fs::create_dir_all(&idp_dir).unwrap();
    std::fs::create_dir_all(data.join("hub")).unwrap();
    let idp_key =
        crossfed_hub::keys::load_or_create(&idp_dir, "pysaml2 idp", crossfed_clock::Clock::system().now()).unwrap();
    let idp_metadata = data.join("idp.xml");
    std::fs::write(
        &idp_metadata,
        EntityDescriptor::idp(
            IDP,
            vec![idp_key.certificate().clone()],
            vec![Endpoint::redirect("https://pysaml2.example.com/sso")],
        )
        .to_xml(),
    )
    .unwrap();

    let (listener, hub_url) = crate::support::listener().await;
    let config: crossfed_hub::config::HubConfig = toml::from_str(&format!(
        "[identity_source]\nmetadata_file = {}\nprovisioning = \"just-in-time\"\n",
        toml::Value::String(idp_metadata.display().to_string())
    ))
    .unwrap();
    let store = crossfed_testkit::test_store("pysaml2-upstream").await;
    let (hub, _) =
        crossfed_hub::build_hub(&config, store.clone(), &data.join("hub"), &hub_url, crossfed_clock::Clock::system())
            .await
            .unwrap();
    let _stop = crate::support::serve(listener, Arc::new(hub));
    let sp_metadata = data.join("hub-sp.xml");
    let published = reqwest::get(format!("{hub_url}/saml/sp/metadata")).await.unwrap().text().await.unwrap();
    std::fs::write(&sp_metadata, &published).unwrap();

    let browser =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let to_idp = browser.get(format!("{hub_url}/portal")).send().await.unwrap();
    let to_idp =
        browser.get(format!("{hub_url}{}", to_idp.headers()["location"].to_str().unwrap())).send().await.unwrap();
    let location = to_idp.headers()["location"].to_str().unwrap().to_string();
    let query = location.strip_prefix("https://pysaml2.example.com/sso?").unwrap().to_string();
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .map(|v| percent_encoding::percent_decode_str(v).decode_utf8().unwrap().into_owned())
    };
    let idp = |input: serde_json::Value| {
        let mut base = serde_json::json!({
            "entity_id": IDP, "sso_url": "https://pysaml2.example.com/sso",
            "key_file": idp_dir.join("signing.key"), "cert_file": idp_dir.join("signing.crt"),
            "sp_metadata_file": sp_metadata,
        });
        for (k, v) in input.as_object().unwrap() {
            base[k] = v.clone();
        }
        crossfed_testkit::run_peer_json("pysaml2_idp.py", &base)
    };
    let parsed = idp(serde_json::json!({
        "action": "parse_request", "binding": "redirect", "saml_request": param("SAMLRequest"),
        "relay_state": param("RelayState"), "sig_alg": param("SigAlg"), "signature": param("Signature"),
        "want_authn_requests_signed": true,
    }));
    assert_eq!(parsed["accepted"], true, "pysaml2 refused the hub's request: {parsed}");
    assert_eq!(parsed["acs_url"], format!("{hub_url}/saml/acs"));
    let request_id = parsed["id"].as_str().unwrap().to_string();

    let respond = |in_response_to: Option<&str>| {
        let answer = idp(serde_json::json!({
            "action": "respond", "sp_entity_id": format!("{hub_url}/saml/sp"), "acs_url": format!("{hub_url}/saml/acs"),
            "in_response_to": in_response_to,
            "name_id": {"value": "py-alice", "format": ns::NAMEID_PERSISTENT},
            "identity": {
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": ["alice@example.com"],
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": ["Alice"],
            },
            "sign_assertion": true, "sign_response": false,
        }));
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(answer["response_xml"].as_str().unwrap())
    };
    let post = |value: String| {
        let (browser, hub_url) = (browser.clone(), hub_url.clone());
        async move {
            let response =
                browser.post(format!("{hub_url}/saml/acs")).form(&[("SAMLResponse", value)]).send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.headers().get("location").map(|l| l.to_str().unwrap().to_string()),
                response.text().await.unwrap(),
            )
        }
    };
    let response = respond(Some(&request_id));
    let (status, location, page) = post(response.clone()).await;
    assert_eq!((status, location.as_deref()), (303, Some("/portal")), "{page}");
    let alice = store.find_user_by_name("alice@example.com").await.unwrap().unwrap();
    assert_eq!((alice.external_id.as_deref(), alice.given_name.as_deref()), (Some("py-alice"), Some("Alice")));
    let portal = browser.get(format!("{hub_url}/portal")).send().await.unwrap();
    assert_eq!(portal.status(), 200);

    // The same Response again: its request was answered already.
    let (status, _, page) = post(response).await;
    assert_eq!(status, 403);
    assert!(page.contains("did not start, or one that expired or was already completed"), "{page}");
    // Unsolicited, while this hub does not allow IdP-initiated sign-in.
    let (status, _, page) = post(respond(None)).await;
    assert_eq!(status, 403);
    assert!(page.contains("Sign-in refused"), "{page}");
    // An assertion past its NotOnOrAfter (and the clock skew), signed by the right key, answering
    // a request the hub did send.
    let again = browser.get(format!("{hub_url}/login")).send().await.unwrap();
    let again = again.headers()["location"].to_str().unwrap().to_string();
    let again = decode_redirect(again.strip_prefix("https://pysaml2.example.com/sso?").unwrap()).unwrap();
    let pending_id = parse_authn_request(&again.xml, None).unwrap().id;
    let old = Timestamp::from_unix(Timestamp::from(crossfed_clock::Clock::system().now()).unix() - 3600).unwrap();
    let expired = build_response(
        &ResponseSpec {
            issuer: IDP.into(),
            destination: format!("{hub_url}/saml/acs"),
            audiences: vec![format!("{hub_url}/saml/sp")],
            in_response_to: Some(pending_id),
            name_id: NameId {
                value: "py-alice".into(),
                format: Some(ns::NAMEID_PERSISTENT.into()),
                ..NameId::default()
            },
            session_index: "_old".into(),
            authn_instant: old,
            authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
            attributes: Vec::new(),
            lifetime_seconds: 300,
            not_before_skew_seconds: 0,
            session_not_on_or_after: None,
            signed_parts: SignedParts::Assertion,
        },
        old,
        &idp_key,
    )
    .unwrap();
    use base64::Engine;
    let (status, _, page) = post(base64::engine::general_purpose::STANDARD.encode(expired.xml)).await;
    assert_eq!(status, 403);
    assert!(page.contains("expired at"), "{page}");
}
