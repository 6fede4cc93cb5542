//! Scale-out: two `crossfed serve` processes ("A" and "B") on one PostgreSQL database and one
//! signing key, behind a round-robin proxy whose URL is the hub's `base_url`, with a third
//! `crossfed serve` playing the corporate IdP. A sign-in started on one instance finishes on the
//! other (the built-in directory's form, then a SAML login at the IdP); an assertion consumed at
//! one is refused as a replay at the other; under load A is killed with SIGKILL: requests keep
//! being served by B, nothing confirmed before the kill is lost, and A restarts and rejoins,
//! serving the same sessions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use crossfed_testkit::browser::{field, follow, submit_sign_in};
use crossfed_testkit::proxy::RoundRobinProxy;
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};

const DORA_PASSWORD: &str = "dora-hub-password-1";
const ALICE_PASSWORD: &str = "alice-corp-password-1";

/// A running `crossfed serve`, killed and reaped when dropped.
struct Served {
    child: Child,
    log: PathBuf,
}

impl Served {
    /// SIGKILL: no shutdown code runs, connections in flight break.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and waits for the clean exit.
    fn stop(mut self) {
        Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "crossfed serve stopped with {status}: {}", log_of(&self.log));
                return;
            }
            assert!(Instant::now() < deadline, "crossfed serve did not stop on SIGTERM: {}", log_of(&self.log));
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

fn log_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Starts `crossfed serve` and returns once it listens, with the URL it printed (its
/// `base_url`). Its log (stderr) goes to `NAME.log` beside the data dir.
fn serve(name: &str, config: &Path, data_dir: &Path, listen: &str, database_url: Option<&str>) -> (Served, String) {
    let log = data_dir.with_file_name(format!("{name}.log"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_crossfed"));
    command
        .args(["serve", "--listen", listen, "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap());
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    let child = command.spawn().unwrap();
    let mut served = Served { child, log };
    let mut lines = BufReader::new(served.child.stdout.take().unwrap()).lines();
    loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("{name}: crossfed serve exited before it listened: {}", log_of(&served.log));
        };
        if let Some(url) = line.strip_prefix("crossfed hub listening on ") {
            std::thread::spawn(move || lines.for_each(drop));
            return (served, url.to_string());
        }
    }
}

/// A loopback address free right now, for an instance that must come back on the same one.
fn free_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// A browser: cookies kept per host (not per port, as in browsers), so cookies one instance
/// set go to the other and to the proxy too; redirects followed.
struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
}

fn browser() -> Browser {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
    Browser { client, jar }
}

impl Browser {
    /// The Cookie header this browser sends to `url`.
    fn cookies(&self, url: &str) -> String {
        let header = self.jar.cookies(&url.parse().unwrap()).expect("the browser holds cookies");
        header.to_str().unwrap().to_string()
    }
}

/// The portal at `base` shows the user's application.
async fn assert_portal(client: &reqwest::Client, base: &str, who: &str) {
    let response = client.get(format!("{base}/portal")).send().await.unwrap();
    let url = response.url().to_string();
    let status = response.status();
    let page = response.text().await.unwrap();
    assert_eq!((status, url.as_str()), (StatusCode::OK, format!("{base}/portal").as_str()), "{who} at {base}: {page}");
    assert!(page.contains("id=\"app-wiki\"") && page.contains(who), "{who} at {base}: {page}");
}

/// The assertion ID in a POST-binding page's SAMLResponse.
fn assertion_id(page: &str) -> String {
    let xml = base64::engine::general_purpose::STANDARD.decode(field(page, "SAMLResponse")).unwrap();
    let xml = String::from_utf8(xml).unwrap();
    let start = xml.find(":Assertion ").or_else(|| xml.find("<Assertion ")).unwrap_or_else(|| panic!("{xml}"));
    let tag = &xml[start..start + xml[start..].find('>').unwrap()];
    tag.split(" ID=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

fn corp_toml(front: &str) -> String {
    format!(
        r#"[[users]]
user_name = "alice"
email = "alice@example.com"
given_name = "Alice"
password = "{ALICE_PASSWORD}"

[[applications]]
id = "hub"
name = "crossfed hub"
assigned_users = ["alice"]
[applications.custom]
acs_url = "{front}/saml/acs"
audience = "{front}/saml/sp"
"#
    )
}

/// The hub's configuration, shared by both instances: the proxy's URL as `base_url`, a
/// built-in-directory user, and one custom application assigned to users and to a group;
/// with `corp`, people sign in at that IdP instead.
fn hub_toml(front: &str, corp: Option<&str>) -> String {
    let identity_source = corp
        .map(|corp| {
            format!(
                "[identity_source]\nmetadata_url = \"{corp}/saml/apps/hub/metadata\"\nallow_idp_initiated = true\nrefresh_minutes = 0\n\n"
            )
        })
        .unwrap_or_default();
    format!(
        r#"[hub]
base_url = "{front}"

{identity_source}[[users]]
user_name = "dora"
email = "dora@example.com"
password = "{DORA_PASSWORD}"

[[applications]]
id = "wiki"
name = "Team wiki"
assigned_users = ["dora", "alice@example.com"]
assigned_groups = ["wiki-readers"]
[applications.custom]
acs_url = "https://wiki.example.com/saml/acs"
audience = "https://wiki.example.com"
"#
    )
}

/// One request of the load, as the client saw it.
struct Sample {
    started: Instant,
    finished: Instant,
    what: &'static str,
    result: Result<String, String>,
}

type Samples = Arc<Mutex<Vec<Sample>>>;

fn record(samples: &Samples, started: Instant, what: &'static str, result: Result<String, String>) {
    samples.lock().unwrap().push(Sample { started, finished: Instant::now(), what, result });
}

/// Opens the portal and launches the wiki through the proxy with a session, until stopped;
/// each successful launch records its assertion ID. A new connection per request, so the
/// proxy spreads the requests over both instances.
async fn browse(front: String, cookies: String, stop: Arc<AtomicBool>, samples: Samples) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let portal = match client.get(format!("{front}/portal")).header("Cookie", &cookies).send().await {
            Ok(r) if r.status() == StatusCode::OK => r.text().await.map_err(|e| e.to_string()),
            Ok(r) => Err(format!("portal: HTTP {}", r.status())),
            Err(e) => Err(format!("portal: {e}")),
        };
        let csrf = match &portal {
            Ok(page) if page.contains("id=\"app-wiki\"") => Some(field(page, "csrf").to_string()),
            _ => None,
        };
        let portal = match (portal, &csrf) {
            (Ok(_), Some(_)) => Ok(String::new()),
            (Ok(page), None) => Err(format!("portal without the wiki: {page}")),
            (Err(e), _) => Err(e),
        };
        record(&samples, started, "portal", portal);
        let Some(csrf) = csrf else { continue };
        let started = Instant::now();
        let launched = client
            .post(format!("{front}/apps/wiki/launch"))
            .header("Cookie", &cookies)
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await;
        let launched = match launched {
            Ok(r) if r.status() == StatusCode::OK => match r.text().await {
                Ok(page) => Ok(assertion_id(&page)),
                Err(e) => Err(format!("launch: {e}")),
            },
            Ok(r) => Err(format!("launch: HTTP {}", r.status())),
            Err(e) => Err(format!("launch: {e}")),
        };
        record(&samples, started, "launch", launched);
    }
}

/// Creates users and adds them to the assigned group through the proxy's admin API, until
/// stopped; what was confirmed (2xx) is recorded.
async fn administer(front: String, token: String, stop: Arc<AtomicBool>, samples: Samples) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(10)).build().unwrap();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let name = format!("load-{n:04}");
        let started = Instant::now();
        let created = crate::admin_api::create_user(&client, &front, &token, &name).await;
        let created = match created {
            Ok(r) if r.status() == StatusCode::CREATED => Ok(name.clone()),
            Ok(r) => Err(format!("create {name}: HTTP {}", r.status())),
            Err(e) => Err(format!("create {name}: {e}")),
        };
        let ok = created.is_ok();
        record(&samples, started, "user", created);
        if !ok {
            continue;
        }
        let started = Instant::now();
        let added =
            client.put(format!("{front}/api/v1/groups/wiki-readers/members/{name}")).bearer_auth(&token).send().await;
        let added = match added {
            Ok(r) if r.status() == StatusCode::OK => Ok(name.clone()),
            Ok(r) => Err(format!("add {name}: HTTP {}", r.status())),
            Err(e) => Err(format!("add {name}: {e}")),
        };
        record(&samples, started, "member", added);
    }
}

async fn admin_get(base: &str, token: &str, path: &str) -> serde_json::Value {
    let response = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn strings(listing: &serde_json::Value, field: &str) -> BTreeSet<String> {
    listing["items"].as_array().unwrap().iter().filter_map(|i| i[field].as_str().map(str::to_string)).collect()
}

#[test]
fn two_hubs_on_one_database_behind_a_proxy() {
    let begun = Instant::now();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = crossfed_testkit::TestDatabase::create("scaleout");
    let database_url = database.0.clone();
    let dir = tempfile::tempdir().unwrap();
    let (addr_a, addr_b) = loop {
        let pair = (free_address(), free_address());
        if pair.0 != pair.1 {
            break pair;
        }
    };
    let proxy = RoundRobinProxy::start(vec![addr_a, addr_b]);
    let front = proxy.url();
    let (direct_a, direct_b) = (format!("http://{addr_a}"), format!("http://{addr_b}"));

    let corp_config = dir.path().join("corp.toml");
    std::fs::write(&corp_config, corp_toml(&front)).unwrap();
    let (_corp, corp) = serve("corp", &corp_config, &dir.path().join("corp"), "127.0.0.1:0", None);

    // Both instances read the same configuration and database. A creates the signing key and
    // the admin token; B's host is provisioned with copies of both.
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, hub_toml(&front, None)).unwrap();
    let (data_a, data_b) = (dir.path().join("hub-a"), dir.path().join("hub-b"));
    let start_a = || serve("hub-a", &config, &data_a, &addr_a.to_string(), Some(&database_url));
    let start_b = || serve("hub-b", &config, &data_b, &addr_b.to_string(), Some(&database_url));
    let (a, printed) = start_a();
    assert_eq!(printed, front, "the hub announces the proxy's URL");
    std::fs::create_dir_all(&data_b).unwrap();
    for file in ["signing.key", "signing.crt", "admin-token"] {
        std::fs::copy(data_a.join(file), data_b.join(file)).unwrap();
    }
    let (b, _) = start_b();
    let token = std::fs::read_to_string(data_a.join("admin-token")).unwrap().trim().to_string();

    // 1. The built-in directory: the sign-in form comes from A, the filled form goes to B.
    let dora = browser();
    runtime.block_on(async {
        let form = dora.client.get(format!("{direct_a}/login")).send().await.unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        let form = form.text().await.unwrap();
        let signed_in = dora
            .client
            .post(format!("{direct_b}/login"))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[
                ("nonce", field(&form, "nonce")),
                ("next", "/portal"),
                ("user_name", "dora"),
                ("password", DORA_PASSWORD),
                ("totp", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.url().as_str(), format!("{direct_b}/portal"), "B answered the form A served");
        assert_portal(&dora.client, &direct_b, "dora").await;
        assert_portal(&dora.client, &direct_a, "dora").await;
        assert_portal(&dora.client, &front, "dora").await;
    });

    // 2. A rolling restart onto a configuration with the corporate IdP as identity source;
    // dora's session lives in the database and outlasts it.
    std::fs::write(&config, hub_toml(&front, Some(&corp))).unwrap();
    a.stop();
    let (mut a, _) = start_a();
    b.stop();
    let (b, _) = start_b();
    let alice = browser();
    let idp_started = runtime.block_on(async {
        assert_portal(&dora.client, &direct_a, "dora").await;
        assert_portal(&dora.client, &direct_b, "dora").await;

        // A SAML login started on A (its request ID kept in the database) finishes at B's ACS.
        let login = alice.client.get(format!("{direct_a}/login")).send().await.unwrap();
        assert!(login.url().as_str().starts_with(&format!("{corp}/login")), "A sent alice to corp: {}", login.url());
        let answer = submit_sign_in(&alice.client, login, "alice", ALICE_PASSWORD).await.text().await.unwrap();
        assert!(answer.contains(&format!("action=\"{front}/saml/acs\"")), "{answer}");
        let landed = alice
            .client
            .post(format!("{direct_b}/saml/acs"))
            .form(&[("SAMLResponse", field(&answer, "SAMLResponse"))])
            .send()
            .await
            .unwrap();
        let landed_at = landed.url().to_string();
        assert_eq!(landed_at, format!("{direct_b}/portal"), "{}", landed.text().await.unwrap());
        assert_portal(&alice.client, &direct_b, "alice@example.com").await;
        assert_portal(&alice.client, &direct_a, "alice@example.com").await;

        // An IdP-initiated answer (alice opens the hub from corp's portal) is consumed at A and
        // refused as a replay at B.
        let corp_portal = alice.client.get(format!("{corp}/portal")).send().await.unwrap().text().await.unwrap();
        let launch = alice
            .client
            .post(format!("{corp}/apps/hub/launch"))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("csrf", field(&corp_portal, "csrf"))])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let unsolicited = field(&launch, "SAMLResponse").to_string();
        let id = assertion_id(&launch);
        let first = browser();
        // Posted as corp's page would, and then as a browser goes on (the hub's own page posts a
        // cross-site answer once more).
        let consumed =
            first.client.post(format!("{direct_a}/saml/acs")).form(&[("SAMLResponse", &unsolicited)]).send().await;
        let consumed = follow(&first.client, consumed.unwrap()).await;
        assert_eq!(consumed.url.as_str(), format!("{direct_a}/portal"), "{}", consumed.text);
        assert_portal(&first.client, &direct_a, "alice@example.com").await;
        let replayer = browser();
        let replayed =
            replayer.client.post(format!("{direct_b}/saml/acs")).form(&[("SAMLResponse", &unsolicited)]).send().await;
        let replayed = follow(&replayer.client, replayed.unwrap()).await;
        assert_eq!(replayed.status, StatusCode::FORBIDDEN);
        assert!(replayer.jar.cookies(&direct_b.parse().unwrap()).is_none(), "no session for a replay");
        assert!(replayed.text.contains(&format!("Assertion {id} was already used (replay).")), "{}", replayed.text);
        first
    });

    // 3. Load through the proxy: three sessions open the portal and launch the wiki, an
    // administrator creates users and assigns them through the group. A is killed midway.
    let samples: Samples = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (kill_started, kill_done, forwarded_before) = runtime.block_on(async {
        let created = reqwest::Client::new()
            .post(format!("{front}/api/v1/groups"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "display_name": "wiki-readers" }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
        let mut tasks = Vec::new();
        for session in [&dora, &alice, &idp_started] {
            for _ in 0..2 {
                let cookies = session.cookies(&front);
                tasks.push(tokio::spawn(browse(front.clone(), cookies, stop.clone(), samples.clone())));
            }
        }
        tasks.push(tokio::spawn(administer(front.clone(), token.clone(), stop.clone(), samples.clone())));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let forwarded_before = (proxy.forwarded(0), proxy.forwarded(1));
        let kill_started = Instant::now();
        a.kill();
        let kill_done = Instant::now();
        tokio::time::sleep(Duration::from_millis(2000)).await;
        stop.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await.unwrap();
        }
        (kill_started, kill_done, forwarded_before)
    });
    let samples = std::mem::take(&mut *samples.lock().unwrap());
    assert!(forwarded_before.0 > 10 && forwarded_before.1 > 10, "both instances took load: {forwarded_before:?}");
    assert!(proxy.refused(0) > 0, "the proxy routed around the killed instance");
    // Only requests in flight while A died may fail.
    let failures: Vec<_> = samples
        .iter()
        .filter(|s| s.result.is_err() && (s.finished < kill_started || s.started > kill_done))
        .map(|s| s.result.as_ref().unwrap_err())
        .collect();
    assert!(failures.is_empty(), "requests failed outside the kill: {failures:?}");
    let after_kill = |what: &str| samples.iter().filter(|s| s.what == what && s.started > kill_done).count();
    assert!(after_kill("portal") > 5 && after_kill("launch") > 5, "B kept serving the sessions");
    assert!(after_kill("user") > 0, "B kept serving the admin API");
    let confirmed = |what: &str| -> BTreeSet<String> {
        samples.iter().filter(|s| s.what == what).filter_map(|s| s.result.as_ref().ok().cloned()).collect()
    };
    let (users, members, assertions) = (confirmed("user"), confirmed("member"), confirmed("launch"));
    let in_flight = samples.iter().filter(|s| s.result.is_err()).count();
    eprintln!(
        "load: {} requests, {} in flight at the kill failed; {} users, {} assignments, {} launches confirmed",
        samples.len(),
        in_flight,
        users.len(),
        members.len(),
        assertions.len()
    );

    // Everything confirmed is there, read through B.
    runtime.block_on(async {
        let listed = admin_get(&direct_b, &token, "/api/v1/users?limit=1000").await;
        let names = strings(&listed, "user_name");
        assert!(users.is_subset(&names), "users lost: {:?}", users.difference(&names).collect::<Vec<_>>());
        assert!(names.contains("dora") && names.contains("alice@example.com"));
        for item in listed["items"].as_array().unwrap() {
            let name = item["user_name"].as_str().unwrap();
            let groups = item["groups"].as_array().unwrap();
            assert!(!members.contains(name) || groups.iter().any(|g| g == "wiki-readers"), "{item}");
        }
        let group = admin_get(&direct_b, &token, "/api/v1/groups/wiki-readers").await;
        let group_members: BTreeSet<String> =
            group["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_string()).collect();
        assert!(members.is_subset(&group_members), "assignments lost: {:?}", members.difference(&group_members));
        let launches =
            strings(&admin_get(&direct_b, &token, "/api/v1/audit?action=launch&limit=10000").await, "detail");
        let audited = assertions.iter().filter(|id| launches.contains(&format!("assertion {id}"))).count();
        assert_eq!(audited, assertions.len(), "every launch that answered is in the audit log");
        let creations =
            strings(&admin_get(&direct_b, &token, "/api/v1/audit?action=user.create&limit=10000").await, "target");
        assert!(users.is_subset(&creations), "user.create records lost");
        for (session, who) in [(&dora, "dora"), (&alice, "alice@example.com"), (&idp_started, "alice@example.com")] {
            assert_portal(&session.client, &direct_b, who).await;
        }
    });

    // 4. A restarts on the same data and rejoins: it serves the same sessions, and the proxy
    // sends it connections again.
    let (a_again, _) = start_a();
    runtime.block_on(async {
        for (session, who) in [(&dora, "dora"), (&alice, "alice@example.com"), (&idp_started, "alice@example.com")] {
            assert_portal(&session.client, &direct_a, who).await;
        }
        let rejoined = proxy.forwarded(0);
        let fresh = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        for _ in 0..4 {
            let portal = fresh.get(format!("{front}/portal")).header("Cookie", dora.cookies(&front)).send().await;
            assert_eq!(portal.unwrap().status(), StatusCode::OK);
        }
        assert!(proxy.forwarded(0) >= rejoined + 2, "the proxy sends A connections again");
    });
    drop((a_again, b, proxy, database));
    eprintln!("scale-out test took {:?}", begun.elapsed());
}
