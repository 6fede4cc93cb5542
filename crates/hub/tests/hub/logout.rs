//! Single logout and the AuthnRequest flags, with real servers on free ports: corp (a hub in
//! built-in-directory mode that imported the hub's SP metadata) and the hub trusting corp. Signing
//! out of the hub ends the session at corp too, over signed Redirect-binding messages; replayed
//! and unsigned messages are refused. An application's IsPassive gets a signed NoPassive answer,
//! and its ForceAuthn is not satisfied by an older session.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use base64::Engine;
use crossfed_hub::config::HubConfig;
use crossfed_saml::{AuthnRequestSpec, MessageKind, NameId, Timestamp, build_authn_request, build_logout_request, ns};
use crossfed_store::{AuditLog, AuditQuery};
use crossfed_testkit::browser::{auto_submit, continue_link, field, submit_sign_in};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::support::listener;

fn spawn_hub(listener: TcpListener, hub: crossfed_hub::Hub) -> oneshot::Sender<()> {
    crate::support::serve(listener, Arc::new(hub))
}

/// Two clients on one cookie jar: one follows redirects like a browser, one stops at each.
fn browsers() -> (reqwest::Client, reqwest::Client) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let following = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
    let stepping =
        reqwest::Client::builder().cookie_provider(jar).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    (following, stepping)
}

fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 303, "expected a redirect from {}", response.url());
    response.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_of_the_hub_ends_the_session_at_corp_too() {
    let (corp_listener, corp_url) = listener().await;
    let (hub_listener, hub_url) = listener().await;
    let mut stops = Vec::new();

    // The hub's SP metadata, exported the way an administrator hands it to the IdP.
    let hub_dir = crossfed_testkit::temp_dir().keep();
    let hub_key =
        crossfed_hub::keys::load_or_create(&hub_dir, "crossfed hub", crossfed_clock::Clock::system().now()).unwrap();
    let (entity_id, acs_url) = crossfed_hub::upstream::sp_endpoints(&hub_url);
    let sp_xml = crossfed_hub::upstream::sp_metadata_xml(&entity_id, &acs_url, &[hub_key.certificate().clone()]);
    assert!(
        sp_xml.contains(&format!(
            "SingleLogoutService Binding=\"{}\" Location=\"{hub_url}/saml/slo\"",
            ns::BINDING_HTTP_REDIRECT
        )),
        "{sp_xml}"
    );
    let sp_file = hub_dir.join("sp.xml");
    std::fs::write(&sp_file, &sp_xml).unwrap();

    let mut corp_config: HubConfig = toml::from_str(
        r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
password = "alice-password-1"

[[applications]]
id = "hub"
name = "crossfed hub"
assigned_users = ["alice"]
[applications.custom]
name_id = "${user:email}"
"#,
    )
    .unwrap();
    corp_config.applications[0].custom.as_mut().unwrap().metadata_file = Some(sp_file);
    let corp_store = crossfed_testkit::test_store("corp").await;
    let corp_dir = crossfed_testkit::temp_dir().keep();
    let (corp, _) = crossfed_hub::build_hub(
        &corp_config,
        corp_store.clone(),
        &corp_dir,
        &corp_url,
        crossfed_clock::Clock::system(),
    )
    .await
    .unwrap();
    stops.push(spawn_hub(corp_listener, corp));

    let hub_config: HubConfig = toml::from_str(&format!(
        "[identity_source]\nmetadata_url = \"{corp_url}/saml/apps/hub/metadata\"\nprovisioning = \"just-in-time\"\n"
    ))
    .unwrap();
    let hub_store = crossfed_testkit::test_store("hub").await;
    let (hub, _) =
        crossfed_hub::build_hub(&hub_config, hub_store.clone(), &hub_dir, &hub_url, crossfed_clock::Clock::system())
            .await
            .unwrap();
    stops.push(spawn_hub(hub_listener, hub));

    let (browser, stepper) = browsers();
    let login = browser.get(format!("{hub_url}/portal")).send().await.unwrap();
    assert!(login.url().as_str().starts_with(&corp_url), "{}", login.url());
    let answer = submit_sign_in(&browser, login, "alice", "alice-password-1").await.text().await.unwrap();
    let portal = auto_submit(&browser, &answer, "SAMLResponse").await;
    assert_eq!(portal.status(), 200);
    let portal = portal.text().await.unwrap();
    let csrf = field(&portal, "csrf").to_string();

    // The console's test sign-in: corp is asked to authenticate afresh, and what it sends is
    // shown to the administrator without signing anyone in.
    let token_file = crossfed_hub::tokens::ensure_admin_token(
        &hub_store,
        &hub_dir,
        Timestamp::from(crossfed_clock::Clock::system().now()).unix(),
    )
    .await
    .unwrap()
    .unwrap();
    let token = std::fs::read_to_string(token_file).unwrap();
    let console = browser
        .post(format!("{hub_url}/admin/login"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("token", token.trim())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let console_csrf = field(&console, "csrf").to_string();
    let source_page =
        browser.get(format!("{hub_url}/admin/identity-source")).send().await.unwrap().text().await.unwrap();
    assert!(source_page.contains(&format!("{hub_url}/saml/slo")), "{source_page}");
    let leaving = browser
        .post(format!("{hub_url}/admin/identity-source/test"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", console_csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at_corp = browser.get(continue_link(&leaving).expect(&leaving)).send().await.unwrap();
    assert!(
        at_corp.url().as_str().starts_with(&format!("{corp_url}/login")),
        "ForceAuthn asks again: {}",
        at_corp.url()
    );
    let answer = submit_sign_in(&browser, at_corp, "alice", "alice-password-1").await.text().await.unwrap();
    let shown = auto_submit(&browser, &answer, "SAMLResponse").await;
    assert!(shown.url().path().starts_with("/admin/identity-source/test/"), "{}", shown.url());
    let shown = shown.text().await.unwrap();
    assert!(shown.contains("Nobody was signed in") && shown.contains("alice@example.com"), "{shown}");
    assert!(shown.contains("the assertion"), "{shown}");

    // A cross-site form cannot sign alice out: it lacks the CSRF token, and her cookie stays.
    let forged = stepper.post(format!("{hub_url}/logout")).form(&[("csrf", "guess")]).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.headers().get("set-cookie").is_none());
    assert_eq!(browser.get(format!("{hub_url}/portal")).send().await.unwrap().url().path(), "/portal");

    // Sign out: hub → corp's SLO (a signed LogoutRequest) → hub's SLO (corp's signed answer).
    // The hub answers with a page that goes on to corp: a redirect would be blocked by the
    // portal page's form-action in a real browser.
    let out = stepper.post(format!("{hub_url}/logout")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(out.status(), 200);
    assert!(out.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().contains("Max-Age=0")));
    let to_corp = continue_link(&out.text().await.unwrap()).expect("a page going on to corp");
    assert!(to_corp.starts_with(&format!("{corp_url}/saml/slo?SAMLRequest=")), "{to_corp}");
    assert!(to_corp.contains("&Signature="), "the request is signed: {to_corp}");
    let at_corp = stepper.get(&to_corp).send().await.unwrap();
    let back = location(&at_corp);
    assert!(back.starts_with(&format!("{hub_url}/saml/slo?SAMLResponse=")), "{back}");
    let done = stepper.get(&back).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("signed out of the hub and of your organization"));

    // Both sessions are gone: corp asks for the password again instead of signing alice back in.
    let corp_portal = browser.get(format!("{corp_url}/portal")).send().await.unwrap();
    assert_eq!(corp_portal.url().path(), "/login");
    let hub_portal = browser.get(format!("{hub_url}/portal")).send().await.unwrap();
    assert!(hub_portal.url().as_str().starts_with(&format!("{corp_url}/login")), "{}", hub_portal.url());
    assert!(hub_portal.text().await.unwrap().contains("name=\"password\""));
    let trail = corp_store.query(&AuditQuery { action: Some("logout".into()), ..AuditQuery::default() }).await.unwrap();
    assert!(trail.iter().any(|e| e.detail.contains(&format!("requested by {hub_url}/saml/sp"))), "{trail:?}");

    // The answer is accepted once; an unsigned request is refused with the reason.
    let replay = stepper.get(&back).send().await.unwrap();
    assert_eq!(replay.status(), 403);
    assert!(replay.text().await.unwrap().contains("answers no logout this hub started"));
    let name_id = NameId { value: "alice@example.com".into(), ..NameId::default() };
    let (_, xml) = build_logout_request(
        &entity_id,
        &format!("{corp_url}/saml/slo"),
        &name_id,
        None,
        Timestamp::from(crossfed_clock::Clock::system().now()),
        None,
    )
    .unwrap();
    let unsigned = crossfed_saml::redirect_query(MessageKind::Request, &xml, None, None).unwrap();
    let refused = stepper.get(format!("{corp_url}/saml/slo?{unsigned}")).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("does not carry"));
    drop(stops);
}

/// An unsigned Redirect-binding AuthnRequest from the wiki application, with flags set.
fn authn_query(hub_url: &str, force_authn: bool, is_passive: bool) -> String {
    let spec = AuthnRequestSpec {
        issuer: "https://wiki.example.com".into(),
        destination: format!("{hub_url}/saml/sso"),
        acs_url: "https://wiki.example.com/saml/acs".into(),
        protocol_binding: ns::BINDING_HTTP_POST.into(),
        name_id_format: None,
        force_authn,
    };
    let (_, mut xml) =
        build_authn_request(&spec, Timestamp::from(crossfed_clock::Clock::system().now()), None).unwrap();
    if is_passive {
        xml = xml.replacen("<samlp:AuthnRequest ", "<samlp:AuthnRequest IsPassive=\"true\" ", 1);
    }
    crossfed_saml::redirect_query(MessageKind::Request, &xml, Some("state-1"), None).unwrap()
}

#[tokio::test]
async fn is_passive_gets_no_passive_and_force_authn_needs_a_fresh_sign_in() {
    let (listener, hub_url) = listener().await;
    let config: HubConfig = toml::from_str(
        r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
password = "alice-password-1"

[[applications]]
id = "wiki"
name = "Wiki"
assigned_users = ["alice"]
[applications.custom]
acs_url = "https://wiki.example.com/saml/acs"
audience = "https://wiki.example.com"
"#,
    )
    .unwrap();
    let dir = crossfed_testkit::temp_dir().keep();
    let store = crossfed_testkit::test_store("passive").await;
    let (hub, _) =
        crossfed_hub::build_hub(&config, store, &dir, &hub_url, crossfed_clock::Clock::system()).await.unwrap();
    let certificate = hub.keys.assertion.signing_key().certificate().clone();
    let _stop = spawn_hub(listener, hub);
    let (browser, stepper) = browsers();

    // Nobody signed in and IsPassive: a signed Response with NoPassive goes straight back.
    let page = browser.get(format!("{hub_url}/saml/sso?{}", authn_query(&hub_url, false, true))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("action=\"https://wiki.example.com/saml/acs\""), "{page}");
    assert_eq!(field(&page, "RelayState"), "state-1");
    let xml = base64::engine::general_purpose::STANDARD.decode(field(&page, "SAMLResponse")).unwrap();
    let text = String::from_utf8(xml.clone()).unwrap();
    assert!(text.contains(ns::STATUS_NO_PASSIVE) && !text.contains("Assertion"), "{text}");
    let doc = crossfed_xml::parse(&xml).unwrap();
    crossfed_xmldsig::verify_enveloped(&doc, doc.root(), &[certificate], &crossfed_xmldsig::VerifyOptions::default())
        .unwrap();

    // Signed in, ForceAuthn: sent to sign in again, and the old session cannot skip that.
    let login = browser.get(format!("{hub_url}/login")).send().await.unwrap();
    let portal = submit_sign_in(&browser, login, "alice", "alice-password-1").await;
    assert_eq!(portal.url().path(), "/portal");
    let forced =
        stepper.get(format!("{hub_url}/saml/sso?{}", authn_query(&hub_url, true, false))).send().await.unwrap();
    let to_login = location(&forced);
    assert!(to_login.starts_with("/login?next=/saml/sso/resume/") && to_login.ends_with("&force=1"), "{to_login}");
    let resume = to_login.trim_start_matches("/login?next=").trim_end_matches("&force=1").to_string();
    let skipped = stepper.get(format!("{hub_url}{resume}")).send().await.unwrap();
    assert_eq!(location(&skipped), to_login, "the old session does not answer a ForceAuthn request");
    let login = browser.get(format!("{hub_url}{to_login}")).send().await.unwrap();
    let answered = submit_sign_in(&browser, login, "alice", "alice-password-1").await;
    assert_eq!(answered.status(), 200);
    let answered = answered.text().await.unwrap();
    assert!(answered.contains("name=\"SAMLResponse\"") && answered.contains("wiki.example.com/saml/acs"), "{answered}");
}
