//! The hub's portal end to end, with real servers on free ports: alice signs in to the built-in
//! directory, sees Amazon Connect, opens it, and her browser posts the hub's Response to the
//! emulated account, landing on the agent workspace; carol sees nothing and cannot launch;
//! wrong passwords and cross-site launches are refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crossfed_cloud::config::{CloudConfig, ProviderConfig, RoleConfig, apply};
use crossfed_hub::config::HubConfig;
use crossfed_saml::Timestamp;
use crossfed_store::{AuditLog, AuditQuery, Store};
use crossfed_testkit::browser::follow;

use crate::support::sign_in;

fn field<'a>(html: &'a str, name: &str) -> &'a str {
    let marker = format!("name=\"{name}\" value=\"");
    html.split(&marker).nth(1).unwrap_or_else(|| panic!("no field {name} in {html}")).split('"').next().unwrap()
}

fn unescape(text: &str) -> String {
    crossfed_testkit::browser::unescape(text)
}

/// The hub's directory in these tests: alice is assigned to the application, carol is not.
const USERS: &str = r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
password = "alice-password-1"

[[users]]
user_name = "carol"
email = "carol@example.com"
password = "carol-password-1"
"#;

async fn memory_store(name: &str) -> Store {
    crossfed_testkit::test_store(name).await
}

struct Servers {
    hub: String,
    hub_store: Store,
    _stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

async fn start() -> Servers {
    let data = crossfed_testkit::temp_dir().keep();
    let (hub_listener, hub_url) = crate::support::listener().await;
    let (cloud_listener, cloud_url) = crate::support::listener().await;

    // The target account first, to learn the Connect instance's ID.
    let cloud = Arc::new(crossfed_cloud::App::new(
        memory_store("cloud").await,
        crossfed_cloud::Settings::new("123456789012", "us-east-1", &cloud_url),
        "AKIAADMIN",
        "secret",
    ));
    let instance = crate::support::connect_instance(&cloud, &["alice@example.com"]).await;

    // The hub, with the Connect application from the catalog.
    let hub_config: HubConfig = toml::from_str(&format!(
        r#"
{USERS}

[[applications]]
id = "connect"
name = "Amazon Connect"
assigned_users = ["alice"]
[applications.amazon_connect]
account_id = "123456789012"
region = "us-east-1"
instance_id = "{instance}"
role_name = "ConnectAgent"
provider_name = "Hub"
signin_url = "{cloud_url}/saml"
console_url = "{cloud_url}"
destination = "/agent-app-v2"
"#
    ))
    .unwrap();
    let hub_store = memory_store("hub").await;
    let (hub, _) =
        crossfed_hub::build_hub(&hub_config, hub_store.clone(), &data, &hub_url, crossfed_clock::Clock::system())
            .await
            .unwrap();
    let hub = Arc::new(hub);

    // The account trusts the hub's Connect application through its published metadata.
    let mut stops = Vec::new();
    let tx = crate::support::serve(hub_listener, hub.clone());
    stops.push(tx);
    let metadata = reqwest::get(format!("{hub_url}/saml/apps/connect/metadata")).await.unwrap().text().await.unwrap();
    let trust = CloudConfig {
        saml_providers: vec![ProviderConfig::from_xml("Hub", metadata)],
        roles: vec![RoleConfig::connect_agent("ConnectAgent", "Hub", "internal-services")],
        ..crate::support::connect_instance_config(&["alice@example.com"])
    };
    apply(&cloud, &trust, Timestamp::from(crossfed_clock::Clock::system().now()).unix()).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(crossfed_cloud::serve(cloud_listener, cloud, async move {
        let _ = rx.await;
    }));
    stops.push(tx);
    Servers { hub: hub_url, hub_store, _stops: stops }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_opens_amazon_connect_from_the_portal() {
    let servers = start().await;
    let client = browser();
    let portal = sign_in(&client, &servers.hub, "alice", "alice-password-1").await;
    assert_eq!(portal.status(), 200);
    assert!(portal.url().path().ends_with("/portal"));
    let portal = portal.text().await.unwrap();
    assert!(portal.contains("id=\"app-connect\"") && portal.contains("Amazon Connect"), "{portal}");

    let csrf = field(&portal, "csrf").to_string();
    let launch = client
        .post(format!("{}/apps/connect/launch", servers.hub))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(launch.status(), 200);
    let csp = launch.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    let form = launch.text().await.unwrap();
    let action = unescape(form.split("action=\"").nth(1).unwrap().split('"').next().unwrap());
    let saml = field(&form, "SAMLResponse").to_string();
    let relay = unescape(field(&form, "RelayState"));

    // What the browser's auto-submit does.
    let landed = client
        .post(&action)
        .form(&[("SAMLResponse", saml.as_str()), ("RelayState", relay.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(landed.status(), 200);
    let page = landed.text().await.unwrap();
    assert!(page.contains("Agent workspace") && page.contains("alice@example.com"), "{page}");

    let events =
        servers.hub_store.query(&AuditQuery { actor: Some("alice".into()), ..AuditQuery::default() }).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["launch", "login"]);
    // Recorded by the signing thread, before the answer: it names the assertion the browser got.
    let assertion_id = {
        use base64::Engine as _;
        let xml = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(&saml).unwrap()).unwrap();
        xml.split("<saml:Assertion")
            .nth(1)
            .unwrap()
            .split("ID=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(events[0].target.as_deref(), Some("connect"));
    assert_eq!(events[0].detail, format!("assertion {assertion_id}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_of_the_portal() {
    let servers = start().await;

    // A wrong password: the form again, with the message.
    let response = sign_in(&browser(), &servers.hub, "alice", "wrong-password").await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("wrong user name or password"));

    // carol is not assigned: nothing listed, and a launch is refused.
    let client = browser();
    let portal = sign_in(&client, &servers.hub, "carol", "carol-password-1").await.text().await.unwrap();
    assert!(portal.contains("id=\"no-apps\""), "{portal}");
    let csrf = field(&portal, "csrf").to_string();
    let response = client
        .post(format!("{}/apps/connect/launch", servers.hub))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("not assigned to you"));

    // A cross-site launch, even with the right token, is refused.
    let client = browser();
    let portal = sign_in(&client, &servers.hub, "alice", "alice-password-1").await.text().await.unwrap();
    let csrf = field(&portal, "csrf").to_string();
    let response = client
        .post(format!("{}/apps/connect/launch", servers.hub))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    // The portal without a session goes to sign-in.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/portal", servers.hub))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers().get("location").unwrap(), "/login?next=/portal");

    // AWS sign-in never sends AuthnRequests: one naming its audience is forged and refused.
    let forged = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_forged" Version="2.0" IssueInstant="2026-11-25T10:00:00Z"><saml:Issuer>urn:amazon:webservices</saml:Issuer></samlp:AuthnRequest>"#;
    let form = [
        ("SAMLRequest", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, forged)),
        ("RelayState", "https://evil.example.com/".to_string()),
    ];
    let client = browser();
    sign_in(&client, &servers.hub, "alice", "alice-password-1").await;
    let response = client.post(format!("{}/saml/sso", servers.hub)).form(&form).send().await.unwrap();
    let page = follow(&client, response).await;
    assert_eq!(page.status, 400);
    assert!(page.text.contains("Unknown service provider"), "{page:?}");
}

/// A custom application given by its SP metadata (as an IdP administrator uploads it): the entity
/// ID becomes the audience and the default HTTP-POST ACS the destination; conflicting or
/// incomplete entries are refused with a message that says what to give.
#[tokio::test]
async fn a_custom_application_is_configured_from_its_sp_metadata() {
    use crossfed_saml::{EntityDescriptor, IndexedEndpoint};
    let data = crossfed_testkit::temp_dir().keep();
    std::fs::create_dir_all(data.join("app")).unwrap();
    std::fs::create_dir_all(data.join("hub")).unwrap();
    let app_key =
        crossfed_hub::keys::load_or_create(&data.join("app"), "app", crossfed_clock::Clock::system().now()).unwrap();
    let sp = EntityDescriptor::sp(
        "https://app.example.com/sp",
        vec![app_key.certificate().clone()],
        vec![
            IndexedEndpoint::new(crossfed_saml::ns::BINDING_HTTP_REDIRECT, "https://app.example.com/redirect", 0),
            IndexedEndpoint::post("https://app.example.com/acs", 1),
        ],
    );
    let metadata = data.join("app-sp.xml");
    std::fs::write(&metadata, sp.to_xml()).unwrap();
    let no_post = data.join("app-redirect-only.xml");
    let redirect_only = EntityDescriptor::sp(
        "https://app.example.com/sp",
        vec![app_key.certificate().clone()],
        vec![IndexedEndpoint::new(crossfed_saml::ns::BINDING_HTTP_REDIRECT, "https://app.example.com/redirect", 0)],
    );
    std::fs::write(&no_post, redirect_only.to_xml()).unwrap();

    let build = |custom: String| {
        let data = data.clone();
        async move {
            let text = format!("[[applications]]\nid = \"app\"\nname = \"App\"\n[applications.custom]\n{custom}\n");
            let config: HubConfig = toml::from_str(&text).unwrap();
            crossfed_hub::build_hub(
                &config,
                memory_store("hub").await,
                &data.join("hub"),
                "http://127.0.0.1:1",
                crossfed_clock::Clock::system(),
            )
            .await
        }
    };
    let path = |p: &std::path::Path| toml::Value::String(p.display().to_string()).to_string();

    let (hub, _) = build(format!("metadata_file = {}", path(&metadata))).await.unwrap();
    let catalog = hub.applications.snapshot();
    let app = &catalog.get("app").unwrap().app;
    assert_eq!(app.audience, "https://app.example.com/sp");
    assert_eq!(app.acs_url, "https://app.example.com/acs");

    let both = build(format!("metadata_file = {}\naudience = \"x\"", path(&metadata))).await.err().unwrap().to_string();
    assert!(both.contains("not both"), "{both}");
    let neither = build(String::new()).await.err().unwrap().to_string();
    assert!(neither.contains("give acs_url and audience"), "{neither}");
    let redirect = build(format!("metadata_file = {}", path(&no_post))).await.err().unwrap().to_string();
    assert!(redirect.contains("no AssertionConsumerService with the HTTP-POST binding"), "{redirect}");
    let missing = build(format!("metadata_file = {}", path(&data.join("absent.xml")))).await.err().unwrap().to_string();
    assert!(missing.contains("application app: reading"), "{missing}");
    let twice = format!(
        "metadata_file = {0}\n[[applications]]\nid = \"again\"\nname = \"Again\"\n[applications.custom]\nmetadata_file = {0}",
        path(&metadata)
    );
    let twice = build(twice).await.err().unwrap().to_string();
    assert!(twice.contains("the same service provider"), "{twice}");
}

/// pysaml2 as a downstream application: the hub imports pysaml2's own SP metadata, pysaml2 starts
/// an SP-initiated login at `/saml/sso`, alice signs in at the hub, and pysaml2 accepts the
/// Response the hub posts back to its ACS, bound to its request. carol, not assigned, gets no
/// Response at all. The request signatures are checked with the certificate from pysaml2's
/// metadata.
#[tokio::test]
async fn pysaml2_signs_alice_in_through_the_hub_from_an_sp_initiated_request() {
    let data = crossfed_testkit::temp_dir().keep();
    for dir in ["sp", "hub"] {
        std::fs::create_dir_all(data.join(dir)).unwrap();
    }
    crossfed_hub::keys::load_or_create(&data.join("sp"), "pysaml2 sp", crossfed_clock::Clock::system().now()).unwrap();
    let sp = |action: &str, extra: serde_json::Value| {
        let mut input = serde_json::json!({
            "action": action,
            "entity_id": "https://app.example.com/sp",
            "acs_url": "https://app.example.com/acs",
            "key_file": data.join("sp/signing.key"),
            "cert_file": data.join("sp/signing.crt"),
            "want_assertions_signed": true,
        });
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        crossfed_testkit::run_peer_json("pysaml2_sp.py", &input)
    };
    let sp_metadata = data.join("pysaml2-sp.xml");
    std::fs::write(&sp_metadata, sp("metadata", serde_json::json!({"sign": true}))["metadata"].as_str().unwrap())
        .unwrap();

    let (listener, hub_url) = crate::support::listener().await;
    let config: HubConfig = toml::from_str(&format!(
        r#"
{USERS}

[[applications]]
id = "pyapp"
name = "A pysaml2 application"
assigned_users = ["alice"]
[applications.custom]
metadata_file = {}
"#,
        toml::Value::String(sp_metadata.display().to_string())
    ))
    .unwrap();
    let (hub, _) = crossfed_hub::build_hub(
        &config,
        memory_store("hub").await,
        &data.join("hub"),
        &hub_url,
        crossfed_clock::Clock::system(),
    )
    .await
    .unwrap();
    let _stop = crate::support::serve(listener, Arc::new(hub));
    let idp_metadata = reqwest::get(format!("{hub_url}/saml/apps/pyapp/metadata")).await.unwrap().text().await.unwrap();
    let idp_entity_id = crossfed_saml::EntityDescriptor::parse(idp_metadata.as_bytes()).unwrap().entity_id;
    let idp_metadata_file = data.join("hub-idp.xml");
    std::fs::write(&idp_metadata_file, &idp_metadata).unwrap();

    let login = |user: &'static str, password: &'static str| {
        let (sp, hub_url, idp_entity_id, idp_metadata_file) =
            (&sp, hub_url.clone(), idp_entity_id.clone(), idp_metadata_file.clone());
        async move {
            let request = sp(
                "authn_request",
                serde_json::json!({"idp_metadata_file": idp_metadata_file, "idp_entity_id": idp_entity_id, "sign": true}),
            );
            let location = request["location"].as_str().unwrap();
            assert!(location.starts_with(&format!("{hub_url}/saml/sso?")), "{location}");
            let client = browser();
            let login_page = client.get(location).send().await.unwrap();
            // The request waits server-side while the user signs in.
            assert!(login_page.url().query().unwrap().starts_with("next=/saml/sso/resume/"), "{}", login_page.url());
            let answer = crossfed_testkit::browser::submit_sign_in(&client, login_page, user, password).await;
            (request["request_id"].as_str().unwrap().to_string(), answer.status(), answer.text().await.unwrap())
        }
    };

    let (request_id, status, page) = login("alice", "alice-password-1").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("action=\"https://app.example.com/acs\""), "{page}");
    let accepted = sp(
        "acs",
        serde_json::json!({
            "idp_metadata_file": idp_metadata_file,
            "saml_response": field(&page, "SAMLResponse"),
            "outstanding": request_id,
        }),
    );
    assert_eq!(accepted["accepted"], true, "{accepted}");
    assert_eq!(accepted["name_id"], "alice@example.com");
    assert_eq!(accepted["in_response_to"], request_id.as_str());
    assert_eq!(accepted["audiences"], serde_json::json!(["https://app.example.com/sp"]));

    let (_, status, page) = login("carol", "carol-password-1").await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains("SAMLResponse"), "{page}");

    // pysaml2's metadata says AuthnRequestsSigned: an unsigned request is refused, and so is one
    // whose query signature was altered.
    let request = |sign: bool| {
        let input =
            serde_json::json!({"idp_metadata_file": idp_metadata_file, "idp_entity_id": idp_entity_id, "sign": sign});
        sp("authn_request", input)["location"].as_str().unwrap().to_string()
    };
    let unsigned = browser().get(request(false)).send().await.unwrap();
    assert_eq!(unsigned.status(), 400);
    let page = unsigned.text().await.unwrap();
    assert!(page.contains("must sign its requests, and this one is unsigned"), "{page}");
    let signed = request(true);
    let (head, signature) = signed.split_once("&Signature=").unwrap();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{head}&Signature={flipped}{}", &signature[1..]);
    let refused = browser().get(tampered).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let page = refused.text().await.unwrap();
    assert!(page.contains("does not verify with"), "{page}");

    // The POST binding: the enveloped signature is checked, and the request waits for sign-in.
    let sso_url = format!("{hub_url}/saml/sso");
    let post = |xml: String| {
        let sso_url = sso_url.clone();
        async move {
            let form =
                [("SAMLRequest", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, xml.as_bytes()))];
            let client = browser();
            let response = client.post(sso_url).form(&form).send().await.unwrap();
            follow(&client, response).await
        }
    };
    let input = serde_json::json!({
        "idp_metadata_file": idp_metadata_file, "binding": "post", "sign": true,
        "idp_sso_url": format!("{hub_url}/saml/sso"),
    });
    let xml = sp("authn_request", input)["request_xml"].as_str().unwrap().to_string();
    let waiting = post(xml.clone()).await;
    assert!(waiting.url.query().unwrap_or("").starts_with("next=/saml/sso/resume/"), "{waiting:?}");
    let altered = post(xml.replacen("https://app.example.com/acs", "https://app.example.com/acs?x", 1)).await;
    assert_eq!(altered.status, 400);
    assert!(altered.text.contains("does not verify with"), "{altered:?}");
}

/// Groups matter to a launch in two ways: an assignment through a group, and a mapping that sends
/// them. A launch reads them when either applies, and only then.
#[tokio::test]
async fn group_assignments_and_group_mappings_reach_the_assertion() {
    use crossfed_store::{GroupStore, UserStore};
    let data = crossfed_testkit::temp_dir().keep();
    let (listener, hub_url) = crate::support::listener().await;
    let config: HubConfig = toml::from_str(&format!(
        r#"{USERS}
[[applications]]
id = "wiki"
name = "Wiki"
assigned_groups = ["Wiki Editors"]
[applications.custom]
acs_url = "https://wiki.example.com/acs"
audience = "https://wiki.example.com"
[[applications.custom.attributes]]
name = "memberOf"
value = "${{user:groups}}"

[[applications]]
id = "crm"
name = "CRM"
assigned_users = ["carol"]
[applications.custom]
acs_url = "https://crm.example.com/acs"
audience = "https://crm.example.com"
[[applications.custom.attributes]]
name = "team"
value = "support"
"#
    ))
    .unwrap();
    let store = memory_store("hub-groups").await;
    let (hub, _) = crossfed_hub::build_hub(&config, store.clone(), &data, &hub_url, crossfed_clock::Clock::system())
        .await
        .unwrap();
    let alice = store.find_user_by_name("alice").await.unwrap().unwrap();
    let now = Timestamp::from(crossfed_clock::Clock::system().now()).unix();
    store.create_group_with_members("Wiki Editors", None, std::slice::from_ref(&alice.id), now).await.unwrap();
    store.create_group_with_members("Support", None, std::slice::from_ref(&alice.id), now).await.unwrap();
    let tx = crate::support::serve(listener, Arc::new(hub));

    let launch = |client: reqwest::Client, app: &'static str| {
        let hub_url = hub_url.clone();
        async move {
            let portal = client.get(format!("{hub_url}/portal")).send().await.unwrap().text().await.unwrap();
            let csrf = field(&portal, "csrf").to_string();
            let response = client
                .post(format!("{hub_url}/apps/{app}/launch"))
                .header("Sec-Fetch-Site", "same-origin")
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let decoded = |form: &str| {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(field(form, "SAMLResponse")).unwrap();
        String::from_utf8(bytes).unwrap()
    };

    let as_alice = browser();
    sign_in(&as_alice, &hub_url, "alice", "alice-password-1").await;
    let (status, form) = launch(as_alice.clone(), "wiki").await;
    assert_eq!(status, 200, "alice is assigned through her group: {form}");
    let xml = decoded(&form);
    assert!(
        xml.contains(">Wiki Editors</saml:AttributeValue>") && xml.contains(">Support</saml:AttributeValue>"),
        "{xml}"
    );
    let (status, _) = launch(as_alice, "crm").await;
    assert_eq!(status, 403);

    let as_carol = browser();
    sign_in(&as_carol, &hub_url, "carol", "carol-password-1").await;
    let (status, form) = launch(as_carol.clone(), "crm").await;
    assert_eq!(status, 200, "{form}");
    assert!(decoded(&form).contains(">support</saml:AttributeValue>"));
    let (status, _) = launch(as_carol, "wiki").await;
    assert_eq!(status, 403, "carol is in no group");
    let _ = tx.send(());
}
