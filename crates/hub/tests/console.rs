//! The admin console against a real hub on a free port, without a browser: sign-in with an admin
//! token (a wrong one refused, a revoked one ending the session), every page, the preview and
//! assignment forms with their refusals, CSRF and cross-site checks, users added with their
//! errors, a provisioning pass, and the audit trail of console actions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use crossfed_hub::config::HubConfig;
use crossfed_testkit::browser::field;

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
[[applications.custom.attributes]]
name = "department"
value = "${user:attr.department}"
required = true
"#;

struct Console {
    url: String,
    token: String,
    store: crossfed_store::Store,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Console {
    let data = crossfed_testkit::temp_dir().keep();
    let store = crossfed_testkit::test_store("console").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config: HubConfig = toml::from_str(CONFIG).unwrap();
    let (hub, _) = crossfed_hub::bootstrap::build_hub(&config, store.clone(), &data, &url, 1).await.unwrap();
    let path = crossfed_hub::tokens::ensure_admin_token(&store, &data, crossfed_saml::Instant::now().unix())
        .await
        .unwrap()
        .unwrap();
    let token = std::fs::read_to_string(path).unwrap().trim().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(crossfed_hub::server::serve(listener, Arc::new(hub), async move {
        let _ = rx.await;
    }));
    Console { url, token, store, _stop: tx }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

async fn sign_in(console: &Console, client: &reqwest::Client, token: &str) -> reqwest::Response {
    client
        .post(format!("{}/admin/login", console.url))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

async fn post(console: &Console, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = client
        .post(format!("{}{path}", console.url))
        .header("Sec-Fetch-Site", "same-origin")
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_console_manages_the_hub_through_forms() {
    let console = start().await;
    let client = browser();
    // Not signed in: every page sends the browser to the sign-in form.
    let page = client.get(format!("{}/admin/applications", console.url)).send().await.unwrap();
    assert_eq!(page.url().path(), "/admin/login");
    let refused = sign_in(&console, &client, "cfadm_not-a-real-token").await;
    assert_eq!(refused.status(), 401);
    assert!(refused.text().await.unwrap().contains("id=\"message\""));

    let overview = sign_in(&console, &client, &console.token).await;
    assert_eq!(overview.url().path(), "/admin");
    let overview = overview.text().await.unwrap();
    assert!(overview.contains("Applications") && overview.contains("built-in directory"), "{overview}");
    let csrf = field(&overview, "csrf").to_string();
    for (path, words) in [
        ("/admin/applications", "Team wiki"),
        ("/admin/users", "alice@example.com"),
        ("/admin/provisioning", "Run a pass now"),
        ("/admin/keys", "signing now"),
        ("/admin/applications/wiki", "${user:attr.department}"),
    ] {
        let page = client.get(format!("{}{path}", console.url)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(page.text().await.unwrap().contains(words), "{path} lacks {words}");
    }
    let missing = client.get(format!("{}/admin/applications/nope", console.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    // Preview: alice lacks the required department, and is not assigned.
    let (status, page) =
        post(&console, &client, "/admin/applications/wiki/preview", &[("csrf", &csrf), ("user", "alice")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("alice is not assigned") && page.contains("department"), "{page}");
    let (status, page) =
        post(&console, &client, "/admin/applications/wiki/preview", &[("csrf", &csrf), ("user", "zed")]).await;
    assert_eq!(status, 404);
    assert!(page.contains("no user &quot;zed&quot;"), "{page}");

    // Assignments: added, refused for the configuration file's, removed.
    let add = [("csrf", csrf.as_str()), ("kind", "user"), ("name", "alice"), ("change", "add")];
    let (status, page) = post(&console, &client, "/admin/applications/wiki/assignments", &add).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("user alice is assigned"), "{page}");
    let config_owned = [("csrf", csrf.as_str()), ("kind", "group"), ("name", "Wiki Editors"), ("change", "remove")];
    let (status, page) = post(&console, &client, "/admin/applications/wiki/assignments", &config_owned).await;
    assert_eq!(status, 409);
    assert!(page.contains("configuration file"), "{page}");
    let unknown = [("csrf", csrf.as_str()), ("kind", "user"), ("name", "zed"), ("change", "add")];
    assert_eq!(post(&console, &client, "/admin/applications/wiki/assignments", &unknown).await.0, 404);
    let remove = [("csrf", csrf.as_str()), ("kind", "user"), ("name", "alice"), ("change", "remove")];
    assert_eq!(post(&console, &client, "/admin/applications/wiki/assignments", &remove).await.0, 200);

    // A form without the session's CSRF token, or from another site, changes nothing.
    let forged = [("csrf", "guess"), ("kind", "user"), ("name", "alice"), ("change", "add")];
    assert_eq!(post(&console, &client, "/admin/applications/wiki/assignments", &forged).await.0, 403);
    let cross_site = client
        .post(format!("{}/admin/applications/wiki/assignments", console.url))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&add)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);

    // Users: added (with a password), a duplicate refused with the reason.
    let new_user =
        [("csrf", csrf.as_str()), ("user_name", "bob"), ("email", "bob@example.com"), ("password", "bob-password-1")];
    let (status, page) = post(&console, &client, "/admin/users", &new_user).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Added bob."));
    let (status, page) = post(&console, &client, "/admin/users", &new_user).await;
    assert_eq!(status, 409);
    assert!(page.contains("another user already has user_name"), "{page}");
    let weak = [("csrf", csrf.as_str()), ("user_name", "carol"), ("email", ""), ("password", "x")];
    assert_eq!(post(&console, &client, "/admin/users", &weak).await.0, 400);

    let (status, page) = post(&console, &client, "/admin/provisioning/sync", &[("csrf", &csrf)]).await;
    assert_eq!((status, page.contains("A provisioning pass ran.")), (200, true));
    let audit = client.get(format!("{}/admin/audit?action=application.assign", console.url)).send().await.unwrap();
    let audit = audit.text().await.unwrap();
    assert!(audit.contains("console:bootstrap") && audit.contains("1 events"), "{audit}");

    // Revoking the token ends its console sessions.
    use crossfed_store::TokenStore;
    let token = console.store.find_token(&crossfed_hub::tokens::digest(&console.token)).await.unwrap().unwrap();
    console.store.revoke_token("admin", &token.id, crossfed_saml::Instant::now().unix()).await.unwrap();
    let page = client.get(format!("{}/admin", console.url)).send().await.unwrap();
    assert_eq!(page.url().path(), "/admin/login");
}
