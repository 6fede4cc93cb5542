//! Values that identify a person downstream are one user's: an e-mail address belongs to one
//! user whichever door writes it (admin API, SCIM, console, configuration file, just-in-time
//! sign-in), compared without case and Unicode form; and a launch is refused when the value an
//! application's mapping yields for the NameID is yielded for another user too, while a value
//! the store guarantees unique passes. A database from before the e-mail index opens, and the
//! users it has sharing an address are listed and refused where they would be confused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crossfed_hub::config::HubConfig;
use crossfed_store::{AuditLog, AuditQuery, Outcome, Store, UserStore};
use crossfed_testkit::browser::{field, unescape};
use serde_json::{Value, json};

use crate::support::{Portal, Running, portal_sign_in, start_hub};

/// Two applications of the same kind, one identifying people by a field the store keeps
/// unique, one by a field it does not.
const APPS: &str = r#"
[[applications]]
id = "by-email"
name = "Mail-keyed app"
assigned_users = ["alice", "bob", "carol"]
[applications.custom]
acs_url = "https://mail.example.com/saml/acs"
audience = "https://mail.example.com"
name_id = "${user:email}"

[[applications]]
id = "by-given-name"
name = "Name-keyed app"
assigned_users = ["alice", "bob", "carol"]
[applications.custom]
acs_url = "https://names.example.com/saml/acs"
audience = "https://names.example.com"
name_id = "user-${user:givenName}"
"#;

const USERS: &str = r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
given_name = "Sam"
password = "alice-password-1"
"#;

async fn start_on(config: &str, store: Store) -> Running {
    let data = crossfed_testkit::temp_dir().keep();
    start_hub(config, &store, &data, crossfed_clock::Clock::system()).await
}

async fn start(config: &str) -> Running {
    start_on(config, crossfed_testkit::test_store("identities").await).await
}

/// A JSON request with a bearer token; the status and the body.
async fn send(hub: &Running, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{}{path}", hub.url))
        .header("authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

async fn api(hub: &Running, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    send(hub, &hub.admin, method, &format!("/api/v1{path}"), body).await
}

async fn scim(hub: &Running, method: &str, path: &str, body: Value) -> (u16, Value) {
    send(hub, &hub.scim, method, &format!("/scim/v2{path}"), Some(body)).await
}

fn scim_user(user_name: &str, emails: &[&str]) -> Value {
    let emails: Vec<Value> =
        emails.iter().enumerate().map(|(i, e)| json!({"value": e, "type": "work", "primary": i == 0})).collect();
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": true,
           "emails": emails})
}

fn message(body: &Value) -> String {
    body["message"].as_str().or(body["detail"].as_str()).unwrap_or_default().to_string()
}

async fn user_count(store: &Store) -> i64 {
    store.list_users(crossfed_store::Page::default()).await.unwrap().1
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

async fn signed_in(hub: &Running, user: &str, password: &str) -> Portal {
    portal_sign_in(&hub.url, user, password).await
}

#[tokio::test]
async fn an_email_address_belongs_to_one_user_whichever_door_writes_it() {
    let hub = start(USERS).await;

    // The admin API: another spelling of alice's address is hers.
    let taken = json!({"user_name": "bob", "email": "ALICE@Example.COM", "password": "bob-password-1"});
    let (status, body) = api(&hub, "POST", "/users", Some(taken)).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");
    let text = message(&body);
    assert!(text.contains("\"ALICE@Example.COM\"") && text.contains("\"alice\"") && text.contains("\"bob\""), "{text}");
    let (status, bob) =
        api(&hub, "POST", "/users", Some(json!({"user_name": "bob", "email": "bob@example.com"}))).await;
    assert_eq!(status, 201, "{bob}");
    let (status, body) = api(&hub, "PATCH", "/users/bob", Some(json!({"email": "alice@example.com"}))).await;
    assert_eq!(status, 409, "{body}");
    let (_, unchanged) = api(&hub, "GET", "/users/bob", None).await;
    assert_eq!(
        (unchanged["emails"][0]["value"].as_str(), &unchanged["version"]),
        (Some("bob@example.com"), &bob["version"])
    );

    // SCIM: 409 uniqueness, for a secondary address too, and nothing created.
    let (status, body) =
        scim(&hub, "POST", "/Users", scim_user("carol", &["carol@example.com", "Alice@example.com"])).await;
    assert_eq!((status, body["scimType"].as_str()), (409, Some("uniqueness")), "{body}");
    assert!(message(&body).contains("\"alice\""), "{body}");
    assert!(hub.store.find_user_by_name("carol").await.unwrap().is_none());
    // A composed and a decomposed é are one letter.
    let (status, jose) = scim(&hub, "POST", "/Users", scim_user("jose", &["jos\u{e9}@example.com"])).await;
    assert_eq!(status, 201, "{jose}");
    let (status, body) = scim(&hub, "POST", "/Users", scim_user("jose2", &["JOSE\u{301}@example.com"])).await;
    assert_eq!((status, body["scimType"].as_str()), (409, Some("uniqueness")), "{body}");
    assert!(message(&body).contains("\"jose\""), "{body}");
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "add", "path": "emails", "value": [{"value": "bob@EXAMPLE.com"}]}]});
    let (status, body) = scim(&hub, "PATCH", &format!("/Users/{}", jose["id"].as_str().unwrap()), patch).await;
    assert_eq!((status, body["scimType"].as_str()), (409, Some("uniqueness")), "{body}");

    // The console's form shows the refusal.
    let client = browser();
    let overview = client
        .post(format!("{}/admin/login", hub.url))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("token", hub.admin.as_str())])
        .send()
        .await
        .unwrap();
    let csrf = field(&overview.text().await.unwrap(), "csrf").to_string();
    let added = client
        .post(format!("{}/admin/users", hub.url))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", csrf.as_str()), ("user_name", "dave"), ("email", "alice@example.COM"), ("password", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 409);
    let page = unescape(&added.text().await.unwrap());
    assert!(page.contains("e-mail address \"alice@example.COM\" is already an address of user \"alice\""), "{page}");

    assert_eq!(user_count(&hub.store).await, 3, "alice, bob and jose only");
    let refusals = hub
        .store
        .query(&AuditQuery { action: Some("user.create".into()), ..AuditQuery::default() })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.outcome == Outcome::Failure)
        .count();
    assert_eq!(refusals, 4, "each refused creation is audited");
}

#[tokio::test]
async fn the_configuration_file_may_not_give_two_users_one_address() {
    let data = crossfed_testkit::temp_dir().keep();
    let store = crossfed_testkit::test_store("identities").await;
    let twice = format!(
        "{USERS}\n[[users]]\nuser_name = \"alicia\"\nemail = \"Alice@Example.com\"\npassword = \"alicia-password-1\"\n"
    );
    let config: HubConfig = toml::from_str(&twice).unwrap();
    let clock = crossfed_clock::Clock::system();
    let refused = crossfed_hub::build_hub(&config, store.clone(), &data, "http://127.0.0.1:1", clock.clone()).await;
    let text = refused.err().unwrap().to_string();
    assert!(text.contains("\"alice\"") && text.contains("\"alicia\"") && text.contains("Alice@Example.com"), "{text}");
    assert_eq!(user_count(&store).await, 0, "nothing written");

    // A user of the file whose address another user of the directory has (made by SCIM, say).
    let config: HubConfig = toml::from_str(USERS).unwrap();
    crossfed_hub::build_hub(&config, store.clone(), &data, "http://127.0.0.1:1", clock.clone()).await.unwrap();
    let second = "[[users]]\nuser_name = \"al\"\nemail = \"ALICE@example.com\"\n";
    let config: HubConfig = toml::from_str(second).unwrap();
    let refused = crossfed_hub::build_hub(&config, store.clone(), &data, "http://127.0.0.1:1", clock).await;
    let text = refused.err().unwrap().to_string();
    assert!(text.starts_with("user al: ") && text.contains("already an address of user \"alice\""), "{text}");
    assert_eq!(user_count(&store).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_is_refused_when_another_user_yields_the_same_identity() {
    let hub = start(&format!("{USERS}\n{APPS}")).await;
    for (name, given) in [("bob", "Sam"), ("carol", "Carol")] {
        let user = json!({"user_name": name, "email": format!("{name}@example.com"), "given_name": given,
                          "password": format!("{name}-password-1")});
        assert_eq!(api(&hub, "POST", "/users", Some(user)).await.0, 201);
    }
    let alice = signed_in(&hub, "alice", "alice-password-1").await;
    let carol = signed_in(&hub, "carol", "carol-password-1").await;

    // alice and bob are both "Sam": the application would take one for the other.
    let (status, page) = alice.launch("by-given-name").await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("Identity not unique"), "{page}");
    assert!(
        page.contains("Name-keyed app would receive \"user-Sam\" as your NameID, but another user")
            && page.contains("make the value unique in the directory or change the application's mapping"),
        "{page}"
    );
    assert!(!page.contains("bob"), "the other user is not named to alice: {page}");
    let audit = hub.store.query(&AuditQuery { actor: Some("alice".into()), ..AuditQuery::default() }).await.unwrap();
    let refused = audit.iter().find(|e| e.action == "refused.launch.identity_not_unique").unwrap();
    assert_eq!((refused.outcome, refused.target.as_deref()), (Outcome::Failure, Some("by-given-name")));
    assert!(refused.detail.contains("\"user-Sam\" is also yielded for user \"bob\""), "{}", refused.detail);

    // A value only she has, and one the store keeps unique, pass.
    let (status, page) = carol.launch("by-given-name").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("SAMLResponse"));
    let (status, page) = alice.launch("by-email").await;
    assert_eq!(status, 200, "{page}");

    // Compared without case: carol as "SAM" is refused too, and the preview says why.
    assert_eq!(api(&hub, "PATCH", "/users/carol", Some(json!({"given_name": "SAM"}))).await.0, 200);
    assert_eq!(carol.launch("by-given-name").await.0, 409);
    let (status, preview) =
        api(&hub, "POST", "/applications/by-given-name/preview", Some(json!({"user": "carol"}))).await;
    assert_eq!(status, 200);
    assert_eq!(preview["name_id"], "user-SAM");
    assert!(preview["error"].as_str().unwrap().contains("is also yielded for user"), "{preview}");
    let (_, preview) = api(&hub, "POST", "/applications/by-email/preview", Some(json!({"user": "carol"}))).await;
    assert!(preview["error"].is_null(), "{preview}");
}

/// A database where bob got alice's address before addresses were indexed: the hub starts, alice
/// keeps it, bob is refused where the address would identify him, and the console lists both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_who_shared_an_address_before_the_index_are_told_apart() {
    let url = legacy_database().await;
    let store = Store::connect(&url).await.unwrap();
    let config = format!(
        "{USERS}\n{APPS}\n[[users]]\nuser_name = \"bob\"\nemail = \"bob@example.com\"\ngiven_name = \"Bob\"\npassword = \"bob-password-1\"\n"
    );
    let hub = start_on(&config, store).await;
    // What an older version allowed: bob's address changed to alice's, with no index to refuse it.
    // (alice was made first: a second earlier, the order the index follows.)
    let raw = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    for statement in [
        "UPDATE users SET emails = (SELECT emails FROM users WHERE user_name = 'alice') WHERE user_name = 'bob'",
        "UPDATE users SET created_at = created_at - 1 WHERE user_name = 'alice'",
        "DELETE FROM user_emails",
    ] {
        sqlx::query(statement).execute(&raw).await.unwrap();
    }
    raw.close().await;
    drop(hub);
    let hub = start_on(&config, Store::connect(&url).await.unwrap()).await;

    let (status, page) = signed_in(&hub, "alice", "alice-password-1").await.launch("by-email").await;
    assert_eq!(status, 200, "{page}");
    let bob = signed_in(&hub, "bob", "bob-password-1").await;
    let (status, page) = bob.launch("by-email").await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("\"alice@example.com\" as your NameID"), "{page}");
    assert_eq!(bob.launch("by-given-name").await.0, 200, "bob's other identities are his");

    let client = browser();
    let overview = client
        .post(format!("{}/admin/login", hub.url))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("token", hub.admin.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(overview.status(), 200);
    let users = client.get(format!("{}/admin/users", hub.url)).send().await.unwrap().text().await.unwrap();
    let users = unescape(&users);
    assert!(
        users.contains("The e-mail address \"alice@example.com\" belongs to several users: alice, bob.")
            && users.contains("only alice may open applications that receive it"),
        "{users}"
    );
}

/// A database of its own that a test may write to behind the store's back: a SQLite file, or a
/// PostgreSQL database when the suite runs on PostgreSQL.
async fn legacy_database() -> String {
    if std::env::var("CROSSFED_TEST_DATABASE").as_deref() == Ok("postgres") {
        return crossfed_testkit::postgres_test_database("legacy").await;
    }
    format!("sqlite://{}", crossfed_testkit::temp_dir().keep().join("hub.db").display())
}

/// Signing in through the identity provider with an address another user of the hub has: the
/// sign-in is refused with a page saying so and an audit record naming both, and no second user
/// is made. Corp (the IdP) is another hub in built-in-directory mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_with_another_users_address_is_refused_not_made_a_second_user() {
    let (corp_listener, corp_url) = crate::support::listener().await;
    let (hub_listener, hub_url) = crate::support::listener().await;
    let hub_dir = crossfed_testkit::temp_dir().keep();
    let hub_key =
        crossfed_hub::keys::load_or_create(&hub_dir, "crossfed hub", crossfed_clock::Clock::system().now()).unwrap();
    let (entity_id, acs_url) = crossfed_hub::upstream::sp_endpoints(&hub_url);
    let sp_file = hub_dir.join("sp.xml");
    let sp_xml = crossfed_hub::upstream::sp_metadata_xml(&entity_id, &acs_url, &[hub_key.certificate().clone()]);
    std::fs::write(&sp_file, sp_xml).unwrap();
    let mut corp_config: HubConfig = toml::from_str(
        "[[users]]\nuser_name = \"alice\"\nemail = \"Alice@Example.com\"\npassword = \"alice-password-1\"\n\n\
         [[applications]]\nid = \"hub\"\nname = \"crossfed hub\"\nassigned_users = [\"alice\"]\n[applications.custom]\n",
    )
    .unwrap();
    corp_config.applications[0].custom.as_mut().unwrap().metadata_file = Some(sp_file);
    let corp_store = crossfed_testkit::test_store("corp").await;
    let corp = crate::support::build(&corp_config, &corp_store, &crossfed_testkit::temp_dir().keep(), &corp_url).await;
    let _corp = crate::support::serve(corp_listener, Arc::new(corp));

    // The hub's directory has bob, with alice's address in another spelling.
    let hub_config: HubConfig = toml::from_str(&format!(
        "[identity_source]\nmetadata_url = \"{corp_url}/saml/apps/hub/metadata\"\nprovisioning = \"just-in-time\"\n\n\
         [[users]]\nuser_name = \"bob\"\nemail = \"alice@example.com\"\n"
    ))
    .unwrap();
    let hub_store = crossfed_testkit::test_store("hub").await;
    let hub = crate::support::build(&hub_config, &hub_store, &hub_dir, &hub_url).await;
    let _hub = crate::support::serve(hub_listener, Arc::new(hub));

    let client = browser();
    let login = client.get(format!("{hub_url}/portal")).send().await.unwrap();
    assert!(login.url().as_str().starts_with(&corp_url), "{}", login.url());
    let answer = crossfed_testkit::browser::submit_sign_in(&client, login, "alice", "alice-password-1").await;
    let refused = crossfed_testkit::browser::auto_submit(&client, &answer.text().await.unwrap(), "SAMLResponse").await;
    assert_eq!(refused.status(), 403);
    let page = unescape(&refused.text().await.unwrap());
    assert!(page.contains("Sign-in refused"), "{page}");
    assert!(
        page.contains("gives the e-mail address \"Alice@Example.com\", which belongs to another user of the hub"),
        "{page}"
    );
    assert!(!page.contains("bob"), "the other user is not named to the person signing in: {page}");
    assert_eq!(user_count(&hub_store).await, 1, "no second user");
    let audit = hub_store.query(&AuditQuery::default()).await.unwrap();
    let login = audit.iter().find(|e| e.action == "login").unwrap();
    assert_eq!((login.actor.as_str(), login.outcome), ("Alice@Example.com", Outcome::Failure));
    let create = audit.iter().find(|e| e.action == "user.create" && e.outcome == Outcome::Failure).unwrap();
    assert!(create.detail.contains("\"Alice@Example.com\"") && create.detail.contains("\"bob\""), "{}", create.detail);
    // No session: the portal sends the browser to sign in again.
    let portal = client.get(format!("{hub_url}/portal")).send().await.unwrap();
    assert!(portal.url().as_str().starts_with(&corp_url), "{}", portal.url());
}
