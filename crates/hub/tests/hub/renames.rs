//! Renames never lose access, whichever mix of the configuration file, the admin API and SCIM
//! made the assignment: a user of the configuration file, a group the file assigns and a user
//! the API assigned are renamed by SCIM, the hub restarts with the same file and the same store,
//! and each person still opens the application; the file makes no second user under the old
//! name, and still takes away what it no longer grants.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

use crossfed_store::{Page, Store, UserStore};
use serde_json::{Value, json};

use crate::support::{Running, portal_sign_in};

const CONFIG: &str = r#"
[[users]]
user_name = "alice"
email = "alice@example.com"
password = "alice-password-1"

[[applications]]
id = "wiki"
name = "Team wiki"
assigned_users = ["alice"]
assigned_groups = ["Agents"]
[applications.custom]
acs_url = "https://wiki.example.com/saml/acs"
audience = "https://wiki.example.com"
name_id = "${user:userName}"
"#;

/// The hub `config` describes over `store` and `data`, as a start or a restart makes it.
async fn start(config: &str, store: &Store, data: &Path) -> Running {
    crate::support::start_hub(config, store, data, crossfed_clock::Clock::system()).await
}

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

async fn scim(hub: &Running, method: &str, path: &str, body: Value) -> Value {
    let (status, answer) = send(hub, &hub.scim, method, &format!("/scim/v2{path}"), Some(body)).await;
    assert!((200..300).contains(&status), "{method} {path}: {status} {answer}");
    answer
}

fn scim_user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": true,
           "password": format!("{name}-password-1"), "emails": [{"value": format!("{name}@example.com"), "primary": true}]})
}

fn patch(path: &str, value: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "replace", "path": path, "value": value}]})
}

/// Each of `people` (name, password) signs in and opens the wiki, or is refused with `status`.
async fn opens_wiki(hub: &Running, people: &[(&str, &str)], status: u16) {
    for (name, password) in people {
        let (got, page) = portal_sign_in(&hub.url, name, password).await.launch("wiki").await;
        assert_eq!(got, status, "{name}: {page}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamed_users_and_groups_keep_their_assignments_across_a_restart() {
    let store = crossfed_testkit::test_store("renames").await;
    let data = crossfed_testkit::temp_dir().keep();
    let hub = start(CONFIG, &store, &data).await;

    // bob is in Agents (assigned by the file), carol is assigned by the API; all made by SCIM.
    let bob = scim(&hub, "POST", "/Users", scim_user("bob")).await;
    let carol = scim(&hub, "POST", "/Users", scim_user("carol")).await;
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Agents",
                       "members": [{"value": bob["id"]}]});
    let agents = scim(&hub, "POST", "/Groups", group).await;
    let (status, _) = send(&hub, &hub.admin, "PUT", "/api/v1/applications/wiki/assignments/users/carol", None).await;
    assert_eq!(status, 201);
    let people = [("alice", "alice-password-1"), ("bob", "bob-password-1"), ("carol", "carol-password-1")];
    opens_wiki(&hub, &people, 200).await;

    // SCIM renames alice (the file's user), Agents (the file's group) and carol (the API's).
    let alice = store.find_user_by_name("alice").await.unwrap().unwrap();
    scim(&hub, "PATCH", &format!("/Users/{}", alice.id), patch("userName", "alice2")).await;
    scim(&hub, "PATCH", &format!("/Groups/{}", agents["id"].as_str().unwrap()), patch("displayName", "Agents2")).await;
    scim(&hub, "PATCH", &format!("/Users/{}", carol["id"].as_str().unwrap()), patch("userName", "carol2")).await;
    let renamed = [("alice2", "alice-password-1"), ("bob", "bob-password-1"), ("carol2", "carol-password-1")];
    opens_wiki(&hub, &renamed, 200).await;

    // The same file, the same store: nobody loses access, and no second alice appears.
    drop(hub);
    let hub = start(CONFIG, &store, &data).await;
    opens_wiki(&hub, &renamed, 200).await;
    assert!(store.find_user_by_name("alice").await.unwrap().is_none(), "the file's alice is alice2 now");
    assert_eq!(store.list_users(Page::default()).await.unwrap().1, 3);
    // A third start changes nothing either.
    drop(hub);
    let hub = start(CONFIG, &store, &data).await;
    opens_wiki(&hub, &renamed, 200).await;

    // The file still decides what it grants: without alice and Agents, alice2 and bob lose the
    // wiki, while carol2's assignment (the API's) stays.
    drop(hub);
    let without = CONFIG.replace("assigned_users = [\"alice\"]", "assigned_users = []").replace("[\"Agents\"]", "[]");
    let hub = start(&without, &store, &data).await;
    opens_wiki(&hub, &[("alice2", "alice-password-1"), ("bob", "bob-password-1")], 403).await;
    opens_wiki(&hub, &[("carol2", "carol-password-1")], 200).await;
}
