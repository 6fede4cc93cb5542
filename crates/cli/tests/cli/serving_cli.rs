//! Serving in production, through the `crossfed` binary: idle connections are closed after the
//! header timeout and others are served with the connection cap reached (which the log says);
//! SIGTERM under load loses no acknowledged write nor its audit record; native HTTPS signs a
//! person in in Chromium, with HSTS and Secure cookies, and a replaced certificate is served
//! without a restart; and Debian's nginx, terminating TLS in front of two instances on one
//! database, carries a sign-in and a launch, the client address it forwards is the one logged,
//! and a forged `X-Forwarded-For` is not believed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use crossfed_testkit::browser::field;
use rcgen::PublicKeyData;
use reqwest::StatusCode;

const PASSWORD: &str = "dora-hub-password-1";

/// A running `crossfed serve`, killed and reaped when dropped.
struct Served {
    child: Child,
    log: PathBuf,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit status (waiting generously: the test is not about speed).
    fn terminate(&mut self) -> ExitStatus {
        Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "crossfed serve did not stop on SIGTERM: {}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the log has a line containing every one of `words`, and returns it.
    fn wait_for_line(&self, words: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| words.iter().all(|w| l.contains(w))) {
                return line.to_string();
            }
            assert!(Instant::now() < deadline, "no log line with {words:?}: {log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Starts `crossfed serve` with `extra` flags (JSON log) and returns once it listens.
fn serve(name: &str, config: &Path, data_dir: &Path, extra: &[&str]) -> Served {
    let log = data_dir.with_file_name(format!("{name}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_crossfed"))
        .args(["serve", "--log-format", "json", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap())
        .spawn()
        .unwrap();
    let mut served = Served { child, log, url: String::new() };
    let mut lines = BufReader::new(served.child.stdout.take().unwrap()).lines();
    loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("{name}: crossfed serve exited before it listened: {}", served.log());
        };
        if let Some(url) = line.strip_prefix("crossfed hub listening on ") {
            served.url = url.to_string();
            std::thread::spawn(move || lines.for_each(drop));
            return served;
        }
    }
}

/// The hub's configuration: dora in the built-in directory, the wiki assigned to her; `hub`
/// lines go into `[hub]`.
fn hub_toml(hub: &str) -> String {
    format!(
        r#"[hub]
{hub}

[[users]]
user_name = "dora"
email = "dora@example.com"
password = "{PASSWORD}"

[[applications]]
id = "wiki"
name = "Team wiki"
assigned_users = ["dora"]
[applications.custom]
acs_url = "https://wiki.example.com/saml/acs"
audience = "https://wiki.example.com"
"#
    )
}

fn free_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// The JSON log lines of `log` about the request the client got `request_id` back for.
fn lines_of(log: &str, request_id: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["request_id"] == request_id)
        .collect()
}

#[test]
fn idle_connections_are_closed_and_others_served_at_the_connection_cap() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, hub_toml("")).unwrap();
    let hub = serve(
        "hub",
        &config,
        &dir.path().join("data"),
        &["--listen", "127.0.0.1:0", "--max-connections", "4", "--header-timeout-seconds", "2"],
    );
    let address: SocketAddr = hub.url.strip_prefix("http://").unwrap().parse().unwrap();
    // Three times the cap of connections that never send a byte: the kernel's backlog holds
    // those the hub does not accept yet.
    let idle: Vec<TcpStream> = (0..12).map(|_| TcpStream::connect(address).unwrap()).collect();
    let warning = hub.wait_for_line(&["connection limit reached", "\"max_connections\":4"]);
    assert!(warning.contains("WARN"), "{warning}");

    // A request behind them is served once the idle ones are closed.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
        client.get(format!("{}/healthz", hub.url)).send().await.unwrap().status()
    });
    assert_eq!(status, StatusCode::OK);

    // Each idle connection was closed by the hub: reading gives the end of the stream.
    for mut stream in idle {
        stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let mut buffer = [0u8; 64];
        assert_eq!(stream.read(&mut buffer).unwrap(), 0, "the hub closed the idle connection");
    }
    // A kept-alive connection that goes quiet after its answer is closed too.
    let mut kept = TcpStream::connect(address).unwrap();
    std::io::Write::write_all(&mut kept, b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n").unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut answer = Vec::new();
    let read = kept.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(read.is_ok() && answer.starts_with("HTTP/1.1 200"), "{read:?}: {answer}");
}

/// What the clients of the SIGTERM test were told.
#[derive(Default)]
struct Outcomes {
    created: BTreeSet<String>,
    failed: usize,
}

/// Creates users through the admin API until the hub stops answering.
async fn create_users(url: String, token: String, client_number: usize, outcomes: Arc<Mutex<Outcomes>>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut failures_in_a_row = 0;
    for n in 0.. {
        let name = format!("load-{client_number}-{n:05}");
        let answer = crate::admin_api::create_user(&client, &url, &token, &name).await;
        let mut outcomes = outcomes.lock().unwrap();
        match answer {
            Ok(r) if r.status() == StatusCode::CREATED => {
                outcomes.created.insert(name);
                failures_in_a_row = 0;
            }
            _ => {
                outcomes.failed += 1;
                failures_in_a_row += 1;
            }
        }
        drop(outcomes);
        if failures_in_a_row >= 3 {
            return;
        }
    }
}

#[test]
fn sigterm_under_load_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, hub_toml("")).unwrap();
    let data = dir.path().join("data");
    let listen = free_address().to_string();
    let mut hub = serve("hub", &config, &data, &["--listen", &listen, "--shutdown-grace-seconds", "120"]);
    let token = std::fs::read_to_string(data.join("admin-token")).unwrap().trim().to_string();
    let outcomes: Arc<Mutex<Outcomes>> = Arc::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        let clients: Vec<_> =
            (0..6).map(|n| tokio::spawn(create_users(hub.url.clone(), token.clone(), n, outcomes.clone()))).collect();
        // SIGTERM once the load is well under way.
        while outcomes.lock().unwrap().created.len() < 60 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let status = tokio::task::spawn_blocking(move || {
            let status = hub.terminate();
            (status, hub.log())
        })
        .await
        .unwrap();
        for client in clients {
            client.await.unwrap();
        }
        status
    });
    let (status, log) = status;
    assert!(status.success(), "crossfed serve stopped with {status}: {log}");
    assert!(!log.contains("still busy"), "requests under way were cut off: {log}");
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    eprintln!(
        "SIGTERM under load: {} users acknowledged, {} requests unanswered",
        outcomes.created.len(),
        outcomes.failed
    );

    // Restarted on the same data: every acknowledged user is there, with its audit record.
    let hub = serve("hub-again", &config, &data, &["--listen", &listen]);
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let get = |path: String| {
            let request = client.get(format!("{}{path}", hub.url)).bearer_auth(&token);
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{path}");
                response.json::<serde_json::Value>().await.unwrap()
            }
        };
        let names = |listing: &serde_json::Value, field: &str| -> BTreeSet<String> {
            listing["items"].as_array().unwrap().iter().filter_map(|i| i[field].as_str().map(str::to_string)).collect()
        };
        let users = names(&get("/api/v1/users?limit=1000".to_string()).await, "user_name");
        assert!(users.len() < 1000, "one page holds every user");
        let lost: Vec<_> = outcomes.created.difference(&users).collect();
        assert!(lost.is_empty(), "acknowledged users lost: {lost:?}");
        let audited = names(&get("/api/v1/audit?action=user.create&limit=10000".to_string()).await, "target");
        let unaudited: Vec<_> = outcomes.created.difference(&audited).collect();
        assert!(unaudited.is_empty(), "acknowledged users without their audit record: {unaudited:?}");
    });
}

/// A self-signed certificate for 127.0.0.1 and localhost, written to `dir` as `tls.crt` and
/// `tls.key` (private); returns the certificate's DER and Chromium's hash of its public key.
fn write_certificate(dir: &Path) -> (Vec<u8>, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    // Written beside and renamed into place, as certificate tools do.
    let (crt, tmp_crt) = (dir.join("tls.crt"), dir.join("tls.crt.new"));
    let (pem_key, tmp_key) = (dir.join("tls.key"), dir.join("tls.key.new"));
    std::fs::write(&tmp_key, key.serialize_pem()).unwrap();
    std::fs::set_permissions(&tmp_key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::write(&tmp_crt, cert.pem()).unwrap();
    std::fs::rename(&tmp_key, &pem_key).unwrap();
    std::fs::rename(&tmp_crt, &crt).unwrap();
    let spki = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &key.subject_public_key_info());
    (cert.der().to_vec(), base64::engine::general_purpose::STANDARD.encode(spki.as_ref()))
}

/// The certificate the listener at `url` serves now, as a client trusting `trusted` sees it.
async fn served_certificate(url: &str, trusted: &[&[u8]]) -> Option<Vec<u8>> {
    let certs = trusted.iter().map(|der| reqwest::Certificate::from_der(der).unwrap());
    let client = reqwest::Client::builder().tls_certs_only(certs).tls_info(true).build().unwrap();
    let response = client.get(format!("{url}/healthz")).send().await.ok()?;
    let info = response.extensions().get::<reqwest::tls::TlsInfo>()?;
    info.peer_certificate().map(<[u8]>::to_vec)
}

#[test]
fn native_tls_signs_in_in_chromium_with_hsts_and_secure_cookies_and_reloads_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let (first, spki) = write_certificate(&tls);
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, hub_toml("")).unwrap();
    let (crt, key) = (tls.join("tls.crt"), tls.join("tls.key"));
    let args = ["--listen", "127.0.0.1:0", "--tls-cert", crt.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let hub = serve("hub", &config, &dir.path().join("data"), &args);
    assert!(hub.url.starts_with("https://127.0.0.1:"), "{}", hub.url);

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tls-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(crossfed_testkit::peer_script("tls_browser.mjs"))
        .args([hub.url.as_str(), &spki, "dora", PASSWORD])
        .arg(&shots)
        .env("CROSSFED_NODE_PEERS", crossfed_testkit::node_peers_dir())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg-config"))
        .env("XDG_CACHE_HOME", dir.path().join("xdg-cache"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tls_browser.mjs failed: {report}\n{}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(seen["url"], format!("{}/portal", hub.url), "{seen}");
    assert_eq!((seen["status"].as_u64(), seen["listed"].as_bool()), (Some(200), Some(true)), "{seen}");
    assert_eq!(seen["hsts"], "max-age=31536000", "{seen}");
    let cookies = seen["cookies"].as_array().unwrap();
    assert!(cookies.iter().any(|c| c["name"].as_str().unwrap().starts_with("__Host-crossfed-session-")), "{seen}");
    assert!(cookies.iter().all(|c| c["secure"] == true && c["httpOnly"] == true), "{seen}");

    // New files, same paths: the new certificate is served without a restart.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    assert_eq!(runtime.block_on(served_certificate(&hub.url, &[&first])), Some(first.clone()));
    let (second, _) = write_certificate(&tls);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let served = runtime.block_on(served_certificate(&hub.url, &[&first, &second]));
        if served.as_deref() == Some(second.as_slice()) {
            break;
        }
        assert!(Instant::now() < deadline, "the new certificate is not served: {}", hub.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    hub.wait_for_line(&["TLS certificate reloaded from"]);
    // A broken key is not taken: the last good certificate goes on being served.
    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n").unwrap();
    hub.wait_for_line(&["WARN", "the previous one is still served"]);
    assert_eq!(runtime.block_on(served_certificate(&hub.url, &[&first, &second])), Some(second));
}

/// Debian's nginx, run from a folder of its own, stopped when dropped.
struct Nginx {
    child: Child,
    prefix: PathBuf,
}

impl Drop for Nginx {
    /// SIGTERM: the master stops its workers too (SIGKILL would leave them running).
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

impl Nginx {
    /// nginx on `listen` terminating TLS with `tls`'s pair, balancing over `upstreams`.
    fn start(prefix: &Path, listen: SocketAddr, tls: &Path, upstreams: &[SocketAddr]) -> Nginx {
        std::fs::create_dir_all(prefix.join("logs")).unwrap();
        let servers: String = upstreams.iter().map(|a| format!("        server {a};\n")).collect();
        let conf = format!(
            r#"worker_processes 1;
error_log {prefix}/logs/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/logs/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream crossfed {{
{servers}        keepalive 8;
        # Below the hub's --header-timeout-seconds: nginx closes an idle connection first.
        keepalive_timeout 5s;
    }}
    server {{
        listen {listen} ssl;
        ssl_certificate {tls}/tls.crt;
        ssl_certificate_key {tls}/tls.key;
        location / {{
            proxy_pass http://crossfed;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"#,
            prefix = prefix.display(),
            tls = tls.display(),
        );
        std::fs::write(prefix.join("nginx.conf"), conf).unwrap();
        let child = Command::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(prefix.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(prefix.join("logs/stderr.log")).unwrap())
            .spawn()
            .expect("nginx is installed by scripts/install-peers");
        let nginx = Nginx { child, prefix: prefix.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(listen).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen: {}", nginx.errors());
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }

    fn errors(&self) -> String {
        std::fs::read_to_string(self.prefix.join("logs/stderr.log")).unwrap_or_default()
            + &std::fs::read_to_string(self.prefix.join("logs/error.log")).unwrap_or_default()
    }
}

/// A client trusting `cert` only, its requests leaving from `from` (a loopback address of its
/// own, so the hub's log tells it from nginx), with cookies and redirects as a browser.
fn client_from(from: &str, cert: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .tls_certs_only([reqwest::Certificate::from_der(cert).unwrap()])
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The log lines of the request a response answered, from whichever instance served it.
fn logged(response_id: &str, hubs: &[&Served]) -> Vec<(usize, serde_json::Value)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<_> = hubs
            .iter()
            .enumerate()
            .flat_map(|(n, hub)| lines_of(&hub.log(), response_id).into_iter().map(move |l| (n, l)))
            .collect();
        if !found.is_empty() {
            return found;
        }
        assert!(Instant::now() < deadline, "no log line for request {response_id}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn request_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"].to_str().unwrap().to_string()
}

#[test]
fn nginx_terminates_tls_in_front_of_two_hubs() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = crossfed_testkit::TestDatabase::create("nginx");
    let tls = dir.path().join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let (cert, _) = write_certificate(&tls);
    let (front_address, a, b) = (free_address(), free_address(), free_address());
    assert!(a != b && a != front_address && b != front_address, "three free addresses");
    let front = format!("https://{front_address}");

    // Both instances: nginx's URL as public URL, nginx (on 127.0.0.1) as the trusted proxy.
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, hub_toml(&format!("public_url = \"{front}\"\ntrusted_proxies = [\"127.0.0.1/32\"]")))
        .unwrap();
    let (data_a, data_b) = (dir.path().join("hub-a"), dir.path().join("hub-b"));
    let db = ["--database-url", database.0.as_str()];
    let hub_a = serve("hub-a", &config, &data_a, &[&["--listen", &a.to_string()][..], &db].concat());
    assert_eq!(hub_a.url, front, "the hub announces its public URL");
    std::fs::create_dir_all(&data_b).unwrap();
    for file in ["signing.key", "signing.crt", "admin-token"] {
        std::fs::copy(data_a.join(file), data_b.join(file)).unwrap();
    }
    let hub_b = serve("hub-b", &config, &data_b, &[&["--listen", &b.to_string()][..], &db].concat());
    let nginx = Nginx::start(&dir.path().join("nginx"), front_address, &tls, &[a, b]);

    let browser = client_from("127.0.0.3", &cert);
    let (ids, launch_page) = runtime.block_on(async {
        let mut ids = Vec::new();
        // The sign-in form, a client-written X-Forwarded-For riding along.
        let form = browser.get(format!("{front}/login")).header("X-Forwarded-For", "203.0.113.77").send().await;
        let form = form.unwrap_or_else(|e| panic!("through nginx: {e}: {}", nginx.errors()));
        assert_eq!(form.status(), StatusCode::OK);
        assert_eq!(form.headers()["strict-transport-security"], "max-age=31536000");
        ids.push(request_id(&form));
        let form = form.text().await.unwrap();
        let signed_in = browser
            .post(format!("{front}/login"))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[
                ("nonce", field(&form, "nonce")),
                ("next", "/portal"),
                ("user_name", "dora"),
                ("password", PASSWORD),
                ("totp", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.url().as_str(), format!("{front}/portal"));
        ids.push(request_id(&signed_in));
        // Several portal views and launches: round robin sends them to both instances.
        let mut launch_page = String::new();
        for _ in 0..3 {
            let portal = browser.get(format!("{front}/portal")).send().await.unwrap();
            assert_eq!(portal.status(), StatusCode::OK);
            ids.push(request_id(&portal));
            let portal_page = portal.text().await.unwrap();
            assert!(portal_page.contains("id=\"app-wiki\""), "{portal_page}");
            let launched = browser
                .post(format!("{front}/apps/wiki/launch"))
                .header("Sec-Fetch-Site", "same-origin")
                .form(&[("csrf", field(&portal_page, "csrf"))])
                .send()
                .await
                .unwrap();
            assert_eq!(launched.status(), StatusCode::OK);
            ids.push(request_id(&launched));
            launch_page = launched.text().await.unwrap();
        }
        (ids, launch_page)
    });
    assert!(launch_page.contains("action=\"https://wiki.example.com/saml/acs\""), "{launch_page}");
    let xml = base64::engine::general_purpose::STANDARD.decode(field(&launch_page, "SAMLResponse")).unwrap();
    let xml = String::from_utf8(xml).unwrap();
    assert!(xml.contains(&format!("{front}/saml/apps/wiki")), "the issuer is the public URL: {xml}");

    // Every request was logged with the address nginx forwarded (the client's, not nginx's, nor
    // the one the client wrote itself), and both instances answered some.
    let mut answered_by = BTreeSet::new();
    for id in &ids {
        for (instance, line) in logged(id, &[&hub_a, &hub_b]) {
            answered_by.insert(instance);
            assert_eq!(line["client"], "127.0.0.3", "{line}");
        }
    }
    assert_eq!(answered_by.len(), 2, "both instances served the sign-in and launches");

    // A peer that is not a trusted proxy: its X-Forwarded-For is ignored.
    let direct = runtime.block_on(async {
        let client = reqwest::Client::builder().local_address("127.0.0.2".parse::<IpAddr>().unwrap()).build().unwrap();
        let answer = client.get(format!("http://{a}/healthz")).header("X-Forwarded-For", "198.51.100.99").send().await;
        request_id(&answer.unwrap())
    });
    let lines = logged(&direct, &[&hub_a]);
    assert!(lines.iter().all(|(_, l)| l["client"] == "127.0.0.2"), "{lines:?}");

    // A refusal through nginx is audited from the client's address, a forged one ignored.
    let admin = std::fs::read_to_string(data_a.join("admin-token")).unwrap().trim().to_string();
    let refusals = runtime.block_on(async {
        let refused = browser
            .get(format!("{front}/api/v1/users"))
            .bearer_auth("not-a-token")
            .header("X-Forwarded-For", "203.0.113.77")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let audit = browser
            .get(format!("{front}/api/v1/audit?action=refused.unauthorized"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(audit.status(), StatusCode::OK);
        audit.json::<serde_json::Value>().await.unwrap()["items"].as_array().unwrap().clone()
    });
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0]["source"], "127.0.0.3", "{refusals:?}");
    for hub in [&hub_a, &hub_b] {
        let log = hub.log();
        assert!(!log.contains("198.51.100.99") && !log.contains("203.0.113.77"), "a forged address was logged: {log}");
    }
    drop((nginx, hub_a, hub_b, database));
}
