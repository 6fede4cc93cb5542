//! `--scenario proxy`: the hub as a SAML proxy beside SATOSA, measured one after the other in
//! the same run, same users, same duration and concurrency.
//!
//! The parties, all on 127.0.0.1:
//! - corp, the upstream IdP: a crossfed hub in directory mode, in this process, where each
//!   virtual user signs in once before the load, so no password is hashed during it. corp has
//!   two applications, the crossfed hub's SP and SATOSA's backend SP, each imported from the
//!   SP's own metadata; it verifies the signed AuthnRequest of either and answers with a
//!   Response whose assertion it signs (RSA-SHA256).
//! - the proxies, each in its own processes as one would run it: the crossfed hub under
//!   `crossfed serve` (corp its identity source, the bench's SP a custom application imported
//!   from its metadata), and SATOSA under gunicorn (a SAML2 frontend toward the SP, a SAML2
//!   backend toward corp; see `satosa`).
//! - the SP, played by the load generator in this process: it invents an entity ID and an ACS
//!   URL on loopback that nobody listens on, and reads the Response from the auto-submitting
//!   form instead. It validates every Response with crossfed-saml's SP validation against the
//!   proxy's IdP metadata: the assertion's signature, issuer, audience, recipient, times,
//!   InResponseTo and replay, then the NameID and both attributes.
//!
//! One login, the same code for both proxies (only the URLs and metadata differ): the SP's
//! unsigned AuthnRequest (HTTP-Redirect) to the proxy → the proxy's signed AuthnRequest
//! (HTTP-Redirect, query signature) to corp → corp verifies it and posts a Response with a
//! signed assertion to the proxy's ACS → the proxy verifies it and posts its own Response, with
//! a signed assertion, to the SP → the SP verifies and validates it. Each login drops the
//! proxy's cookies first: the hub would otherwise answer from its own session without asking
//! corp (SATOSA keeps no session), so every login is the whole round trip through corp.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use crossfed_hub::config::HubConfig;
use crossfed_saml::{
    AuthnRequestSpec, EntityDescriptor, IndexedEndpoint, MemoryReplayCache, MessageKind, SignatureRequirement,
    SpPolicy, Timestamp, build_authn_request, decode_post, ns, redirect_query, validate_response,
};
use crossfed_store::Store;
use crossfed_xmldsig::Certificate;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::args::BenchArgs;
use crate::child::{Server, free_port};
use crate::client::{PASSWORD, sign_in};
use crate::measure::{Measured, drive, peak_rss_mb, percentile};
use crate::print::say;
use crate::reference::RsaReference;

/// The e-mail attribute corp sends and both proxies pass on (urn:oid form, as the hub's
/// mappings and pysaml2 name it on the wire).
const MAIL: &str = "urn:oid:0.9.2342.19200300.100.1.3";
const GIVEN_NAME: &str = "urn:oid:2.5.4.42";
/// The SP's entity ID and ACS URL: port 9 (discard) on loopback, which nothing is posted to.
const SP_ENTITY_ID: &str = "http://127.0.0.1:9/bench-sp";
const SP_ACS_URL: &str = "http://127.0.0.1:9/bench-sp/acs";
/// Logins per virtual user and proxy before measuring, untimed.
const WARM_UP: usize = 2;

/// A browser's cookies, kept per host and port (paths and expiry dates are not needed here),
/// with the proxy's dropped before each login.
#[derive(Default)]
struct Jar {
    cookies: Mutex<HashMap<String, Vec<(String, String)>>>,
}

fn origin(url: &reqwest::Url) -> String {
    format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0))
}

impl Jar {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Vec<(String, String)>>) -> T) -> T {
        match self.cookies.lock() {
            Ok(mut cookies) => f(&mut cookies),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    fn forget(&self, origin: &str) {
        self.with(|cookies| cookies.remove(origin));
    }
}

impl reqwest::cookie::CookieStore for Jar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &reqwest::Url) {
        let origin = origin(url);
        self.with(|cookies| {
            let jar = cookies.entry(origin).or_default();
            for header in headers {
                let Ok(text) = header.to_str() else { continue };
                let mut parts = text.split(';');
                let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { continue };
                let (name, value) = (name.trim().to_string(), value.trim().to_string());
                let expired = value.is_empty()
                    || parts.any(|p| p.trim().eq_ignore_ascii_case("max-age=0") || p.trim().starts_with("Max-Age=-"));
                jar.retain(|(n, _)| *n != name);
                if !expired {
                    jar.push((name, value));
                }
            }
        });
    }

    fn cookies(&self, url: &reqwest::Url) -> Option<HeaderValue> {
        let line = self.with(|cookies| {
            cookies.get(&origin(url)).map(|jar| jar.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>())
        })?;
        if line.is_empty() {
            return None;
        }
        HeaderValue::from_str(&line.join("; ")).ok()
    }
}

/// A virtual user: a browser signed in at corp.
struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
    email: String,
    given_name: String,
}

/// A proxy as the SP knows it, from its IdP metadata.
struct Proxy {
    name: &'static str,
    sso_url: String,
    /// Host and port of the proxy, whose cookies each login starts without.
    origin: String,
    entity_id: String,
    certificates: Vec<Certificate>,
    replay: MemoryReplayCache,
    first_error: Mutex<Option<String>>,
}

impl Proxy {
    fn from_metadata(name: &'static str, xml: &[u8]) -> Result<Proxy> {
        let entity = EntityDescriptor::parse(xml).map_err(|e| anyhow!("{name}'s IdP metadata: {e}"))?;
        let idp = entity.require_idp().map_err(|e| anyhow!("{name}'s IdP metadata: {e}"))?;
        let sso_url = idp
            .sso_location(ns::BINDING_HTTP_REDIRECT)
            .with_context(|| format!("{name}'s IdP metadata has no HTTP-Redirect SingleSignOnService"))?
            .to_string();
        let origin = origin(&reqwest::Url::parse(&sso_url).with_context(|| format!("{name}'s SSO URL"))?);
        Ok(Proxy {
            name,
            sso_url,
            origin,
            entity_id: entity.entity_id.clone(),
            certificates: idp.signing_certificates.clone(),
            replay: MemoryReplayCache::default(),
            first_error: Mutex::new(None),
        })
    }

    fn note_error(&self, error: String) {
        if let Ok(mut first) = self.first_error.lock()
            && first.is_none()
        {
            *first = Some(error);
        }
    }

    fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|e| e.clone())
    }
}

/// The value of attribute `name` in the text of one tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    ['"', '\''].into_iter().find_map(|quote| {
        let marker = format!(" {name}={quote}");
        let rest = tag.get(tag.find(&marker)? + marker.len()..)?;
        Some(crossfed_saml::html_unescape(rest.get(..rest.find(quote)?)?))
    })
}

/// The auto-submitting form of the SAML POST binding, as a browser would submit it.
struct PostForm {
    action: String,
    fields: Vec<(String, String)>,
}

impl PostForm {
    /// The first form of `page` and its named inputs, whoever wrote it (the hub, pysaml2).
    fn parse(page: &str) -> Option<PostForm> {
        let form = page.get(page.find("<form")?..)?;
        let tag_end = form.find('>')?;
        let action = attribute(form.get(..tag_end)?, "action")?;
        let mut body = form.get(tag_end..form.find("</form>").unwrap_or(form.len()))?;
        let mut fields = Vec::new();
        while let Some(at) = body.find("<input") {
            let input = body.get(at..)?;
            let end = input.find('>')?;
            let tag = input.get(..end)?;
            if let (Some(name), Some(value)) = (attribute(tag, "name"), attribute(tag, "value")) {
                fields.push((name, value));
            }
            body = input.get(end..)?;
        }
        Some(PostForm { action, fields })
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The page at the end of `request`'s redirects, or what went wrong, with the page's text.
async fn page(request: reqwest::RequestBuilder, step: &str) -> Result<String, String> {
    let response = request.send().await.map_err(|e| format!("{step}: {e}"))?;
    let (status, url) = (response.status(), response.url().to_string());
    let body = response.text().await.map_err(|e| format!("{step}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{step}: HTTP {status} at {url}: {}", text_of(&body)));
    }
    Ok(body)
}

/// The visible text of an error page, shortened.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ").chars().take(300).collect()
}

/// One login through `proxy`; what the SP accepted, or why it failed.
async fn login(browser: &Browser, proxy: &Proxy) -> Result<crossfed_saml::Accepted, String> {
    browser.jar.forget(&proxy.origin);
    let spec = AuthnRequestSpec {
        issuer: SP_ENTITY_ID.to_string(),
        destination: proxy.sso_url.clone(),
        acs_url: SP_ACS_URL.to_string(),
        protocol_binding: ns::BINDING_HTTP_POST.to_string(),
        name_id_format: None,
        force_authn: false,
    };
    let (request_id, xml) = build_authn_request(&spec, Timestamp::from(crossfed_clock::Clock::system().now()), None)
        .map_err(|e| e.to_string())?;
    let relay_state = crossfed_random::hex::<16>();
    let query = redirect_query(MessageKind::Request, &xml, Some(&relay_state), None).map_err(|e| e.to_string())?;
    let separator = if proxy.sso_url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}{query}", proxy.sso_url);
    // SP → proxy → corp, answered with corp's Response form for the proxy's ACS.
    let corp_page = page(browser.client.get(url), "AuthnRequest to the proxy").await?;
    let corp_form = PostForm::parse(&corp_page).ok_or_else(|| format!("no form from corp: {}", text_of(&corp_page)))?;
    // corp → proxy's ACS, answered with the proxy's Response form for the SP.
    let sp_page =
        page(browser.client.post(&corp_form.action).form(&corp_form.fields), "corp's Response to the proxy").await?;
    let sp_form = PostForm::parse(&sp_page).ok_or_else(|| format!("no form for the SP: {}", text_of(&sp_page)))?;
    if sp_form.action != SP_ACS_URL {
        return Err(format!("the proxy posts to {:?}, not the SP's ACS {SP_ACS_URL:?}", sp_form.action));
    }
    if sp_form.value("RelayState") != Some(relay_state.as_str()) {
        return Err(format!("RelayState {:?} came back as {:?}", relay_state, sp_form.value("RelayState")));
    }
    let response = sp_form.value("SAMLResponse").ok_or("the form for the SP has no SAMLResponse")?;
    // The SP's validation, as any crossfed-based SP does it.
    let xml = decode_post(response).map_err(|e| e.to_string())?;
    let mut policy = SpPolicy::new(SP_ENTITY_ID, SP_ACS_URL, &proxy.entity_id, &proxy.certificates);
    policy.signatures = SignatureRequirement::AssertionSigned;
    let accepted = validate_response(
        &xml,
        &policy,
        Some(&request_id),
        Timestamp::from(crossfed_clock::Clock::system().now()),
        &proxy.replay,
    )
    .map_err(|e| format!("the SP refused the Response: {e}"))?;
    if accepted.name_id.value != browser.email {
        return Err(format!("NameID {:?}, expected {:?}", accepted.name_id.value, browser.email));
    }
    if accepted.attribute(MAIL) != Some(std::slice::from_ref(&browser.email)) {
        return Err(format!("attribute {MAIL} is {:?}, expected [{:?}]", accepted.attribute(MAIL), browser.email));
    }
    if accepted.attribute(GIVEN_NAME) != Some(std::slice::from_ref(&browser.given_name)) {
        let found = accepted.attribute(GIVEN_NAME);
        return Err(format!("attribute {GIVEN_NAME} is {found:?}, expected [{:?}]", browser.given_name));
    }
    Ok(accepted)
}

/// The users' names, e-mail addresses and given names.
fn users(count: usize) -> Vec<(String, String, String)> {
    (0..count).map(|i| (format!("bench-{i}"), format!("bench-{i}@example.com"), format!("Bench{i}"))).collect()
}

/// The attribute mappings of every application here: the e-mail and the given name.
const ATTRIBUTES: &str = r#"name_id = "${user:email}"
[[applications.custom.attributes]]
name = "urn:oid:0.9.2342.19200300.100.1.3"
value = "${user:email}"
[[applications.custom.attributes]]
name = "urn:oid:2.5.4.42"
value = "${user:givenName}"
"#;

/// corp: the users, and the two proxies' SPs from their metadata files.
fn corp_config(count: usize, hub_sp: &std::path::Path, satosa_sp: &std::path::Path) -> Result<HubConfig> {
    let mut text = String::new();
    for (name, email, given_name) in users(count) {
        text.push_str(&format!(
            "[[users]]\nuser_name = \"{name}\"\nemail = \"{email}\"\ngiven_name = \"{given_name}\"\npassword = \"{PASSWORD}\"\n\n"
        ));
    }
    let assigned: Vec<String> = users(count).into_iter().map(|(name, ..)| format!("\"{name}\"")).collect();
    for (id, name) in [("hub", "crossfed hub"), ("satosa", "SATOSA")] {
        text.push_str(&format!(
            "[[applications]]\nid = \"{id}\"\nname = \"{name}\"\nassigned_users = [{}]\n[applications.custom]\n{ATTRIBUTES}\n",
            assigned.join(", ")
        ));
    }
    let mut config: HubConfig = toml::from_str(&text).context("corp's configuration")?;
    for app in &mut config.applications {
        if let Some(custom) = app.custom.as_mut() {
            custom.metadata_file = Some(if app.id == "hub" { hub_sp } else { satosa_sp }.to_path_buf());
        }
    }
    Ok(config)
}

/// The crossfed hub as the proxy, as `crossfed serve` reads it: corp is its identity source
/// (users created at their first login), the SP a custom application imported from its
/// metadata file, assigned to every user.
fn hub_config(count: usize, corp_url: &str, sp_metadata: &std::path::Path) -> Result<String> {
    let assigned: Vec<String> = users(count).into_iter().map(|(_, email, _)| format!("\"{email}\"")).collect();
    let file = toml::Value::String(sp_metadata.display().to_string());
    let text = format!(
        "[identity_source]\nmetadata_url = \"{corp_url}/saml/apps/hub/metadata\"\nrefresh_minutes = 0\n\n\
         [[applications]]\nid = \"bench-sp\"\nname = \"Bench SP\"\nassigned_users = [{}]\n[applications.custom]\n\
         metadata_file = {file}\n{ATTRIBUTES}",
        assigned.join(", ")
    );
    toml::from_str::<HubConfig>(&text).context("the hub's configuration")?;
    Ok(text)
}

/// The SP's metadata, which both proxies import: its ACS, the e-mail NameID format, no key (its
/// AuthnRequests are unsigned).
fn sp_metadata() -> String {
    let mut entity =
        EntityDescriptor::sp(SP_ENTITY_ID, Vec::new(), vec![IndexedEndpoint::post(SP_ACS_URL, 0).as_default()]);
    if let Some(sp) = entity.sp.as_mut() {
        sp.name_id_formats = vec![ns::NAMEID_EMAIL.to_string()];
        sp.want_assertions_signed = true;
    }
    entity.to_xml()
}

async fn open_store(dir: &std::path::Path, file: &str) -> Result<Store> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let url = format!("sqlite://{}", dir.join(file).display());
    Store::connect(&url).await.with_context(|| format!("opening {url}"))
}

async fn fetch(url: &str) -> Result<Vec<u8>> {
    let response = reqwest::get(url).await.with_context(|| format!("fetching {url}"))?;
    if !response.status().is_success() {
        bail!("fetching {url}: HTTP {}", response.status());
    }
    Ok(response.bytes().await?.to_vec())
}

/// Signs `user` in at corp with a fresh browser.
async fn sign_in_at_corp(corp_url: &str, (user, email, given_name): (String, String, String)) -> Result<Browser> {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder().cookie_provider(jar.clone()).timeout(Duration::from_secs(60)).build()?;
    let signed_in = sign_in(&client, corp_url, &user).await?;
    if !signed_in.status().is_success() {
        bail!("{user} could not sign in at corp: {}", signed_in.status());
    }
    Ok(Browser { client, jar, email, given_name })
}

/// Which parts of the Response a proxy signed, from what the SP accepted.
fn signed_parts(accepted: &crossfed_saml::Accepted) -> &'static str {
    match (accepted.response_signed, accepted.assertion_signed) {
        (true, true) => "response and assertion",
        (true, false) => "response",
        (false, true) => "assertion",
        (false, false) => "nothing",
    }
}

/// Untimed logins through each proxy, stopping at the first failure with its reason; what the
/// proxies signed.
async fn warm_up(browsers: &[Arc<Browser>], proxies: [&Proxy; 2]) -> Result<[&'static str; 2]> {
    let mut signed = ["", ""];
    for (slot, proxy) in signed.iter_mut().zip(proxies) {
        for browser in browsers {
            for _ in 0..WARM_UP {
                let accepted =
                    login(browser, proxy).await.map_err(|e| anyhow!("a login through {} failed: {e}", proxy.name))?;
                *slot = signed_parts(&accepted);
            }
        }
    }
    Ok(signed)
}

/// Measures logins through `proxy` for the run's duration, with the CPU seconds its server
/// used meanwhile.
async fn measure(
    args: &BenchArgs,
    browsers: &[Arc<Browser>],
    proxy: Arc<Proxy>,
    server: &Server,
) -> Result<(Measured, Option<f64>)> {
    let before = server.cpu_seconds();
    let measured = drive(browsers.to_vec(), args.duration, move |browser: Arc<Arc<Browser>>| {
        let proxy = proxy.clone();
        async move {
            match login(&browser, &proxy).await {
                Ok(_) => true,
                Err(e) => {
                    proxy.note_error(e);
                    false
                }
            }
        }
    })
    .await?;
    let after = server.cpu_seconds();
    Ok((measured, before.zip(after).map(|(b, a)| a - b)))
}

/// One proxy's figures.
struct Side<'a> {
    measured: &'a Measured,
    /// CPU seconds per login of the proxy's processes.
    proxy_cpu: Option<f64>,
    /// CPU seconds per login of this process: corp and the SP.
    others_cpu: Option<f64>,
    /// Peak resident memory of the proxy's processes.
    rss_mb: Option<f64>,
    signed: &'a str,
    first_error: Option<String>,
}

impl<'a> Side<'a> {
    /// A side's figures from its run, the proxy's CPU seconds and its peak RSS.
    fn of(
        measured: &'a Measured,
        proxy_cpu: Option<f64>,
        rss_mb: Option<f64>,
        signed: &'a str,
        first_error: Option<String>,
    ) -> Side<'a> {
        Side {
            measured,
            proxy_cpu: per_login(proxy_cpu, measured),
            others_cpu: per_login(measured.cpu, measured),
            rss_mb,
            signed,
            first_error,
        }
    }

    fn per_second(&self) -> f64 {
        self.measured.latencies.len() as f64 / self.measured.elapsed
    }

    fn percentile(&self, p: f64) -> f64 {
        percentile(&self.measured.latencies, p)
    }

    fn all_cpu(&self) -> Option<f64> {
        self.proxy_cpu.zip(self.others_cpu).map(|(a, b)| a + b)
    }

    fn json(&self) -> Value {
        json!({
            "duration_s": self.measured.elapsed,
            "logins": self.measured.latencies.len(),
            "logins_per_s": self.per_second(),
            "p50_ms": self.percentile(0.50),
            "p95_ms": self.percentile(0.95),
            "p99_ms": self.percentile(0.99),
            "errors": self.measured.errors,
            "first_error": self.first_error,
            "peak_rss_mb": self.rss_mb,
            "cpu_seconds_per_login": self.all_cpu(),
            "proxy_cpu_seconds_per_login": self.proxy_cpu,
            "corp_and_sp_cpu_seconds_per_login": self.others_cpu,
            "proxy_signs": self.signed,
        })
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn per_login(cpu: Option<f64>, measured: &Measured) -> Option<f64> {
    let logins = measured.latencies.len() as f64;
    cpu.filter(|_| logins > 0.0).map(|c| c / logins)
}

struct Report<'a> {
    crossfed: Side<'a>,
    satosa: Side<'a>,
    satosa_logged_errors: usize,
    versions: &'a (Vec<(String, String)>, Option<String>),
}

fn print_report(args: &BenchArgs, report: &Report<'_>, reference: &RsaReference) -> ExitCode {
    let Report { crossfed, satosa, .. } = report;
    let cores = reference.cores();
    let (signs, verifies) = args.scenario.rsa_ops();
    let bound = reference.bound((signs, verifies));
    let throughput = ratio(crossfed.per_second(), satosa.per_second());
    let p50 = ratio(satosa.percentile(0.50), crossfed.percentile(0.50));
    let p99 = ratio(satosa.percentile(0.99), crossfed.percentile(0.99));
    let version = |name: &str| report.versions.0.iter().find(|(p, _)| p == name).map(|(_, v)| v.clone());
    if args.json {
        let mut figures = crossfed.json();
        let mut satosa_json = satosa.json();
        if let Some(object) = satosa_json.as_object_mut() {
            object.insert("satosa_version".into(), json!(version("SATOSA")));
            object.insert("pysaml2_version".into(), json!(version("pysaml2")));
            object.insert("gunicorn_version".into(), json!(version("gunicorn")));
            object.insert("gunicorn_workers".into(), json!(args.satosa_workers));
            object.insert("xmlsec1".into(), json!(report.versions.1));
            object.insert("logged_errors".into(), json!(report.satosa_logged_errors));
        }
        if let Some(object) = figures.as_object_mut() {
            let fields = [
                ("scenario", json!("proxy")),
                ("concurrency", json!(args.concurrency)),
                ("bench_process_peak_rss_mb", json!(peak_rss_mb())),
                ("rsa_ops_per_login", json!(signs + verifies)),
                ("rsa_signs_per_login", json!(signs)),
                ("rsa_verifies_per_login", json!(verifies)),
                ("ratio_to_rsa_bound", json!(crossfed.per_second() / bound)),
                ("satosa", satosa_json),
                (
                    "ratios",
                    json!({
                        "throughput_crossfed_over_satosa": throughput,
                        "p50_satosa_over_crossfed": p50,
                        "p99_satosa_over_crossfed": p99,
                    }),
                ),
            ];
            for (key, value) in fields.into_iter().chain(reference.json()) {
                object.insert(key.to_string(), value);
            }
        }
        say(&figures.to_string());
    } else {
        let ms = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{:.2}", s * 1000.0));
        let row = |label: &str, a: String, b: String| say(&format!("  {label:<30}{a:>12}{b:>12}"));
        say(&format!(
            "scenario proxy: SP → proxy → corp → proxy → SP, {} virtual users, {:.1} s per proxy, {cores} cores",
            args.concurrency, crossfed.measured.elapsed
        ));
        row("", "crossfed".into(), "SATOSA".into());
        row("logins/s", format!("{:.0}", crossfed.per_second()), format!("{:.0}", satosa.per_second()));
        for (label, p) in [("latency p50 ms", 0.50), ("latency p95 ms", 0.95), ("latency p99 ms", 0.99)] {
            row(label, format!("{:.2}", crossfed.percentile(p)), format!("{:.2}", satosa.percentile(p)));
        }
        row("errors", crossfed.measured.errors.to_string(), satosa.measured.errors.to_string());
        row("CPU ms per login: proxy", ms(crossfed.proxy_cpu), ms(satosa.proxy_cpu));
        row("CPU ms per login: corp + SP", ms(crossfed.others_cpu), ms(satosa.others_cpu));
        let rss = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.0}"));
        row("proxy peak RSS MiB", rss(crossfed.rss_mb), rss(satosa.rss_mb));
        row("proxy signs", crossfed.signed.into(), satosa.signed.into());
        say(&format!(
            "  crossfed/SATOSA throughput {throughput:.2}×; SATOSA/crossfed latency p50 {p50:.2}×, p99 {p99:.2}×"
        ));
        say(&format!("  {}", reference.describe()));
        say(&format!(
            "  {signs} signs + {verifies} verifies per login: bound {bound:.0}/s on {cores} cores; crossfed's ratio to it {:.2}",
            crossfed.per_second() / bound
        ));
        say(&format!(
            "  crossfed serve (this binary) | SATOSA {} (pysaml2 {}, {}) under gunicorn {} with {} sync workers",
            version("SATOSA").unwrap_or_default(),
            version("pysaml2").unwrap_or_default(),
            report.versions.1.clone().unwrap_or_else(|| "xmlsec1".to_string()),
            version("gunicorn").unwrap_or_default(),
            args.satosa_workers
        ));
        for (name, side) in [("crossfed", crossfed), ("SATOSA", satosa)] {
            if let Some(error) = &side.first_error {
                say(&format!("  first error ({name}): {error}"));
            }
        }
        if report.satosa_logged_errors > 0 {
            say(&format!("  SATOSA logged {} errors during the load", report.satosa_logged_errors));
        }
    }
    if crossfed.measured.errors == 0 && satosa.measured.errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The whole scenario; see the module documentation.
pub(super) async fn run(args: &BenchArgs, reference: RsaReference) -> Result<ExitCode> {
    if args.database_url.is_some() {
        bail!("--database-url applies to --scenario launch; the proxy scenario runs corp and the hub on SQLite");
    }
    if !(1..=64).contains(&args.satosa_workers) {
        bail!("--satosa-workers: give 1 to 64");
    }
    let venv = crate::satosa::venv(args.satosa_venv.as_deref())?;
    let dir = tempfile::tempdir().context("a temporary data dir")?;
    let corp_listener = TcpListener::bind("127.0.0.1:0").await?;
    let corp_url = format!("http://{}", corp_listener.local_addr()?);
    let hub_address = format!("127.0.0.1:{}", free_port()?);
    let hub_url = format!("http://{hub_address}");
    let satosa_url = format!("http://127.0.0.1:{}", free_port()?);
    let sp_metadata = sp_metadata();
    let sp_metadata_file = dir.path().join("bench-sp-metadata.xml");
    std::fs::write(&sp_metadata_file, &sp_metadata).context("writing the SP's metadata")?;

    // SATOSA's configuration and its backend's SP metadata, by its own tool.
    let prepared = {
        let (satosa_dir, venv, satosa_url, sp_metadata) =
            (dir.path().join("satosa"), venv.clone(), satosa_url.clone(), sp_metadata.clone());
        tokio::task::spawn_blocking(move || crate::satosa::prepare(&satosa_dir, &venv, &satosa_url, &sp_metadata))
            .await??
    };

    // The hub's SP metadata, with the key it will sign with, for corp to import.
    let hub_dir = dir.path().join("hub");
    std::fs::create_dir_all(&hub_dir).context("creating the hub's data dir")?;
    let hub_key = crossfed_hub::keys::load_or_create(&hub_dir, "crossfed hub", crossfed_clock::Clock::system().now())?;
    let (hub_sp_entity, hub_acs) = crossfed_hub::upstream::sp_endpoints(&hub_url);
    let hub_sp_file = dir.path().join("hub-sp-metadata.xml");
    std::fs::write(
        &hub_sp_file,
        crossfed_hub::upstream::sp_metadata_xml(&hub_sp_entity, &hub_acs, &[hub_key.certificate().clone()]),
    )
    .context("writing the hub's SP metadata")?;

    // corp, in this process.
    let (stop, stopped) = watch::channel(false);
    let corp_store = open_store(&dir.path().join("corp"), "corp.db").await?;
    let (corp, _) = crossfed_hub::build_hub(
        &corp_config(args.concurrency, &hub_sp_file, &prepared.backend_metadata)?,
        corp_store.clone(),
        &dir.path().join("corp"),
        &corp_url,
        crossfed_clock::Clock::system(),
    )
    .await
    .context("setting up corp")?;
    let corp_task = tokio::spawn(crossfed_hub::serve(corp_listener, Arc::new(corp), async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|stop| *stop).await;
    }));

    // SATOSA, trusting corp's IdP metadata for its backend.
    let frontend_entity_id = prepared.frontend_entity_id.clone();
    let corp_metadata = fetch(&format!("{corp_url}/saml/apps/satosa/metadata")).await?;
    let satosa_server = prepared.start(&corp_metadata, args.satosa_workers).await?;

    // The hub, as `crossfed serve` runs it, with corp as its identity source.
    let hub_config_file = dir.path().join("hub.toml");
    std::fs::write(&hub_config_file, hub_config(args.concurrency, &corp_url, &sp_metadata_file)?)
        .context("writing the hub's configuration")?;
    let mut serve = std::process::Command::new(std::env::current_exe().context("locating this binary")?);
    serve.arg("serve").arg("--config").arg(&hub_config_file).arg("--listen").arg(&hub_address);
    // A line per request would be measured too: the bench compares the signing path alone.
    serve.arg("--log-level").arg("warn");
    serve.arg("--data-dir").arg(&hub_dir);
    let mut hub_server = Server::start("the crossfed hub", serve, &dir.path().join("hub.log"))?;
    let hub_metadata_url = format!("{hub_url}/saml/apps/bench-sp/metadata");
    hub_server.wait_until_serving(&hub_metadata_url).await?;

    // The SP reads both proxies' IdP metadata.
    let crossfed = Arc::new(Proxy::from_metadata("crossfed", &fetch(&hub_metadata_url).await?)?);
    let satosa = Arc::new(Proxy::from_metadata("SATOSA", &fetch(&frontend_entity_id).await?)?);

    let mut browsers = Vec::with_capacity(args.concurrency);
    for user in users(args.concurrency) {
        browsers.push(Arc::new(sign_in_at_corp(&corp_url, user).await?));
    }
    let signed = match warm_up(&browsers, [&crossfed, &satosa]).await {
        Ok(signed) => signed,
        Err(e) => {
            bail!("{e:#}\nthe hub's log:\n{}\nSATOSA's log:\n{}", hub_server.log_tail(), satosa_server.log_tail())
        }
    };
    let logged_before = satosa_server.logged_errors();

    let (crossfed_run, crossfed_cpu) = measure(args, &browsers, crossfed.clone(), &hub_server).await?;
    let (satosa_run, satosa_cpu) = measure(args, &browsers, satosa.clone(), &satosa_server).await?;
    let rss = [hub_server.peak_rss_mb(), satosa_server.peak_rss_mb()];
    let satosa_logged_errors = satosa_server.logged_errors().saturating_sub(logged_before);
    let versions = crate::satosa::versions(&venv);
    drop((hub_server, satosa_server));
    let _ = stop.send(true);
    let _ = corp_task.await;
    corp_store.close().await;

    let report = Report {
        crossfed: Side::of(&crossfed_run, crossfed_cpu, rss[0], signed[0], crossfed.first_error()),
        satosa: Side::of(&satosa_run, satosa_cpu, rss[1], signed[1], satosa.first_error()),
        satosa_logged_errors,
        versions: &versions,
    };
    Ok(print_report(args, &report, &reference.measure_again().await?))
}

#[cfg(test)]
mod tests {
    use reqwest::cookie::CookieStore;

    use super::*;

    #[test]
    fn the_forms_of_both_proxies_are_read_as_a_browser_submits_them() {
        // The hub's form, from crossfed-web's template.
        let page = crossfed_web::saml_post_document(
            "https://sp.example.com/acs?a=1&b=2",
            "SAMLResponse",
            "<samlp:Response/>",
            Some("state \"x\" & 'y'"),
            "nonce",
        )
        .unwrap();
        let form = PostForm::parse(&page).unwrap();
        assert_eq!(form.action, "https://sp.example.com/acs?a=1&b=2");
        assert_eq!(decode_post(form.value("SAMLResponse").unwrap()).unwrap(), b"<samlp:Response/>");
        assert_eq!(form.value("RelayState"), Some("state \"x\" & 'y'"));
        // pysaml2's form: self-closing inputs, html.escape's &#x27;, a nameless submit button.
        let page = "<body onload=\"document.forms[0].submit()\">\n    <form action=\"http://127.0.0.1:9/acs\" method=\"post\">\n      \
                    <input type=\"hidden\" name=\"SAMLResponse\" value=\"PHg+\"/>\n      \
                    <input type=\"hidden\" name=\"RelayState\" value=\"it&#x27;s &amp; &quot;so&quot;\"/>\n      \
                    <noscript><input type=\"submit\" value=\"Continue\"/></noscript>\n    </form>";
        let form = PostForm::parse(page).unwrap();
        assert_eq!(form.action, "http://127.0.0.1:9/acs");
        assert_eq!(form.fields.len(), 2);
        assert_eq!(form.value("SAMLResponse"), Some("PHg+"));
        assert_eq!(form.value("RelayState"), Some("it's & \"so\""));
        assert!(PostForm::parse("<p>no form here</p>").is_none());
    }

    #[test]
    fn the_jar_keeps_cookies_per_origin_and_forgets_one_origin() {
        let jar = Jar::default();
        let corp = reqwest::Url::parse("http://127.0.0.1:8400/login").unwrap();
        let proxy = reqwest::Url::parse("http://127.0.0.1:8500/saml/sso").unwrap();
        let set = |url: &reqwest::Url, headers: &[&str]| {
            let values: Vec<HeaderValue> = headers.iter().map(|h| HeaderValue::from_str(h).unwrap()).collect();
            jar.set_cookies(&mut values.iter(), url);
        };
        set(&corp, &["session=abc; Path=/; HttpOnly"]);
        set(&proxy, &["SATOSA_STATE=xyz; Path=/; SameSite=None", "other=1"]);
        assert_eq!(jar.cookies(&corp).unwrap(), "session=abc");
        assert_eq!(jar.cookies(&proxy).unwrap(), "SATOSA_STATE=xyz; other=1");
        // Emptied or expired cookies go; the rest stay.
        set(&proxy, &["SATOSA_STATE=; Max-Age=0; Path=/"]);
        assert_eq!(jar.cookies(&proxy).unwrap(), "other=1");
        jar.forget(&origin(&proxy));
        assert!(jar.cookies(&proxy).is_none());
        assert_eq!(jar.cookies(&corp).unwrap(), "session=abc");
    }
}
