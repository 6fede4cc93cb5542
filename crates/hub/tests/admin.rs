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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config: HubConfig = toml::from_str(CONFIG).unwrap();
    let (hub, _) =
        crossfed_hub::bootstrap::build_hub(&config, store.clone(), &data, &url, 1_700_000_000).await.unwrap();
    let path = crossfed_hub::tokens::ensure_admin_token(&store, &data, crossfed_saml::Instant::now().unix())
        .await
        .unwrap()
        .expect("first start writes the token file");
    let token = std::fs::read_to_string(path).unwrap().trim().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(crossfed_hub::server::serve(listener, Arc::new(hub), async move {
        let _ = rx.await;
    }));
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
    crossfed_hub::tokens::ensure_admin_token(&hub.store, &hub.data, crossfed_saml::Instant::now().unix())
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
            let concrete = path.replace("{id}", "missing").replace("{user}", "missing");
            let body = if method == "post" || method == "patch" { Some(json!({})) } else { None };
            let (status, answer) = call(&hub, &method.to_uppercase(), &concrete, body).await;
            assert_ne!(status, 405, "{method} {path}");
            assert!(!answer.is_null() || status == 204, "{method} {path} answered {status} without a body");
        }
    }
}
