//! Key rollover without an outage, on the reference chain (corp, the hub, the target account)
//! served in this process: the request key rolls over while people keep signing in through corp,
//! each step refused while corp does not trust the next key yet, and no sign-in fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crossfed_testkit::browser::{follow, new_browser, submit_sign_in};
use serde_json::{Value, json};

const PASSWORD: &str = "rollover-password-1";
const SCIM_TOKEN: &str = "rollover-scim-token-000000000001";

/// The demo chain in `data`, with the admin tokens of corp and the hub.
pub(crate) struct Served {
    pub chain: crossfed_demo::Chain,
    pub hub_admin: String,
    pub corp_admin: String,
}

pub(crate) async fn serve_chain(data: &std::path::Path) -> Served {
    let listeners = [
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    ];
    let chain = crossfed_demo::start_chain(data, listeners, PASSWORD, SCIM_TOKEN, false).await.unwrap();
    let hub_admin = crate::support::admin_token(&chain.hub_store, &data.join("hub")).await;
    let corp_admin = crate::support::admin_token(&chain.corp_store, &data.join("corp")).await;
    Served { chain, hub_admin, corp_admin }
}

/// An admin API call; the status and the JSON body.
pub(crate) async fn api(method: reqwest::Method, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// One round of a [`Repeating`] task: each thing it tried, and why it failed if it did.
type Round = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Result<(), String>>> + Send>>;

/// Something people do again and again while a rollover goes on (sign in, launch), counted.
struct Repeating {
    done: Arc<AtomicUsize>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Repeating {
    fn start(mut round: impl FnMut() -> Round + Send + 'static) -> Repeating {
        let failures: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
        let (done, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let task = {
            let (done, failures, stop) = (done.clone(), Arc::clone(&failures), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    for outcome in round().await {
                        match outcome {
                            Ok(()) => drop(done.fetch_add(1, Ordering::Relaxed)),
                            Err(why) => failures.lock().unwrap().push(why),
                        }
                    }
                }
            })
        };
        Repeating { done, failures, stop, task }
    }

    /// Waits until `more` further rounds' attempts have succeeded.
    async fn wait_for(&self, more: usize) {
        let target = self.done.load(Ordering::Relaxed) + more;
        for _ in 0..600 {
            if self.done.load(Ordering::Relaxed) >= target {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("stalled: {:?}", self.failures.lock().unwrap());
    }

    /// Stops; how many attempts succeeded, and every failure.
    async fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        (self.done.load(Ordering::Relaxed), self.failures.lock().unwrap().clone())
    }
}

/// Signs alice in to the hub through corp again and again: after her first sign-in, corp still
/// knows her, so each round is the hub's signed AuthnRequest and corp's Response.
async fn sign_in_loop(hub_url: &str) -> Repeating {
    let browser = new_browser();
    let login = browser.get(format!("{hub_url}/portal")).send().await.unwrap();
    let first = follow(&browser, submit_sign_in(&browser, login, "alice", PASSWORD).await).await;
    assert!(first.url.path().ends_with("/portal") && first.status == 200, "alice signs in: {first:?}");
    let hub_url = hub_url.to_string();
    Repeating::start(move || {
        let (browser, hub_url) = (browser.clone(), hub_url.clone());
        Box::pin(async move {
            let page = follow(&browser, browser.get(format!("{hub_url}/login")).send().await.unwrap()).await;
            let reached = page.url.path().ends_with("/portal") && page.status == 200;
            let why = || format!("{} {}: {}", page.status, page.url, page.text.chars().take(300).collect::<String>());
            vec![if reached { Ok(()) } else { Err(why()) }]
        })
    })
}

/// The hub's SP metadata lists these certificates (SHA-256 fingerprints).
async fn sp_certificates(hub_url: &str) -> Vec<String> {
    let xml = reqwest::get(format!("{hub_url}/saml/sp/metadata")).await.unwrap().text().await.unwrap();
    let entity = crossfed_saml::EntityDescriptor::parse(xml.as_bytes()).unwrap();
    entity.sp.unwrap().signing_certificates.iter().map(|c| c.fingerprint_hex()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_key_rolls_over_while_corp_keeps_signing_people_in() {
    let data = crossfed_testkit::temp_dir();
    let served = serve_chain(data.path()).await;
    let (hub, corp) = (served.chain.hub_url.clone(), served.chain.corp_url.clone());
    let rollover = format!("{hub}/api/v1/keys/request/rollover");
    let admin = served.hub_admin.clone();
    let post = |url: String, body: Value| {
        let admin = admin.clone();
        async move { api(reqwest::Method::POST, &url, &admin, Some(body)).await }
    };
    let assertion_before = served.chain.hub.keys.assertion.signing_key().certificate().fingerprint_hex();
    let before = sp_certificates(&hub).await;
    assert_eq!(before.len(), 1);

    let signing_in = sign_in_loop(&hub).await;
    signing_in.wait_for(5).await;

    // A dry run changes nothing.
    let (status, report) = post(rollover.clone(), json!({"dry_run": true})).await;
    assert_eq!((status, report["steps"][0].as_str()), (200, Some("would stage a next key")), "{report}");
    assert_eq!(sp_certificates(&hub).await, before);

    // Staged and published, but corp has not imported it: the rollover stops there, naming corp,
    // and a forced-free activation is refused.
    let (status, report) = post(rollover.clone(), json!({})).await;
    assert_eq!(status, 200, "{report}");
    let blocked = report["blocked"].as_str().unwrap_or_else(|| panic!("corp does not trust it yet: {report}"));
    assert!(
        blocked.contains("identity source") && blocked.contains("refused a request signed with this key"),
        "{blocked}"
    );
    assert_eq!(report["stage"], "staged");
    let published = sp_certificates(&hub).await;
    assert_eq!(published.len(), 2);
    assert_eq!(published[0], before[0], "the current key still signs, listed first");
    let (status, refused) = post(format!("{hub}/api/v1/keys/request/activate"), json!({})).await;
    assert_eq!((status, refused["error"].as_str()), (409, Some("key_peer_not_ready")), "{refused}");
    // The chain checks name corp as not trusting the staged key.
    let console = crate::support::console_session(&hub, &served.hub_admin).await;
    let checks = console.get(format!("{hub}/admin/checks")).send().await.unwrap().text().await.unwrap();
    let findings = crate::target_accounts::rows(&checks);
    let named = findings
        .iter()
        .find(|(link, subject, ok, _)| link == "key-trust" && subject.starts_with("request: identity source") && !ok);
    assert!(named.is_some_and(|(_, _, _, detail)| detail.contains("staged next")), "{findings:?}");
    signing_in.wait_for(5).await;

    // corp's administrator imports the hub's new SP metadata, as they would in Entra ID.
    let sp_xml = reqwest::get(format!("{hub}/saml/sp/metadata")).await.unwrap().text().await.unwrap();
    let (status, mut spec) =
        api(reqwest::Method::GET, &format!("{corp}/api/v1/applications/hub"), &served.corp_admin, None).await;
    assert_eq!(status, 200, "{spec}");
    let mut definition = spec["definition"].take();
    definition["custom"]["metadata_xml"] = json!(sp_xml);
    let (status, answer) =
        api(reqwest::Method::PUT, &format!("{corp}/api/v1/applications/hub"), &served.corp_admin, Some(definition))
            .await;
    assert_eq!(status, 200, "{answer}");

    // Now the rollover goes on: corp accepts the next key, it is activated, and once every
    // instance has followed, the old one is retired.
    let mut report = post(rollover.clone(), json!({})).await.1;
    assert!(report["blocked"].is_null(), "{report}");
    assert!(report["steps"].to_string().contains("activated"), "{report}");
    signing_in.wait_for(5).await;
    for _ in 0..5 {
        if report["done"] == true {
            break;
        }
        let wait = report["wait_seconds"].as_i64().unwrap_or(1).max(1) as u64;
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        report = post(rollover.clone(), json!({})).await.1;
    }
    assert_eq!(report["done"], true, "{report}");
    let after = sp_certificates(&hub).await;
    assert_eq!(after, vec![published[1].clone()], "only the new key is published");
    signing_in.wait_for(5).await;

    let (succeeded, failures) = signing_in.finish().await;
    assert!(failures.is_empty(), "{} sign-ins failed during the rollover: {failures:?}", failures.len());
    assert!(succeeded >= 20, "{succeeded} sign-ins");
    // The key applications trust did not move.
    assert_eq!(served.chain.hub.keys.assertion.signing_key().certificate().fingerprint_hex(), assertion_before);
    let (_, audit) =
        api(reqwest::Method::GET, &format!("{hub}/api/v1/audit?action=keys.*"), &served.hub_admin, None).await;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for step in ["keys.stage", "keys.activate", "keys.retire"] {
        assert!(actions.contains(&step), "{step} audited: {actions:?}");
    }
    eprintln!("{succeeded} sign-ins through corp during the request key's rollover, none failed");
    served.chain.stop().await;
}

/// Launches `apps` for alice again and again, each Response posted to the account's sign-in as a
/// browser would; an attempt succeeds when it reaches the AWS console.
async fn launch_loop(hub_url: &str, apps: [&'static str; 2]) -> Repeating {
    let portal = Arc::new(crate::support::portal_sign_in(hub_url, "alice", "alice-password-1").await);
    Repeating::start(move || {
        let portal = portal.clone();
        Box::pin(async move {
            let mut outcomes = Vec::new();
            for app in apps {
                let (status, page) = portal.launch(app).await;
                let landed = crossfed_testkit::browser::auto_submit(&portal.client, &page, "SAMLResponse").await;
                let landed_status = landed.status().as_u16();
                let text = landed.text().await.unwrap();
                outcomes.push(match status == 200 && landed_status == 200 && text.contains("<h1>Console</h1>") {
                    true => Ok(()),
                    false => Err(format!(
                        "{app}: launch {status}, sign-in {landed_status}: {}",
                        text.chars().take(300).collect::<String>()
                    )),
                });
            }
            outcomes
        })
    })
}

/// The certificates (SHA-256) account `account`'s provider trusts now.
async fn provider_trusts(account: &crate::support::accounts::Account) -> Vec<String> {
    let iam = account.target(true).iam(&crossfed_clock::Clock::system()).unwrap();
    let list = iam.saml_provider_certificates(&account.provider_arn(crate::support::accounts::PROVIDER)).await.unwrap();
    list.iter().map(|c| c.fingerprint_hex()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assertion_key_rolls_over_across_two_accounts_while_people_launch() {
    use crate::support::accounts::{Account, FIRST, PROVIDER, ROLE, SECOND};
    let (first, second) = tokio::join!(Account::start(FIRST), Account::start(SECOND));
    let mut config = format!("{}{}", first.config_entry(true), second.config_entry(false));
    config += "[[users]]\nuser_name = \"alice\"\nemail = \"alice@example.com\"\npassword = \"alice-password-1\"\n";
    for (id, account) in [("billing", &first), ("operations", &second)] {
        config += &format!(
            "[[applications]]\nid = \"{id}\"\nname = \"{id}\"\nassigned_users = [\"alice\"]\n[applications.aws_account]\naccount_id = \"{}\"\nsignin_url = \"{}\"\nroles = [{{ role_name = \"{ROLE}\", provider_name = \"{PROVIDER}\" }}]\n",
            account.id,
            account.signin_url()
        );
    }
    let data = crossfed_testkit::temp_dir();
    let store = crossfed_testkit::test_store("rollover-accounts").await;
    let hub = crate::support::start_hub(&config, &store, data.path(), crossfed_clock::Clock::system()).await;
    for (account, app) in [(&first, "billing"), (&second, "operations")] {
        let xml = reqwest::get(format!("{}/saml/apps/{app}/metadata", hub.url)).await.unwrap().text().await.unwrap();
        account.trust(PROVIDER, &xml, ROLE).await;
    }
    let old_certificate = hub.hub.keys.assertion.signing_key().certificate().clone();
    let old = old_certificate.fingerprint_hex();
    assert_eq!(provider_trusts(&first).await, vec![old.clone()]);

    let launching = launch_loop(&hub.url, ["billing", "operations"]).await;
    launching.wait_for(4).await;
    let rollover = format!("{}/api/v1/keys/assertion/rollover", hub.url);

    // A dry run says what it would do and changes nothing.
    let (status, report) = api(reqwest::Method::POST, &rollover, &hub.admin, Some(json!({"dry_run": true}))).await;
    assert_eq!((status, report["stage"].as_str()), (200, Some("steady")), "{report}");

    // Half done by hand: a next key staged, no account told. The check names both providers,
    // and activation is refused, naming them.
    let (status, staged) =
        api(reqwest::Method::POST, &format!("{}/api/v1/keys/assertion/stage", hub.url), &hub.admin, None).await;
    assert_eq!(status, 200, "{staged}");
    let next = staged["certificate"]["sha256"].as_str().unwrap().to_string();
    let browser = hub.console().await;
    let checks = browser.get(format!("{}/admin/checks", hub.url)).send().await.unwrap().text().await.unwrap();
    let findings = crate::target_accounts::rows(&checks);
    for app in ["billing", "operations"] {
        let row = findings.iter().find(|(link, subject, _, _)| link == "provider-next-certificate" && subject == app);
        assert!(row.is_some_and(|(_, _, ok, _)| !ok), "{app}: {findings:?}");
    }
    let (status, refused) =
        api(reqwest::Method::POST, &format!("{}/api/v1/keys/assertion/activate", hub.url), &hub.admin, None).await;
    assert_eq!((status, refused["error"].as_str()), (409, Some("key_peer_not_ready")), "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains(FIRST) && message.contains(SECOND), "{message}");

    // The coordinated rollover: both providers list both keys, each verified by an
    // AssumeRoleWithSAML signed by the next key; activated; then the old certificate removed.
    let (status, report) = api(reqwest::Method::POST, &rollover, &hub.admin, Some(json!({}))).await;
    assert_eq!(status, 200, "{report}");
    assert!(report["blocked"].is_null(), "{report}");
    let accounts = report["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{report}");
    for account in accounts {
        let verified = account["verified"]["Ok"].as_str().unwrap_or_else(|| panic!("verified: {account}"));
        assert!(verified.ends_with(&format!(":assumed-role/{ROLE}/crossfed-key-check")), "{verified}");
    }
    for account in [&first, &second] {
        let trusted = provider_trusts(account).await;
        assert!(trusted.contains(&old) && trusted.contains(&next), "{trusted:?}");
    }
    assert_eq!(hub.hub.keys.assertion.signing_key().certificate().fingerprint_hex(), next, "activated");
    launching.wait_for(4).await;
    // Activated, and left there past the time instances take to follow: the checks name the
    // rollover as half done; the next call finishes it.
    let wait = report["wait_seconds"].as_i64().unwrap() as u64;
    tokio::time::sleep(std::time::Duration::from_secs(wait + 1)).await;
    let checks = browser.get(format!("{}/admin/checks", hub.url)).send().await.unwrap().text().await.unwrap();
    let findings = crate::target_accounts::rows(&checks);
    let half_done =
        findings.iter().find(|(link, subject, ok, _)| link == "key-rollover" && subject == "assertion" && !ok);
    assert!(half_done.is_some(), "{findings:?}");
    let mut report = api(reqwest::Method::POST, &rollover, &hub.admin, Some(json!({}))).await.1;
    for _ in 0..5 {
        if report["done"] == true {
            break;
        }
        let wait = report["wait_seconds"].as_i64().unwrap_or(1).max(1) as u64;
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        report = api(reqwest::Method::POST, &rollover, &hub.admin, Some(json!({}))).await.1;
    }
    assert_eq!(report["done"], true, "{report}");
    for account in [&first, &second] {
        assert_eq!(provider_trusts(account).await, vec![next.clone()], "the old certificate is gone");
    }
    launching.wait_for(4).await;
    let (launched, failures) = launching.finish().await;
    assert!(failures.is_empty(), "{} launches failed during the rollover: {failures:?}", failures.len());
    eprintln!("{launched} launches into two accounts during the assertion key's rollover, none failed");

    // A provider that still trusts the retired key is named by the check.
    let both = crossfed_hub::apps::metadata::idp_metadata_xml(
        &hub.url,
        "billing",
        vec![hub.hub.keys.assertion.signing_key().certificate().clone(), old_certificate],
    );
    first.trust(PROVIDER, &both, ROLE).await;
    let checks = browser.get(format!("{}/admin/checks", hub.url)).send().await.unwrap().text().await.unwrap();
    let findings = crate::target_accounts::rows(&checks);
    let row = findings.iter().find(|(link, _, _, _)| link == "provider-retired-certificate");
    let (_, subject, ok, detail) = row.unwrap_or_else(|| panic!("{findings:?}"));
    assert!(subject == "billing" && !ok && detail.contains(&old[..16]), "{detail}");
}
