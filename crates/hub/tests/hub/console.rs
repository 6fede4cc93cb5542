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
    start_with(CONFIG, &data, store).await
}

async fn start_with(config: &str, data: &std::path::Path, store: crossfed_store::Store) -> Console {
    let data = data.to_path_buf();
    let (listener, url) = crate::support::listener().await;
    let config: HubConfig = toml::from_str(config).unwrap();
    let hub = crate::support::build(&config, &store, &data, &url).await;
    // A restart finds the token written at first start.
    let token = crate::support::admin_token(&store, &data).await;
    let tx = crate::support::serve(listener, Arc::new(hub));
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
    assert!(crossfed_testkit::browser::unescape(&page).contains("no user \"zed\""), "{page}");

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
    console
        .store
        .revoke_token("admin", &token.id, crossfed_saml::Timestamp::from(crossfed_clock::Clock::system().now()).unix())
        .await
        .unwrap();
    let page = client.get(format!("{}/admin", console.url)).send().await.unwrap();
    assert_eq!(page.url().path(), "/admin/login");
}

async fn signed_in(console: &Console) -> (reqwest::Client, String) {
    let client = browser();
    let overview = sign_in(console, &client, &console.token).await.text().await.unwrap();
    let csrf = field(&overview, "csrf").to_string();
    (client, csrf)
}

/// The SHA-256 fingerprints of the signing certificates a metadata document lists.
async fn published(url: &str) -> Vec<String> {
    let xml = reqwest::get(url).await.unwrap().text().await.unwrap();
    let entity = crossfed_saml::EntityDescriptor::parse(xml.as_bytes()).unwrap();
    entity.idp.unwrap().signing_certificates.iter().map(|c| c.fingerprint_hex()).collect()
}

#[tokio::test]
async fn keys_rotate_from_the_console_with_an_overlap() {
    let console = start().await;
    let (client, csrf) = signed_in(&console).await;
    let metadata = format!("{}/saml/apps/wiki/metadata", console.url);
    let original = published(&metadata).await;
    assert_eq!(original.len(), 1);

    // Nothing staged: activation is refused and nothing changes.
    let assertion = [("csrf", csrf.as_str()), ("role", "assertion")];
    let (status, page) = post(&console, &client, "/admin/keys/activate", &assertion).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("no next key is staged"), "{page}");

    // Staged: published at once beside the current key, which still signs.
    let (status, page) = post(&console, &client, "/admin/keys/stage", &assertion).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("staged next") && page.contains("Activate the next key"), "{page}");
    let during = published(&metadata).await;
    assert_eq!(during.len(), 2);
    assert_eq!(during[0], original[0]);
    let (status, page) = post(&console, &client, "/admin/keys/stage", &assertion).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("already staged"), "{page}");

    // The wiki does not say what it trusts: activation goes ahead and says so.
    let (status, page) = post(&console, &client, "/admin/keys/activate", &assertion).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("check these peers") && page.contains("application wiki"), "{page}");
    assert!(page.contains("previous (published until retired)"), "{page}");
    assert_eq!(published(&metadata).await, vec![during[1].clone(), original[0].clone()]);

    // Retiring waits until every instance has followed the activation.
    let (status, page) = post(&console, &client, "/admin/keys/retire", &assertion).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("retire it after"), "{page}");
    assert_eq!(published(&metadata).await.len(), 2);

    // An unknown role is refused by name.
    let (status, page) = post(&console, &client, "/admin/keys/stage", &[("csrf", &csrf), ("role", "encryption")]).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("unknown key role"), "{page}");

    // Forms from elsewhere change nothing.
    let forged = client
        .post(format!("{}/admin/keys/stage", console.url))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("csrf", csrf.as_str()), ("role", "assertion")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(published(&metadata).await.len(), 2);
    let audit = client.get(format!("{}/admin/audit", console.url)).send().await.unwrap().text().await.unwrap();
    assert!(audit.contains("keys.stage") && audit.contains("keys.activate"), "{audit}");
}

#[tokio::test]
async fn mappings_are_edited_with_a_draft_preview_in_the_console() {
    let console = start().await;
    let (client, csrf) = signed_in(&console).await;
    let api = reqwest::Client::new();
    let created = api
        .post(format!("{}/api/v1/applications", console.url))
        .bearer_auth(&console.token)
        .json(&serde_json::json!({
            "id": "crm", "name": "CRM",
            "custom": {"acs_url": "https://crm.example.com/acs", "audience": "https://crm.example.com",
                       "attributes": [{"name": "team", "value": "support"}]}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let page = client.get(format!("{}/admin/applications/crm", console.url)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("name=\"name_0\" value=\"team\"") && page.contains("Save the mappings"), "{page}");

    // A draft is previewed for alice without being saved.
    let draft = [
        ("csrf", csrf.as_str()),
        ("name_id_format", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"),
        ("name_id", "${user:email}"),
        ("name_0", "team"),
        ("value_0", "support"),
        ("name_1", "mail"),
        ("value_1", "${user:email}"),
        ("name_2", ""),
        ("value_2", ""),
        ("preview_user", "alice"),
        ("action", "preview"),
    ];
    let (status, page) = post(&console, &client, "/admin/applications/crm/mappings", &draft).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Draft, not saved") && page.contains("<td>mail</td><td><code>alice@example.com</code>"),
        "{page}"
    );
    assert!(page.contains("name=\"name_1\" value=\"mail\""), "the draft stays in the form: {page}");
    let stored = |body: serde_json::Value| body["definition"]["custom"]["attributes"].as_array().unwrap().len();
    let get = || async {
        let r = api.get(format!("{}/api/v1/applications/crm", console.url)).bearer_auth(&console.token).send();
        r.await.unwrap().json::<serde_json::Value>().await.unwrap()
    };
    assert_eq!(stored(get().await), 1);

    // A mistyped variable is refused with the suggestion, and nothing is saved.
    let mut typo = draft.to_vec();
    typo[6] = ("value_1", "${user:emial}");
    typo[10] = ("action", "save");
    let (status, page) = post(&console, &client, "/admin/applications/crm/mappings", &typo).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Not saved") && page.contains("user:email"), "{page}");
    assert_eq!(stored(get().await), 1);

    let mut save = draft.to_vec();
    save[10] = ("action", "save");
    let (status, page) = post(&console, &client, "/admin/applications/crm/mappings", &save).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("The mappings are saved"), "{page}");
    let saved = get().await;
    assert_eq!(stored(saved.clone()), 2);
    assert_eq!(saved["definition"]["custom"]["name_id"], "${user:email}");

    // The configuration file's application is edited there, not here.
    let page = client.get(format!("{}/admin/applications/wiki", console.url)).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("belongs to the configuration file"));
    let mut wiki = save.clone();
    wiki[3] = ("name_0", "department");
    let (status, page) = post(&console, &client, "/admin/applications/wiki/mappings", &wiki).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("configuration file"), "{page}");
}

fn idp_metadata(entity_id: &str) -> String {
    let key =
        crossfed_xmldsig::SigningKey::generate_rsa("test idp", crossfed_clock::Clock::system().now(), 30).unwrap();
    let sso = crossfed_saml::Endpoint::redirect(format!("{entity_id}/sso"));
    crossfed_saml::EntityDescriptor::idp(entity_id, vec![key.certificate().clone()], vec![sso]).to_xml()
}

#[tokio::test]
async fn identity_source_metadata_is_uploaded_in_the_console_and_kept() {
    let data = crossfed_testkit::temp_dir().keep();
    let file = data.join("idp-metadata.xml");
    std::fs::write(&file, idp_metadata("https://idp-one.example.com")).unwrap();
    let config = format!(
        "[identity_source]\nmetadata_file = {:?}\nprovisioning = \"just-in-time\"\n",
        file.display().to_string()
    );
    let store = crossfed_testkit::test_store("console-idp").await;
    let console = start_with(&config, &data, store.clone()).await;
    let (client, csrf) = signed_in(&console).await;
    let page = client.get(format!("{}/admin/identity-source", console.url)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("https://idp-one.example.com") && page.contains("Trust this metadata"), "{page}");

    // Not metadata, and an IdP-less document, are refused; the trusted copy stays.
    for (bad, words) in
        [("<html>hello</html>", "does not read"), ("<!DOCTYPE x [<!ENTITY e \"e\">]><x/>", "does not read")]
    {
        let (status, page) =
            post(&console, &client, "/admin/identity-source/metadata", &[("csrf", &csrf), ("metadata", bad)]).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains(words), "{page}");
    }
    let view = |console: &Console| {
        let request = reqwest::Client::new()
            .get(format!("{}/api/v1/identity-source", console.url))
            .bearer_auth(console.token.clone());
        async move { request.send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    assert_eq!(view(&console).await["idp_entity_id"], "https://idp-one.example.com");
    // Expired metadata is refused before anything is stored or trusted.
    let mut expired =
        crossfed_saml::EntityDescriptor::parse(idp_metadata("https://idp-old.example.com").as_bytes()).unwrap();
    expired.valid_until = crossfed_saml::Timestamp::from_unix(1_000_000);
    let (status, page) =
        post(&console, &client, "/admin/identity-source/metadata", &[("csrf", &csrf), ("metadata", &expired.to_xml())])
            .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("not usable"), "{page}");
    assert_eq!(view(&console).await["idp_entity_id"], "https://idp-one.example.com");

    let second = idp_metadata("https://idp-two.example.com");
    let (status, page) =
        post(&console, &client, "/admin/identity-source/metadata", &[("csrf", &csrf), ("metadata", &second)]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("The hub trusts https://idp-two.example.com from now on"), "{page}");
    assert_eq!(view(&console).await["idp_entity_id"], "https://idp-two.example.com");

    // The upload outlives a restart, and outranks the configured file.
    drop(console);
    let restarted = start_with(&config, &data, store.clone()).await;
    assert_eq!(view(&restarted).await["idp_entity_id"], "https://idp-two.example.com");

    // The API takes the same upload.
    let third = idp_metadata("https://idp-three.example.com");
    let put = reqwest::Client::new()
        .put(format!("{}/api/v1/identity-source/metadata", restarted.url))
        .bearer_auth(&restarted.token)
        .header("content-type", "application/xml")
        .body(third)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(put.json::<serde_json::Value>().await.unwrap()["idp_entity_id"], "https://idp-three.example.com");
    let audit = reqwest::Client::new()
        .get(format!("{}/api/v1/audit?action=identity-source.metadata", restarted.url))
        .bearer_auth(&restarted.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(audit.contains("idp-two.example.com → https://idp-three.example.com"), "{audit}");
}

#[tokio::test]
async fn groups_and_their_members_are_managed_in_the_console() {
    let console = start().await;
    let (client, csrf) = signed_in(&console).await;
    let (status, page) =
        post(&console, &client, "/admin/groups", &[("csrf", &csrf), ("display_name", "Wiki Editors")]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Added the group Wiki Editors"), "{page}");
    let (status, page) =
        post(&console, &client, "/admin/groups", &[("csrf", &csrf), ("display_name", "wiki editors")]).await;
    assert_eq!(status, 409, "a name differing only in case is taken: {page}");

    let member = async |user: &str, change: &str| {
        let form = [("csrf", csrf.as_str()), ("group", "Wiki Editors"), ("user", user), ("change", change)];
        post(&console, &client, "/admin/groups/members", &form).await
    };
    let (status, page) = member("alice", "add").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("alice is now a member of Wiki Editors") && page.contains("<td>alice</td>"), "{page}");
    // The group's assignment now reaches alice.
    let (_, preview) =
        post(&console, &client, "/admin/applications/wiki/preview", &[("csrf", &csrf), ("user", "alice")]).await;
    assert!(!preview.contains("alice is not assigned"), "{preview}");

    let (status, page) = member("zed", "add").await;
    assert_eq!(status, 404, "{page}");
    assert!(crossfed_testkit::browser::unescape(&page).contains("no user \"zed\""), "{page}");
    let (status, page) = member("alice", "remove").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("alice is no longer a member of Wiki Editors"), "{page}");
    let audit = client.get(format!("{}/admin/audit", console.url)).send().await.unwrap().text().await.unwrap();
    assert!(audit.contains("group.create") && audit.contains("removed alice"), "{audit}");
}

#[tokio::test]
async fn applications_are_added_from_the_catalog_in_the_console() {
    let console = start().await;
    let (client, csrf) = signed_in(&console).await;
    let page = client.get(format!("{}/admin/applications", console.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Add an application") && page.contains("Amazon Connect"), "{page}");

    let add = async |fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        post(&console, &client, "/admin/applications", &form).await
    };
    let custom = [
        ("template", "custom"),
        ("id", "crm"),
        ("name", "CRM"),
        ("acs_url", "https://crm.example.com/acs"),
        ("audience", "https://crm.example.com"),
        ("region", ""),
    ];
    let (status, page) = add(&custom).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h1>CRM (crm)</h1>") && page.contains("Save the mappings"), "lands on its page: {page}");
    let (status, page) = add(&custom).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("Not added"), "{page}");

    let connect = [
        ("template", "amazon-connect"),
        ("id", "connect"),
        ("name", "Amazon Connect"),
        ("account_id", "123456789012"),
        ("region", "moon-1"),
        ("instance_id", "6a8f2f52-4b5c-4c8e-9c7b-0d2f4e6a8b1c"),
        ("role_name", "ConnectAgent"),
        ("provider_name", "CrossfedHub"),
    ];
    let (status, page) = add(&connect).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Not added") && page.contains("moon-1"), "the bad region is named: {page}");
    let mut fixed = connect.to_vec();
    fixed[4] = ("region", "eu-west-2");
    let (status, page) = add(&fixed).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("amazon-connect") && page.contains("RoleSessionName"), "{page}");

    let account = [
        ("template", "aws-account"),
        ("id", "console"),
        ("name", "AWS console"),
        ("account_id", "123456789012"),
        ("role_name", "ReadOnly"),
        ("provider_name", "CrossfedHub"),
    ];
    let (status, page) = add(&account).await;
    assert_eq!(status, 200, "{page}");
    let (status, page) = add(&[("template", "other"), ("id", "x"), ("name", "X")]).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("choose a template"), "{page}");
    let audit = client.get(format!("{}/admin/audit", console.url)).send().await.unwrap().text().await.unwrap();
    assert!(audit.contains("application.create"), "{audit}");
}
