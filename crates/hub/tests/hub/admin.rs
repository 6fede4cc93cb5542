//! The admin API against a real hub on a free port: token checks, users and groups with their
//! refusals (nothing half-written), group assignments reaching the portal, SCIM tokens shown
//! once, the audit trail, and an OpenAPI document that lists exactly the served routes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crossfed_hub::config::HubConfig;
use crossfed_store::{Store, UserStore};
use serde_json::{Value, json};

struct Hub {
    url: String,
    token: String,
    store: Store,
    data: std::path::PathBuf,
    _stop: tokio::sync::oneshot::Sender<()>,
}

const CONFIG: &str = r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
password = "alice-password-1"

[[applications]]
id = "wiki"
name = "Team wiki"
assigned_groups = ["Wiki Editors"]
[applications.custom]
acs_url = "https://wiki.example.com/saml/acs"
audience = "https://wiki.example.com"
"#;

async fn start() -> Hub {
    let data = crossfed_testkit::temp_dir().keep();
    let store = crossfed_testkit::test_store("admin").await;
    let (listener, url) = crate::support::listener().await;
    let config: HubConfig = toml::from_str(CONFIG).unwrap();
    let hub = crate::support::build(&config, &store, &data, &url).await;
    let token = crate::support::admin_token(&store, &data).await;
    let tx = crate::support::serve(listener, Arc::new(hub));
    Hub { url, token, store, data, _stop: tx }
}

async fn call(hub: &Hub, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method.parse().unwrap(), format!("{}{path}", hub.url))
        .header("authorization", format!("Bearer {}", hub.token));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

#[tokio::test]
async fn tokens_are_required_and_the_first_one_is_kept_across_restarts() {
    let hub = start().await;
    let client = reqwest::Client::new();
    let response = client.get(format!("{}/api/v1/users", hub.url)).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
    assert!(body["message"].as_str().unwrap().contains("Authorization: Bearer"), "{body}");
    let response = client.get(format!("{}/api/v1/users", hub.url)).bearer_auth("cfadm_guessed").send().await.unwrap();
    assert_eq!(response.status(), 401);
    // A SCIM token does not open the admin API.
    let (_, issued) = call(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "entra"}))).await;
    let scim = issued["token"].as_str().unwrap();
    let response = client.get(format!("{}/api/v1/users", hub.url)).bearer_auth(scim).send().await.unwrap();
    assert_eq!(response.status(), 401);
    // A second start keeps the token file as it is.
    let again = crossfed_hub::tokens::ensure_admin_token(&hub.store, &hub.data, 1_800_000_000).await.unwrap();
    assert_eq!(again, None);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(hub.data.join("admin-token")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o077, 0, "the token file is private");
    // A lost token file gets a new token, and the old one stops working.
    std::fs::remove_file(hub.data.join("admin-token")).unwrap();
    crossfed_hub::tokens::ensure_admin_token(
        &hub.store,
        &hub.data,
        crossfed_saml::Timestamp::from(crossfed_clock::Clock::system().now()).unix(),
    )
    .await
    .unwrap()
    .expect("a new token file");
    let response = client.get(format!("{}/api/v1/users", hub.url)).bearer_auth(&hub.token).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("revoked"), "{body}");
}

#[tokio::test]
async fn users_and_groups_are_managed_without_partial_writes() {
    let hub = start().await;
    let (status, bob) = call(
        &hub,
        "POST",
        "/api/v1/users",
        Some(
            json!({"user_name": "bob", "email": "bob@example.com", "given_name": "Bob", "password": "bob-password-1"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{bob}");
    assert_eq!(bob["user_name"], "bob");
    let (status, body) = call(&hub, "POST", "/api/v1/users", Some(json!({"user_name": "BOB"}))).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");
    // A weak password is refused before the user is created.
    let (status, body) =
        call(&hub, "POST", "/api/v1/users", Some(json!({"user_name": "dan", "password": "short"}))).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("at least 8"), "{body}");
    assert!(hub.store.find_user_by_name("dan").await.unwrap().is_none());
    // Unknown fields are named.
    let (status, body) = call(&hub, "POST", "/api/v1/users", Some(json!({"user_name": "eve", "mail": "x"}))).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("unknown field `mail`"), "{body}");
    // A group with an unknown member is not created.
    let (status, body) = call(
        &hub,
        "POST",
        "/api/v1/groups",
        Some(json!({"display_name": "Wiki Editors", "members": ["bob", "nobody"]})),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body["message"].as_str().unwrap().contains("nobody"));
    let (status, _) = call(&hub, "GET", "/api/v1/groups/Wiki%20Editors", None).await;
    assert_eq!(status, 404);
    let (status, group) =
        call(&hub, "POST", "/api/v1/groups", Some(json!({"display_name": "Wiki Editors", "members": ["bob"]}))).await;
    assert_eq!(status, 201);
    assert_eq!(group["members"], json!(["bob"]));
    let (status, group) = call(&hub, "PUT", "/api/v1/groups/wiki%20editors/members/alice", None).await;
    assert_eq!(status, 200);
    assert_eq!(group["members"], json!(["alice", "bob"]));
    let (_, alice) = call(&hub, "GET", "/api/v1/users/alice", None).await;
    assert_eq!(alice["groups"], json!(["Wiki Editors"]));
    let (status, patched) =
        call(&hub, "PATCH", &format!("/api/v1/users/{}", bob["id"].as_str().unwrap()), Some(json!({"active": false})))
            .await;
    assert_eq!((status, &patched["active"]), (200, &json!(false)));
    let (_, listing) = call(&hub, "GET", "/api/v1/users?limit=1", None).await;
    assert_eq!((listing["items"].as_array().unwrap().len(), &listing["total"]), (1, &json!(2)));
    let (_, apps) = call(&hub, "GET", "/api/v1/applications", None).await;
    assert_eq!(apps["items"][0]["assigned_groups"], json!(["Wiki Editors"]));
    let (status, _) = call(&hub, "DELETE", "/api/v1/groups/Wiki%20Editors/members/alice", None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&hub, "DELETE", "/api/v1/users/bob", None).await;
    assert_eq!(status, 204);
    let (status, body) = call(&hub, "DELETE", "/api/v1/users/bob", None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    // Every change is in the audit log under the token's name.
    let (_, log) = call(&hub, "GET", "/api/v1/audit?actor=admin:bootstrap", None).await;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["user.create", "group.create", "group.members", "user.update", "user.delete"] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
}

#[tokio::test]
async fn group_assignments_open_the_application_to_members_only() {
    let hub = start().await;
    let browser = crossfed_testkit::browser::new_browser();
    let login = browser.get(format!("{}/portal", hub.url)).send().await.unwrap();
    let portal = crossfed_testkit::browser::submit_sign_in(&browser, login, "alice", "alice-password-1").await;
    let portal = portal.text().await.unwrap();
    assert!(portal.contains("id=\"no-apps\""), "not yet a member: {portal}");
    call(&hub, "POST", "/api/v1/groups", Some(json!({"display_name": "wiki editors", "members": ["alice"]}))).await;
    let portal = browser.get(format!("{}/portal", hub.url)).send().await.unwrap().text().await.unwrap();
    assert!(portal.contains("id=\"app-wiki\""), "{portal}");
    let csrf = crossfed_testkit::browser::field(&portal, "csrf").to_string();
    let launch = browser
        .post(format!("{}/apps/wiki/launch", hub.url))
        .header("origin", hub.url.clone())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(launch.status(), 200);
    assert!(launch.text().await.unwrap().contains("SAMLResponse"));
}

#[tokio::test]
async fn scim_tokens_are_shown_once_listed_without_values_and_revocable() {
    let hub = start().await;
    let (status, issued) =
        call(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "entra", "expires_in_days": 30}))).await;
    assert_eq!(status, 201);
    assert!(issued["token"].as_str().unwrap().starts_with("cfscim_"));
    let (_, listing) = call(&hub, "GET", "/api/v1/scim-tokens", None).await;
    assert_eq!(listing["total"], 1);
    assert!(!listing.to_string().contains(issued["token"].as_str().unwrap()), "values are never listed");
    let (status, body) =
        call(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "x", "expires_in_days": 0}))).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("expires_in_days"));
    let id = issued["id"].as_str().unwrap();
    let (status, revoked) = call(&hub, "DELETE", &format!("/api/v1/scim-tokens/{id}"), None).await;
    assert_eq!(status, 200);
    assert!(revoked["revoked_at"].is_number());
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_served_routes() {
    let hub = start().await;
    let document: Value = reqwest::get(format!("{}/api/v1/openapi.json", hub.url)).await.unwrap().json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 10);
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            // Unknown IDs give JSON errors from the handler; a missing route would give an empty 404 or a 405.
            let concrete =
                ["{id}", "{user}", "{kind}", "{principal}"].iter().fold(path.clone(), |p, v| p.replace(v, "missing"));
            let body = if method == "post" || method == "patch" { Some(json!({})) } else { None };
            let (status, answer) = call(&hub, &method.to_uppercase(), &concrete, body).await;
            assert_ne!(status, 405, "{method} {path}");
            assert!(!answer.is_null() || status == 204, "{method} {path} answered {status} without a body");
        }
    }
}

fn connect_app(id: &str) -> Value {
    json!({
        "id": id,
        "name": "Contact center",
        "amazon_connect": {
            "account_id": "222222222222",
            "region": "eu-west-2",
            "instance_id": "11111111-2222-3333-4444-555555555555",
            "role_name": "ConnectAgents",
            "provider_name": "crossfed",
            "provisioning": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "very-secret-key"}
        }
    })
}

#[tokio::test]
async fn applications_are_created_checked_assigned_and_previewed_through_the_api() {
    let hub = start().await;
    let (status, created) = call(&hub, "POST", "/api/v1/applications", Some(connect_app("connect"))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["template"], "amazon-connect");
    assert_eq!(created["managed_by"], "api");
    assert_eq!(created["audience"], "urn:amazon:webservices");
    assert_eq!(
        created["relay_state"],
        "https://eu-west-2.console.aws.amazon.com/connect/federate/11111111-2222-3333-4444-555555555555"
    );
    assert!(!created.to_string().contains("very-secret-key"), "secrets are never shown: {created}");

    // Refusals name the problem and write nothing.
    let mut bad_region = connect_app("bad");
    bad_region["amazon_connect"]["region"] = json!("mars");
    let (status, body) = call(&hub, "POST", "/api/v1/applications", Some(bad_region)).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("region \"mars\" is invalid"), "{body}");
    let (status, body) = call(&hub, "POST", "/api/v1/applications", Some(connect_app("connect"))).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = call(&hub, "POST", "/api/v1/applications", Some(json!({"name": "No id"}))).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("id"), "{body}");
    let bad_mapping = json!({"id": "crm", "name": "CRM", "custom": {
        "acs_url": "https://crm.example.com/acs", "audience": "https://crm.example.com",
        "attributes": [{"name": "dept", "value": "${user:departement}"}]}});
    let (status, body) = call(&hub, "POST", "/api/v1/applications", Some(bad_mapping)).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("departement"), "{body}");
    let same_sp = json!({"id": "wiki2", "name": "Wiki again", "custom": {
        "acs_url": "https://wiki.example.com/other", "audience": "https://wiki.example.com"}});
    let (status, body) = call(&hub, "POST", "/api/v1/applications", Some(same_sp)).await;
    assert_eq!(status, 409);
    assert!(body["message"].as_str().unwrap().contains("same service provider"), "{body}");
    let (_, listing) = call(&hub, "GET", "/api/v1/applications", None).await;
    assert_eq!(listing["total"], 2, "only wiki and connect: {listing}");

    // The configuration file owns its applications and their declared assignments.
    let (status, body) = call(&hub, "DELETE", "/api/v1/applications/wiki", None).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("managed_by_config")));
    let (status, _) = call(&hub, "PUT", "/api/v1/applications/wiki", Some(json!({"name": "x", "custom": {}}))).await;
    assert_eq!(status, 409);
    let (status, _) = call(&hub, "DELETE", "/api/v1/applications/wiki/assignments/groups/Wiki%20Editors", None).await;
    assert_eq!(status, 409);

    // Assignments: to existing users and groups only; the portal follows at once.
    let (status, body) = call(&hub, "PUT", "/api/v1/applications/connect/assignments/users/nobody", None).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = call(&hub, "PUT", "/api/v1/applications/connect/assignments/users/ALICE", None).await;
    assert_eq!(status, 201);
    let (status, app) = call(&hub, "PUT", "/api/v1/applications/connect/assignments/users/alice", None).await;
    assert_eq!(status, 200, "a second assignment changes nothing");
    assert_eq!(app["assigned_users"], json!(["alice"]));
    let browser = crossfed_testkit::browser::new_browser();
    let login = browser.get(format!("{}/portal", hub.url)).send().await.unwrap();
    let portal = crossfed_testkit::browser::submit_sign_in(&browser, login, "alice", "alice-password-1").await;
    assert!(portal.text().await.unwrap().contains("id=\"app-connect\""));

    let (status, preview) =
        call(&hub, "POST", "/api/v1/applications/connect/preview", Some(json!({"user": "alice"}))).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["assigned"], true);
    assert_eq!(preview["name_id"], "alice@example.com");
    let attributes = preview["attributes"].as_array().unwrap();
    let session_name =
        attributes.iter().find(|a| a["name"] == "https://aws.amazon.com/SAML/Attributes/RoleSessionName").unwrap();
    assert_eq!(session_name["values"], json!(["alice@example.com"]));

    // A rename carries the assignment; replacing the settings keeps the hidden secret.
    let (status, _) = call(&hub, "PATCH", "/api/v1/users/alice", Some(json!({"user_name": "alice.example"}))).await;
    assert_eq!(status, 200);
    let mut renamed = connect_app("connect");
    renamed["name"] = json!("Contact centre");
    renamed["amazon_connect"]["provisioning"]["secret_access_key"] = json!("");
    let (status, replaced) = call(&hub, "PUT", "/api/v1/applications/connect", Some(renamed)).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["name"], "Contact centre");
    assert_eq!(replaced["assigned_users"], json!(["alice.example"]));
    use crossfed_store::ApplicationStore;
    let stored = hub.store.get_application("connect").await.unwrap().unwrap();
    assert!(stored.definition.contains("very-secret-key"), "{}", stored.definition);
    assert_eq!(stored.version, 2);

    let (status, _) = call(&hub, "DELETE", "/api/v1/applications/connect", None).await;
    assert_eq!(status, 204);
    let (status, _) = call(&hub, "GET", "/api/v1/applications/connect", None).await;
    assert_eq!(status, 404);
    let (_, trail) = call(&hub, "GET", "/api/v1/audit?action=application.assign", None).await;
    assert_eq!(trail["total"], 1, "{trail}");
}

#[tokio::test]
async fn the_configuration_is_applied_again_at_each_start_leaving_api_changes_alone() {
    let hub = start().await;
    let (status, _) = call(&hub, "POST", "/api/v1/applications", Some(connect_app("connect"))).await;
    assert_eq!(status, 201);
    let (status, _) = call(&hub, "PUT", "/api/v1/applications/wiki/assignments/users/alice", None).await;
    assert_eq!(status, 201);
    let url = "http://hub.test";
    let config: HubConfig = toml::from_str(CONFIG).unwrap();
    let (again, changes) =
        crossfed_hub::build_hub(&config, hub.store.clone(), &hub.data, url, crossfed_clock::Clock::system())
            .await
            .unwrap();
    assert!(changes.is_empty(), "nothing to do on a second start: {changes:?}");
    let catalog = again.applications.snapshot();
    assert!(catalog.get("connect").is_some(), "the API's application is kept");
    assert!(catalog.get("wiki").unwrap().assignees.includes_user("alice"), "and the API's assignment");

    // The file changes: its application gets a new ACS and loses its group; another is gone.
    let changed = CONFIG
        .replace("https://wiki.example.com/saml/acs", "https://wiki.example.com/acs2")
        .replace("assigned_groups = [\"Wiki Editors\"]", "");
    let config: HubConfig = toml::from_str(&changed).unwrap();
    let (again, changes) =
        crossfed_hub::build_hub(&config, hub.store.clone(), &hub.data, url, crossfed_clock::Clock::system())
            .await
            .unwrap();
    assert_eq!(changes, vec!["updated application wiki", "application wiki: 0 assignments added, 1 removed"]);
    let catalog = again.applications.snapshot();
    let wiki = catalog.get("wiki").unwrap();
    assert_eq!(wiki.app.acs_url, "https://wiki.example.com/acs2");
    assert!(wiki.assignees.groups.is_empty());
    assert!(wiki.assignees.includes_user("alice"));
    let config: HubConfig = toml::from_str("").unwrap();
    let (_, changes) =
        crossfed_hub::build_hub(&config, hub.store.clone(), &hub.data, url, crossfed_clock::Clock::system())
            .await
            .unwrap();
    assert_eq!(changes, vec!["removed application wiki (no longer in the configuration file)"]);

    // A change made by another instance reaches this one within about a second.
    let (status, _) = call(&hub, "DELETE", "/api/v1/applications/connect", None).await;
    assert_eq!(status, 204);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(again.catalog().await.get("connect").is_none());
}

#[tokio::test]
async fn admin_tokens_are_listed_created_and_revoked_but_not_by_themselves() {
    let hub = start().await;
    let (status, issued) = call(&hub, "POST", "/api/v1/admin-tokens", Some(json!({"name": "ci"}))).await;
    assert_eq!(status, 201);
    assert!(issued["token"].as_str().unwrap().starts_with("cfadm_"));
    let (_, listing) = call(&hub, "GET", "/api/v1/admin-tokens", None).await;
    assert_eq!(listing["total"], 2, "bootstrap and ci: {listing}");
    let own = listing["items"].as_array().unwrap().iter().find(|t| t["name"] != "ci").unwrap()["id"].clone();
    let (status, body) = call(&hub, "DELETE", &format!("/api/v1/admin-tokens/{}", own.as_str().unwrap()), None).await;
    assert_eq!(status, 400, "{body}");
    let id = issued["id"].as_str().unwrap();
    let (status, _) = call(&hub, "DELETE", &format!("/api/v1/admin-tokens/{id}"), None).await;
    assert_eq!(status, 200);
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/users", hub.url))
        .bearer_auth(issued["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "a revoked token no longer works");
}
