//! The hub's SCIM server against the requests Microsoft Entra ID's provisioning service sends
//! (the shapes its documentation shows: lookups by filter, creation with the enterprise
//! extension, PATCH with `"False"` strings, value-filter paths, capitalised ops, group member
//! add/remove), with the answers and errors it expects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crossfed_hub::config::HubConfig;
use crossfed_store::{AuditLog, AuditQuery, GroupStore, Store, UserStore};
use serde_json::{Value, json};

struct Hub {
    scim: String,
    token: String,
    store: Store,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Hub {
    let data = crossfed_testkit::temp_dir().keep();
    let store = crossfed_testkit::test_store("scim").await;
    let (listener, url) = crate::support::listener().await;
    let (hub, _) =
        crossfed_hub::build_hub(&HubConfig::default(), store.clone(), &data, &url, crossfed_clock::Clock::system())
            .await
            .unwrap();
    let (token, _) =
        crossfed_hub::tokens::issue(&store, crossfed_hub::tokens::SCIM, "entra", None, 1_700_000_000).await.unwrap();
    let tx = crate::support::serve(listener, Arc::new(hub));
    Hub { scim: format!("{url}/scim/v2"), token, store, _stop: tx }
}

struct Answer {
    status: u16,
    etag: Option<String>,
    body: Value,
}

async fn send(hub: &Hub, method: &str, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
    let mut request = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{}{path}", hub.scim))
        .header("authorization", format!("Bearer {}", hub.token));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/scim+json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status != 204 && status != 304 {
        assert_eq!(response.headers()["content-type"], "application/scim+json", "{method} {path}");
    }
    let etag = response.headers().get("etag").map(|v| v.to_str().unwrap().to_string());
    let text = response.text().await.unwrap();
    Answer { status, etag, body: if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() } }
}

async fn call(hub: &Hub, method: &str, path: &str, body: Option<Value>) -> Answer {
    send(hub, method, path, body, &[]).await
}

fn assert_error(answer: &Answer, status: u16, scim_type: Option<&str>, mentions: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(answer.body["status"], status.to_string());
    assert_eq!(answer.body["scimType"].as_str(), scim_type, "{}", answer.body);
    let detail = answer.body["detail"].as_str().unwrap();
    assert!(detail.contains(mentions), "{detail:?} should mention {mentions:?}");
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The user creation Entra sends.
fn entra_user(user_name: &str, external_id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "displayName": "Bob Agent",
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Bob Agent", "familyName": "Agent", "givenName": "Bob"},
        "title": "Tier 1",
        ENTERPRISE: {"department": "Support", "employeeNumber": "701"}
    })
}

#[tokio::test]
async fn discovery_is_public_and_everything_else_needs_a_live_scim_token() {
    let hub = start().await;
    for path in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes", "/ResourceTypes/User"] {
        let response = reqwest::get(format!("{}{path}", hub.scim)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let config: Value =
        reqwest::get(format!("{}/ServiceProviderConfig", hub.scim)).await.unwrap().json().await.unwrap();
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["etag"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 200);
    let response = reqwest::get(format!("{}/Users", hub.scim)).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert!(body["detail"].as_str().unwrap().contains("Authorization: Bearer"));
    let token = crossfed_hub::tokens::digest(&hub.token);
    let record = crossfed_store::TokenStore::find_token(&hub.store, &token).await.unwrap().unwrap();
    crossfed_store::TokenStore::revoke_token(&hub.store, "scim", &record.id, 1_700_000_001).await.unwrap();
    let answer = call(&hub, "GET", "/Users", None).await;
    assert_error(&answer, 401, None, "revoked");
}

#[tokio::test]
async fn an_entra_user_lifecycle() {
    let hub = start().await;
    // Entra first looks the user up by its matching attribute.
    let lookup = call(&hub, "GET", "/Users?filter=userName+eq+%22bob%40example.com%22", None).await;
    assert_eq!((lookup.status, &lookup.body["totalResults"]), (200, &json!(0)));
    let created = call(&hub, "POST", "/Users", Some(entra_user("bob@example.com", "0a21f0f2-8d2a"))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.etag.as_deref(), Some("W/\"1\""));
    assert_eq!(created.body[ENTERPRISE]["department"], "Support");
    assert_eq!(created.body["name"]["givenName"], "Bob");
    assert_eq!(created.body["title"], "Tier 1");
    // Creating it again, under another case, is a uniqueness conflict.
    let again = call(&hub, "POST", "/Users", Some(entra_user("BOB@example.com", "other"))).await;
    assert_error(&again, 409, Some("uniqueness"), "BOB@example.com");
    let lookup = call(&hub, "GET", "/Users?filter=userName eq \"BOB@EXAMPLE.COM\"", None).await;
    assert_eq!(lookup.body["totalResults"], 1);
    assert_eq!(lookup.body["Resources"][0]["id"], id.as_str());
    // Disable, as Entra sends it: a capitalised op and the string "False".
    let disabled = call(
        &hub,
        "PATCH",
        &format!("/Users/{id}"),
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})),
    )
    .await;
    assert_eq!((disabled.status, &disabled.body["active"]), (200, &json!(false)), "{}", disabled.body);
    assert!(!hub.store.get_user(&id).await.unwrap().unwrap().active);
    // A value-filter path, a sub-attribute, and an object without a path (the enterprise manager).
    let patched = call(
        &hub,
        "PATCH",
        &format!("/Users/{id}"),
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "bob.agent@example.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Robert"},
            {"op": "Add", "value": {ENTERPRISE.to_string() + ":manager": "mgr-1", "displayName": "Robert Agent"}},
            {"op": "Replace", "path": "active", "value": "True"},
        ]})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["emails"][0]["value"], "bob.agent@example.com");
    assert_eq!(patched.body["name"]["givenName"], "Robert");
    assert_eq!(patched.body["displayName"], "Robert Agent");
    assert_eq!(patched.body[ENTERPRISE]["manager"]["value"], "mgr-1");
    assert_eq!(patched.body["active"], true);
    let stored = hub.store.get_user(&id).await.unwrap().unwrap();
    assert_eq!(stored.email(), Some("bob.agent@example.com"));
    assert_eq!(stored.attributes["department"], "Support");
    // Removing the manager, then filtering on an attribute without a column.
    let removed = call(
        &hub,
        "PATCH",
        &format!("/Users/{id}"),
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "Remove", "path": format!("{ENTERPRISE}:manager")}]})),
    )
    .await;
    assert!(removed.body[ENTERPRISE].get("manager").is_none(), "{}", removed.body);
    let by_email = call(&hub, "GET", "/Users?filter=emails.value eq \"BOB.AGENT@example.com\"", None).await;
    assert_eq!(by_email.body["totalResults"], 1);
    // Read-only and unknown attributes are refused with their names.
    let answer = call(
        &hub,
        "PATCH",
        &format!("/Users/{id}"),
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "shoeSize", "value": "44"}]})),
    )
    .await;
    assert_error(&answer, 400, Some("invalidPath"), "shoeSize");
    let deleted = call(&hub, "DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(deleted.status, 204);
    assert_error(&call(&hub, "GET", &format!("/Users/{id}"), None).await, 404, None, &id);
    // Every change is audited under the token's name, with the actions every door uses.
    let log = hub.store.query(&AuditQuery { actor: Some("scim:entra".into()), ..AuditQuery::default() }).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for action in ["user.create", "user.update", "user.delete"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn entra_group_membership_changes() {
    let hub = start().await;
    let bob = call(&hub, "POST", "/Users", Some(entra_user("bob@example.com", "e-bob"))).await.body;
    let alice = call(&hub, "POST", "/Users", Some(entra_user("alice@example.com", "e-alice"))).await.body;
    let (bob, alice) = (bob["id"].as_str().unwrap(), alice["id"].as_str().unwrap());
    let lookup = call(&hub, "GET", "/Groups?excludedAttributes=members&filter=displayName+eq+%22Agents%22", None).await;
    assert_eq!(lookup.body["totalResults"], 0);
    let group = call(
        &hub,
        "POST",
        "/Groups",
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "externalId": "g-1",
                    "displayName": "Agents", "members": []})),
    )
    .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let gid = group.body["id"].as_str().unwrap().to_string();
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let added = call(
        &hub,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(patch(json!([{"op": "Add", "path": "members", "value": [{"value": bob}, {"value": alice}]}]))),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(hub.store.members(&gid).await.unwrap().len(), 2);
    assert_ne!(added.etag, group.etag, "a member change moves the version");
    // Adding an existing member again changes nothing.
    call(
        &hub,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(patch(json!([{"op": "Add", "path": "members", "value": [{"value": bob}]}]))),
    )
    .await;
    assert_eq!(hub.store.members(&gid).await.unwrap().len(), 2);
    let removed = call(
        &hub,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(patch(json!([{"op": "Remove", "path": format!("members[value eq \"{bob}\"]")}]))),
    )
    .await;
    assert_eq!(removed.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(hub.store.groups_of(bob).await.unwrap().len(), 0);
    let filtered = call(&hub, "GET", &format!("/Groups?filter=members.value eq \"{alice}\""), None).await;
    assert_eq!(filtered.body["totalResults"], 1);
    // An unknown member is named and nothing changes.
    let answer = call(
        &hub,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(patch(json!([
            {"op": "Replace", "path": "displayName", "value": "Tier 1"},
            {"op": "Add", "path": "members", "value": [{"value": "ghost"}]}
        ]))),
    )
    .await;
    assert_error(&answer, 400, Some("invalidValue"), "ghost");
    assert_eq!(hub.store.get_group(&gid).await.unwrap().unwrap().display_name, "Agents");
    let renamed = call(
        &hub,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(patch(json!([{"op": "Replace", "path": "displayName", "value": "Tier 1"}]))),
    )
    .await;
    assert_eq!(renamed.body["displayName"], "Tier 1");
    assert_eq!(call(&hub, "DELETE", &format!("/Groups/{gid}"), None).await.status, 204);
}

#[tokio::test]
async fn etags_paging_and_filter_errors() {
    let hub = start().await;
    for i in 0..5 {
        call(&hub, "POST", "/Users", Some(entra_user(&format!("user{i}@example.com"), &format!("e{i}")))).await;
    }
    let page = call(&hub, "GET", "/Users?startIndex=2&count=2", None).await;
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.body["Resources"][0]["userName"], "user1@example.com");
    let projected = call(&hub, "GET", "/Users?attributes=userName&count=1", None).await;
    let first = projected.body["Resources"][0].as_object().unwrap();
    assert!(first.contains_key("id") && first.contains_key("userName") && !first.contains_key("emails"));
    let user = &page.body["Resources"][0];
    let id = user["id"].as_str().unwrap();
    let read = call(&hub, "GET", &format!("/Users/{id}"), None).await;
    let etag = read.etag.clone().unwrap();
    let unchanged = send(&hub, "GET", &format!("/Users/{id}"), None, &[("if-none-match", &etag)]).await;
    assert_eq!(unchanged.status, 304);
    let mut replacement = read.body.clone();
    replacement["displayName"] = json!("Renamed");
    let replaced = send(&hub, "PUT", &format!("/Users/{id}"), Some(replacement.clone()), &[("if-match", &etag)]).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let stale = send(&hub, "PUT", &format!("/Users/{id}"), Some(replacement), &[("if-match", &etag)]).await;
    assert_error(&stale, 412, None, "read it again");
    assert_error(&call(&hub, "GET", "/Users?filter=userName eq", None).await, 400, Some("invalidFilter"), "");
    assert_error(
        &call(&hub, "POST", "/Users", Some(json!({"userName": "x@example.com", "active": "perhaps"}))).await,
        400,
        Some("invalidValue"),
        "active",
    );
    let not_json = reqwest::Client::new()
        .post(format!("{}/Users", hub.scim))
        .bearer_auth(&hub.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let body: Value = not_json.json().await.unwrap();
    assert_eq!(body["scimType"], "invalidSyntax");
    let search = call(
        &hub,
        "POST",
        "/Users/.search",
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": "userName sw \"user3\"", "count": 10})),
    )
    .await;
    assert_eq!(search.body["totalResults"], 1);
}

/// The independent SCIM compliance checker (scim2-cli's `test`) passes in full: every check
/// answers SUCCESS and the command exits 0.
#[tokio::test]
async fn scim2_cli_compliance_check_passes_in_full() {
    let hub = start().await;
    let scim = hub.scim.clone();
    let header = format!("Authorization: Bearer {}", hub.token);
    let output = tokio::task::spawn_blocking(move || {
        crossfed_testkit::run(
            std::process::Command::new(crossfed_testkit::scim2_cli())
                .args(["--url", &scim, "test"])
                .env("SCIM_CLI_HEADERS", header),
        )
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    let checks = report.lines().filter(|l| l.starts_with("SUCCESS")).count();
    let failed: Vec<&str> = report.lines().filter(|l| !l.starts_with(' ') && !l.starts_with("SUCCESS")).collect();
    assert!(
        output.status.success(),
        "scim2 test failed: {failed:?}\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(checks >= 100, "only {checks} checks ran:\n{report}");
}
