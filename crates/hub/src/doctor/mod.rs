//! The chain doctor behind `crossfed check` and the console's Checks page: it reads the hub (its
//! applications, users, previews and identity source), the target account through the AWS APIs
//! (IAM, STS, Amazon Connect, SigV4-signed) and the upstream IdP through its metadata, and checks
//! every link of the reference chain, each with the fix when it is broken. `simulate` then walks
//! one person through the chain without a browser.
//!
//! How the hub is read is a trait: the CLI reads a remote hub over its admin API, the console
//! reads the hub it runs in directly. Both produce the admin API's JSON views, so the checks see
//! the same thing either way.

mod account;
mod simulate;

use std::future::Future;

use serde::Serialize;
use serde_json::Value;

use crate::aws_query::QueryClient;
use crate::connect_client::{ConnectClient, ConnectEndpoint};
pub use simulate::simulate;

/// The hub as the checks read it, in the admin API's JSON shapes.
pub trait HubView: Sync {
    /// The applications (`GET /api/v1/applications` items).
    fn applications(&self) -> impl Future<Output = Result<Vec<Value>, String>> + Send;
    /// The users (`GET /api/v1/users` items).
    fn users(&self) -> impl Future<Output = Result<Vec<Value>, String>> + Send;
    /// One user by name (`GET /api/v1/users/NAME`).
    fn user(&self, name: &str) -> impl Future<Output = Result<Value, String>> + Send;
    /// What `user` would receive from application `app` (`POST …/preview`).
    fn preview(&self, app: &str, user: &str) -> impl Future<Output = Result<Value, String>> + Send;
    /// The identity source as the hub trusts it; `None` with the built-in directory.
    fn identity_source(&self) -> impl Future<Output = Result<Option<Value>, String>> + Send;
    /// An application's IdP metadata, with the hub's clock reading when it was read remotely.
    fn application_metadata(&self, view: &Value) -> impl Future<Output = Result<(String, Option<i64>), String>> + Send;
    /// The key the hub signs with (for `simulate`).
    fn signing_key(&self) -> Result<std::sync::Arc<crossfed_xmldsig::SigningKey>, String>;
}

/// How the target account is reached, and with which keys.
#[derive(Debug, Clone)]
pub struct TargetAccess {
    /// The account's API endpoint (the emulated account's URL); `None` means AWS's own endpoints.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Where the account's sign-in accepts assertions (default: ENDPOINT/saml, or AWS's).
    pub signin_url: Option<String>,
}

/// Where each party is.
#[derive(Debug, Clone)]
pub struct Parties {
    pub target: TargetAccess,
    /// The upstream IdP's metadata URL, compared with what the hub trusts.
    pub idp_metadata_url: Option<String>,
}

/// One link of the chain, checked.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub link: &'static str,
    pub subject: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub(crate) fn pass(&mut self, link: &'static str, subject: &str, detail: impl Into<String>) {
        self.findings.push(Finding { link, subject: subject.to_string(), ok: true, detail: detail.into(), fix: None });
    }

    pub(crate) fn fail(
        &mut self,
        link: &'static str,
        subject: &str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.findings.push(Finding {
            link,
            subject: subject.to_string(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }

    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| !f.ok)
    }

    pub fn broken(&self) -> usize {
        self.findings.iter().filter(|f| !f.ok).count()
    }
}

/// The target account's APIs.
pub(crate) struct Target {
    pub(crate) iam: QueryClient,
    pub(crate) sts: QueryClient,
    pub(crate) connect: Option<ConnectClient>,
    pub(crate) signin_url: String,
}

pub(crate) fn target(access: &TargetAccess, region: &str) -> Result<Target, String> {
    let (iam_url, sts_url, connect_url) = match &access.endpoint {
        Some(url) => (url.clone(), url.clone(), url.clone()),
        None => (
            "https://iam.amazonaws.com/".to_string(),
            "https://sts.amazonaws.com/".to_string(),
            format!("https://connect.{region}.amazonaws.com"),
        ),
    };
    let (key, secret) = (&access.access_key_id, &access.secret_access_key);
    let connect = ConnectClient::new(ConnectEndpoint {
        base_url: connect_url,
        region: region.to_string(),
        access_key_id: key.clone(),
        secret_access_key: secret.clone(),
    })
    .ok();
    let signin_url = access.signin_url.clone().unwrap_or_else(|| match &access.endpoint {
        Some(url) => format!("{}/saml", url.trim_end_matches('/')),
        None => crate::catalog::AWS_SIGNIN_URL.to_string(),
    });
    Ok(Target {
        iam: QueryClient::new(&iam_url, "us-east-1", key, secret).map_err(|e| e.to_string())?,
        sts: QueryClient::new(&sts_url, region, key, secret).map_err(|e| e.to_string())?,
        connect,
        signin_url,
    })
}

/// An application that signs people into the target account, as the checks need it.
pub(crate) struct AwsApp {
    pub(crate) id: String,
    pub(crate) view: Value,
    pub(crate) account_id: String,
    pub(crate) region: String,
    /// (role name, provider name) pairs its Role attribute names.
    pub(crate) roles: Vec<(String, String)>,
    /// For Amazon Connect: the instance its relay state names.
    pub(crate) instance_id: Option<String>,
}

/// A string field of a JSON view, `-` when absent.
pub fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("-")
}

pub(crate) fn aws_app(view: &Value) -> Option<AwsApp> {
    let definition = view.get("definition")?;
    let id = text(view, "id").to_string();
    if let Some(c) = definition.get("amazon_connect") {
        return Some(AwsApp {
            id,
            view: view.clone(),
            account_id: text(c, "account_id").to_string(),
            region: text(c, "region").to_string(),
            roles: vec![(text(c, "role_name").to_string(), text(c, "provider_name").to_string())],
            instance_id: Some(text(c, "instance_id").to_string()),
        });
    }
    let a = definition.get("aws_account")?;
    let roles = a
        .get("roles")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter().map(|r| (text(r, "role_name").to_string(), text(r, "provider_name").to_string())).collect()
        })
        .unwrap_or_default();
    Some(AwsApp {
        id,
        view: view.clone(),
        account_id: text(a, "account_id").to_string(),
        region: "us-east-1".into(),
        roles,
        instance_id: None,
    })
}

const THIRTY_DAYS: i64 = 30 * 86_400;

pub(crate) fn certificate_expiry(
    report: &mut Report,
    link: &'static str,
    subject: &str,
    certificate: &crossfed_xmldsig::Certificate,
    now: i64,
    fix: &str,
) {
    let left = certificate.not_after() - now;
    let day = time::OffsetDateTime::from_unix_timestamp(certificate.not_after())
        .map(|t| t.date().to_string())
        .unwrap_or_default();
    if left > THIRTY_DAYS {
        report.pass(link, subject, format!("certificate valid until {day}"));
    } else if left > 0 {
        report.fail(link, subject, format!("certificate expires on {day}, in {} days", left / 86_400), fix);
    } else {
        report.fail(link, subject, format!("certificate expired on {day}"), fix);
    }
}

/// The time a server's `Date` header gives, in Unix seconds.
pub fn server_date(response: &reqwest::Response) -> Option<i64> {
    response
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc2822).ok())
        .map(|t| t.unix_timestamp())
}

/// A document and the serving machine's clock reading.
pub async fn fetch(url: &str) -> Result<(String, Option<i64>), String> {
    let response = reqwest::get(url).await.map_err(|e| format!("fetching {url}: {e}"))?;
    let date = server_date(&response);
    let status = response.status();
    let body = response.text().await.map_err(|e| format!("reading {url}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{url} answered {status}: {}", body.trim()));
    }
    Ok((body, date))
}

/// Checks every link of the chain for every application that signs people into an AWS account.
/// `now` is this machine's clock (Unix seconds), which the parties' clocks are compared with.
pub async fn check_chain<H: HubView>(hub: &H, parties: &Parties, now: i64) -> Report {
    let mut report = Report::default();
    let listing = match hub.applications().await {
        Ok(list) => list,
        Err(e) => {
            report.fail("hub", "hub", e, "start the hub, or check the hub's URL and admin token");
            return report;
        }
    };
    let users = hub.users().await.unwrap_or_default();
    let apps: Vec<AwsApp> = listing.iter().filter_map(aws_app).collect();
    if apps.is_empty() {
        report.fail(
            "applications",
            "hub",
            "no Amazon Connect or AWS account application",
            "add one: crossfed apps add --template amazon-connect …",
        );
    }
    let mut clocks = Vec::new();
    for app in &apps {
        account::check_application(hub, parties, app, &users, now, &mut report, &mut clocks).await;
    }
    check_identity_source(hub, parties, now, &mut report, &mut clocks).await;
    check_clocks(&clocks, now, &mut report);
    report
}

async fn check_identity_source<H: HubView>(
    hub: &H,
    parties: &Parties,
    now: i64,
    report: &mut Report,
    clocks: &mut Vec<(String, i64)>,
) {
    let Ok(Some(source)) = hub.identity_source().await else { return };
    let trusted: Vec<String> = source
        .get("certificates")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(|c| text(c, "sha256").to_string()).collect())
        .unwrap_or_default();
    let Some(url) = &parties.idp_metadata_url else {
        report.pass(
            "idp-certificate",
            "hub",
            format!("trusts {} (give the IdP's metadata URL to compare)", text(&source, "idp_entity_id")),
        );
        return;
    };
    let (xml, date) = match fetch(url).await {
        Ok(m) => m,
        Err(e) => return report.fail("idp-certificate", "hub", e, "check the IdP's metadata URL"),
    };
    if let Some(date) = date {
        clocks.push(("identity provider".to_string(), date));
    }
    let Ok(entity) = crossfed_saml::EntityDescriptor::parse(xml.as_bytes()) else {
        return report.fail(
            "idp-certificate",
            "hub",
            format!("{url} is not SAML metadata"),
            "check the IdP's metadata URL",
        );
    };
    let signing = entity.idp.as_ref().and_then(|d| d.signing_certificates.first().cloned());
    match signing {
        Some(c) if trusted.contains(&c.fingerprint_hex()) && entity.entity_id == text(&source, "idp_entity_id") => {
            report.pass("idp-certificate", "hub", format!("trusts {}'s signing certificate", entity.entity_id));
            certificate_expiry(
                report,
                "idp-certificate",
                &entity.entity_id,
                &c,
                now,
                "renew the IdP's signing certificate, then refresh the hub's copy of its metadata",
            );
        }
        Some(_) => report.fail(
            "idp-certificate",
            "hub",
            format!("the hub does not trust the certificate {} signs with now", entity.entity_id),
            "let the hub refresh the IdP metadata (identity_source.refresh_minutes), or upload it again",
        ),
        None => report.fail(
            "idp-certificate",
            "hub",
            format!("{url} has no IdP signing certificate"),
            "check the IdP's metadata",
        ),
    }
}

fn check_clocks(clocks: &[(String, i64)], now: i64, report: &mut Report) {
    let mut seen: Vec<&str> = Vec::new();
    for (who, date) in clocks {
        if seen.contains(&who.as_str()) {
            continue;
        }
        seen.push(who);
        let drift = (date - now).abs();
        if drift <= 60 {
            report.pass("clock", who, format!("within {drift} s of this machine"));
        } else {
            report.fail(
                "clock",
                who,
                format!("{drift} s off this machine's clock; assertions live 5 minutes"),
                "synchronise the clocks (NTP)",
            );
        }
    }
}
