//! Rotating admin and SCIM tokens with an overlap, against a real hub on a free port whose clock
//! the tests move: during the overlap the old and the new token both work for real SCIM and
//! admin requests, afterwards only the new one; rotations chain, a token is rotated once, and
//! revoked, expired and unknown tokens are typed errors; a token expiring in 10 days is warned
//! about in the listing and its expiry is on `/metrics`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::Running;

const DAY: i64 = 86_400;

/// A hub whose clock stands still until the test moves it, and its data folder.
async fn start_in(name: &str) -> (Running, crossfed_clock::Clock, std::path::PathBuf) {
    let clock = crossfed_clock::Clock::fixed(crossfed_clock::Clock::system().now());
    let data = crossfed_testkit::temp_dir().keep();
    let store = crossfed_testkit::test_store(name).await;
    (crate::support::start_hub("", &store, &data, clock.clone()).await, clock, data)
}

async fn start(name: &str) -> (Running, crossfed_clock::Clock) {
    let (hub, clock, _) = start_in(name).await;
    (hub, clock)
}

/// Moves the hub's clock `seconds` on.
fn advance(clock: &crossfed_clock::Clock, seconds: i64) {
    let later = OffsetDateTime::from_unix_timestamp(clock.unix() + seconds).unwrap();
    assert!(clock.set(later));
}

/// An admin API request with `token`: the status and the JSON body.
async fn call(hub: &Running, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().request(method.parse().unwrap(), format!("{}{path}", hub.url)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn admin(hub: &Running, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call(hub, &hub.admin, method, path, body).await
}

/// The status of a SCIM client's request with `token`: a list, or the creation of `user`.
async fn scim(hub: &Running, token: &str, user: Option<&str>) -> u16 {
    let client = reqwest::Client::new();
    let request = match user {
        None => client.get(format!("{}/scim/v2/Users", hub.url)),
        Some(name) => client
            .post(format!("{}/scim/v2/Users", hub.url))
            .header("content-type", "application/scim+json")
            .json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})),
    };
    request.bearer_auth(token).send().await.unwrap().status().as_u16()
}

/// The listing's item with `id`.
async fn listed(hub: &Running, purpose: &str, id: &str) -> Value {
    let (status, listing) = admin(hub, "GET", &format!("/api/v1/{purpose}-tokens"), None).await;
    assert_eq!(status, 200, "{listing}");
    listing["items"].as_array().unwrap().iter().find(|t| t["id"] == id).cloned().unwrap_or(Value::Null)
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("a string: {value}"))
}

#[tokio::test]
async fn both_scim_tokens_work_during_the_overlap_and_only_the_new_one_after_it() {
    let (hub, clock) = start("tokens-overlap").await;
    let now = clock.unix();
    let (status, created) =
        admin(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "entra-prov", "expires_in_days": 365}))).await;
    assert_eq!(status, 201, "{created}");
    let (old, old_id) = (text(&created["token"]).to_string(), text(&created["id"]).to_string());

    let path = format!("/api/v1/scim-tokens/{old_id}/rotate");
    let (status, rotated) = admin(&hub, "POST", &path, Some(json!({"overlap_hours": 24}))).await;
    assert_eq!(status, 200, "{rotated}");
    let (new, new_id) = (text(&rotated["token"]).to_string(), text(&rotated["id"]).to_string());
    assert!(new.starts_with("cfscim_") && new != old);
    assert_eq!(rotated["name"], "entra-prov", "the same name");
    assert_eq!(rotated["expires_at"], now + 365 * DAY, "the old token's lifetime, from now");
    assert_eq!(rotated["rotated_from"], old_id.as_str());
    assert_eq!(rotated["replaced"]["id"], old_id.as_str());
    assert_eq!(rotated["replaced"]["expires_at"], now + 24 * 3600, "the old one ends with the overlap");
    assert_eq!(rotated["replaced"]["replaced_by"], new_id.as_str());

    // The listing links them and says which is which.
    let (old_listed, new_listed) = (listed(&hub, "scim", &old_id).await, listed(&hub, "scim", &new_id).await);
    assert_eq!((old_listed["state"].as_str(), old_listed["replaced_by"].as_str()), (Some("rotated"), Some(&*new_id)));
    assert_eq!((new_listed["state"].as_str(), new_listed["rotated_from"].as_str()), (Some("live"), Some(&*old_id)));
    assert_eq!(new_listed["days_left"], 365);
    assert!(old_listed.get("token").is_none() && new_listed.get("token").is_none(), "values are never listed");

    // During the overlap a client on either token lists and creates users.
    advance(&clock, 23 * 3600);
    assert_eq!(scim(&hub, &old, None).await, 200);
    assert_eq!(scim(&hub, &new, None).await, 200);
    assert_eq!(scim(&hub, &old, Some("still-on-the-old-token")).await, 201);
    assert_eq!(scim(&hub, &new, Some("already-on-the-new-token")).await, 201);

    // Once it ends, the old token is refused and the new one works.
    advance(&clock, 3600);
    assert_eq!(scim(&hub, &old, None).await, 401);
    assert_eq!(scim(&hub, &old, Some("too-late")).await, 401);
    assert_eq!(scim(&hub, &new, None).await, 200);
    assert_eq!(scim(&hub, &new, Some("after-the-overlap")).await, 201);
    assert_eq!(listed(&hub, "scim", &old_id).await["state"], "expired");

    // The rotation is on the audit log, as the admin token's doing.
    let (_, audit) = admin(&hub, "GET", "/api/v1/audit?action=scim-token.rotate", None).await;
    let record = &audit["items"][0];
    assert_eq!((record["actor"].as_str(), record["target"].as_str()), (Some("admin:bootstrap"), Some("entra-prov")));
    let detail = text(&record["detail"]);
    assert!(detail.contains(&format!("{old_id} replaced by {new_id}")), "{detail}");
}

#[tokio::test]
async fn an_admin_token_rotates_itself_and_keeps_working_until_the_overlap_ends() {
    let (hub, clock, data) = start_in("tokens-admin").await;
    let (_, listing) = admin(&hub, "GET", "/api/v1/admin-tokens", None).await;
    let bootstrap = text(&listing["items"][0]["id"]).to_string();
    // No body: the defaults (24 hours of overlap; no expiry, as the bootstrap token had none).
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/admin-tokens/{bootstrap}/rotate", hub.url))
        .bearer_auth(&hub.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let rotated: Value = answer.json().await.unwrap();
    let new = text(&rotated["token"]).to_string();
    assert!(new.starts_with("cfadm_"));
    assert_eq!(rotated["expires_at"], Value::Null);
    assert_eq!(rotated["replaced"]["expires_at"], clock.unix() + 24 * 3600);

    advance(&clock, 24 * 3600 - 1);
    assert_eq!(call(&hub, &hub.admin, "GET", "/api/v1/users", None).await.0, 200, "the old one, in the overlap");
    assert_eq!(call(&hub, &new, "GET", "/api/v1/users", None).await.0, 200);
    advance(&clock, 1);
    let (status, refused) = call(&hub, &hub.admin, "GET", "/api/v1/users", None).await;
    assert_eq!((status, refused["error"].as_str()), (401, Some("unauthorized")), "{refused}");
    assert_eq!(call(&hub, &new, "GET", "/api/v1/users", None).await.0, 200);

    // The next start finds the token file's token expired and writes a fresh one; the rotation's
    // successor, which an administrator holds, is not revoked with the earlier bootstrap tokens.
    let written = crossfed_hub::tokens::ensure_admin_token(&hub.store, &data, clock.unix()).await.unwrap();
    assert_eq!(written, Some(data.join("admin-token")));
    let fresh = std::fs::read_to_string(data.join("admin-token")).unwrap().trim().to_string();
    assert_eq!(call(&hub, &fresh, "GET", "/api/v1/users", None).await.0, 200);
    assert_eq!(call(&hub, &new, "GET", "/api/v1/users", None).await.0, 200, "the successor still works");
}

#[tokio::test]
async fn rotations_chain_and_a_token_is_rotated_only_once() {
    let (hub, clock) = start("tokens-twice").await;
    let now = clock.unix();
    let (_, created) =
        admin(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "okta", "expires_in_days": 90}))).await;
    let first = text(&created["id"]).to_string();

    // Two rotations of one token at once: one wins, the other finds it replaced.
    let path = format!("/api/v1/scim-tokens/{first}/rotate");
    let (a, b) = tokio::join!(admin(&hub, "POST", &path, None), admin(&hub, "POST", &path, None));
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let (won, lost) = if a.0 == 200 { (a.1, b.1) } else { (b.1, a.1) };
    let second = text(&won["id"]).to_string();
    assert_eq!(lost["error"], "token_replaced", "{lost}");
    assert!(text(&lost["message"]).contains(&format!("rotate {second} instead")), "{lost}");
    let (_, listing) = admin(&hub, "GET", "/api/v1/scim-tokens", None).await;
    assert_eq!(listing["total"], 3, "entra, okta and one successor: {listing}");

    // The successor rotates in turn, with its own overlap and lifetime.
    advance(&clock, 3600);
    let body = json!({"overlap_hours": 2, "expires_in_days": 30});
    let (status, third) = admin(&hub, "POST", &format!("/api/v1/scim-tokens/{second}/rotate"), Some(body)).await;
    assert_eq!(status, 200, "{third}");
    assert_eq!(third["replaced"]["expires_at"], now + 3600 + 2 * 3600);
    assert_eq!(third["expires_at"], now + 3600 + 30 * DAY);
    assert_eq!(third["rotated_from"], second.as_str());
    // The first keeps the end of its own overlap: a later rotation never lengthens it.
    assert_eq!(listed(&hub, "scim", &first).await["expires_at"], now + 24 * 3600);
    // An overlap longer than what is left of a token does not lengthen it either.
    let third_id = text(&third["id"]).to_string();
    let (_, short) =
        admin(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "short", "expires_in_days": 1}))).await;
    let body = json!({"overlap_hours": 72});
    let (status, kept) =
        admin(&hub, "POST", &format!("/api/v1/scim-tokens/{}/rotate", text(&short["id"])), Some(body)).await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["replaced"]["expires_at"], short["expires_at"]);
    assert_eq!(kept["expires_at"], clock.unix() + DAY, "the old one's lifetime");
    assert_eq!(listed(&hub, "scim", &third_id).await["state"], "live");
}

#[tokio::test]
async fn rotating_a_revoked_expired_or_unknown_token_is_a_typed_error() {
    let (hub, clock) = start("tokens-refused").await;
    let (_, revoked) = admin(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "gone"}))).await;
    let revoked_id = text(&revoked["id"]).to_string();
    assert_eq!(admin(&hub, "DELETE", &format!("/api/v1/scim-tokens/{revoked_id}"), None).await.0, 200);
    let (status, body) = admin(&hub, "POST", &format!("/api/v1/scim-tokens/{revoked_id}/rotate"), None).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("token_revoked")), "{body}");
    let message = text(&body["message"]);
    assert!(message.contains("expected a live token") && message.contains("crossfed scim-tokens create"), "{message}");
    assert_eq!(body.as_object().unwrap().len(), 2, "the documented body, error and message: {body}");

    let (_, lapsing) =
        admin(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "lapsing", "expires_in_days": 1}))).await;
    advance(&clock, DAY);
    let (status, body) =
        admin(&hub, "POST", &format!("/api/v1/scim-tokens/{}/rotate", text(&lapsing["id"])), None).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("token_expired")), "{body}");
    assert!(text(&body["message"]).contains("expired at"), "{body}");

    let (status, body) = admin(&hub, "POST", "/api/v1/scim-tokens/no-such-token/rotate", None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
    // A SCIM token is not rotated through the admin tokens' route.
    let (_, live) = admin(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "live"}))).await;
    let live_id = text(&live["id"]).to_string();
    let (status, _) = admin(&hub, "POST", &format!("/api/v1/admin-tokens/{live_id}/rotate"), None).await;
    assert_eq!(status, 404);

    // Out-of-range settings are refused, naming what was expected and what was found.
    let path = format!("/api/v1/scim-tokens/{live_id}/rotate");
    let (status, body) = admin(&hub, "POST", &path, Some(json!({"overlap_hours": 1000}))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    assert!(text(&body["message"]).contains("expected 0 to 720 hours, found 1000"), "{body}");
    let (status, body) = admin(&hub, "POST", &path, Some(json!({"expires_in_days": 0}))).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = admin(&hub, "POST", &path, Some(json!({"overlap": 5}))).await;
    assert_eq!(status, 400, "an unknown field: {body}");
    // None of those refusals rotated it.
    assert_eq!(listed(&hub, "scim", &live_id).await["state"], "live");
    // A SCIM token does not open the admin API, even to rotate itself.
    let (status, _) = call(&hub, text(&live["token"]), "POST", &path, None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_token_expiring_in_ten_days_is_warned_about_in_the_listing_and_on_metrics() {
    let (hub, clock) = start("tokens-warning").await;
    let body = json!({"name": "entra-10d", "expires_in_days": 10});
    let (_, created) = admin(&hub, "POST", "/api/v1/scim-tokens", Some(body)).await;
    let id = text(&created["id"]).to_string();
    let (_, calm) =
        admin(&hub, "POST", "/api/v1/scim-tokens", Some(json!({"name": "far", "expires_in_days": 90}))).await;

    let item = listed(&hub, "scim", &id).await;
    assert_eq!(item["days_left"], 10);
    let warning = text(&item["warning"]);
    assert!(warning.contains("SCIM token \"entra-10d\"") && warning.contains("expires in 10 days"), "{warning}");
    assert!(warning.contains(&format!("`crossfed scim-tokens rotate {id} --hub {}`", hub.url)), "{warning}");
    assert_eq!(listed(&hub, "scim", text(&calm["id"])).await["warning"], Value::Null, "90 days: no warning");
    let warned = crossfed_hub::tokens::warn_of_expiries(&hub.store, &hub.url, clock.unix()).await.unwrap();
    assert_eq!(warned.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);

    let series = "crossfed_token_expiry_seconds{purpose=\"scim\",name=\"entra-10d\"}";
    assert_eq!(metric(&hub, series).await, Some(10.0 * DAY as f64));

    // Rotated for a year: the warning goes, and the series follows the successor.
    let body = json!({"expires_in_days": 365});
    let (status, rotated) = admin(&hub, "POST", &format!("/api/v1/scim-tokens/{id}/rotate"), Some(body)).await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(listed(&hub, "scim", &id).await["warning"], Value::Null);
    assert_eq!(listed(&hub, "scim", text(&rotated["id"])).await["warning"], Value::Null);
    assert_eq!(metric(&hub, series).await, Some(365.0 * DAY as f64));
    assert!(crossfed_hub::tokens::warn_of_expiries(&hub.store, &hub.url, clock.unix()).await.unwrap().is_empty());
}

/// The value of `series` on the hub's `/metrics`.
async fn metric(hub: &Running, series: &str) -> Option<f64> {
    let text = reqwest::get(format!("{}/metrics", hub.url)).await.unwrap().text().await.unwrap();
    text.lines().find_map(|line| line.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
}
