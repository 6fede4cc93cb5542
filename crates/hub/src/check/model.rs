//! What the chain check works with: the hub as it reads it ([`HubView`]), where the other parties
//! are ([`Parties`]), the findings it reports ([`Report`]), and the small readers its links share.

use std::future::Future;
use std::sync::Arc;

use crossfed_clock::Clock;
use crossfed_xmldsig::SigningKey;
use serde::Serialize;
use thiserror::Error;

use crate::aws::connect::{ConnectClient, ConnectEndpoint};
use crate::aws::query::{QueryClient, QueryError};
use crate::views::RoleTrust;
use crate::views::{ApplicationView, IdentitySourceView, Preview, UserView};

/// Why the hub could not be read (unreachable, refused, or answering something else).
#[derive(Debug, Error)]
#[error("{0}")]
pub struct ReadError(pub String);

/// The hub as the checks read it, in the admin API's views.
pub trait HubView: Sync {
    /// The applications (`GET /api/v1/applications`).
    fn applications(&self) -> impl Future<Output = Result<Vec<ApplicationView>, ReadError>> + Send;
    /// The users (`GET /api/v1/users`).
    fn users(&self) -> impl Future<Output = Result<Vec<UserView>, ReadError>> + Send;
    /// One user by name (`GET /api/v1/users/NAME`).
    fn user(&self, name: &str) -> impl Future<Output = Result<UserView, ReadError>> + Send;
    /// What `user` would receive from application `app` (`POST …/preview`).
    fn preview(&self, app: &str, user: &str) -> impl Future<Output = Result<Preview, ReadError>> + Send;
    /// The identity source as the hub trusts it; `None` with the built-in directory.
    fn identity_source(&self) -> impl Future<Output = Result<Option<IdentitySourceView>, ReadError>> + Send;
    /// An application's IdP metadata, with the hub's clock reading when it was read remotely.
    fn application_metadata(
        &self,
        view: &ApplicationView,
    ) -> impl Future<Output = Result<(String, Option<i64>), ReadError>> + Send;
    /// Each key role's state and who trusts its keys, as the hub asks them now.
    fn keys(&self) -> impl Future<Output = Result<Vec<RoleTrust>, ReadError>> + Send;
    /// The admin and SCIM tokens that expire within 30 days and nothing replaces, as
    /// (`purpose name`, what to run).
    fn token_warnings(&self) -> impl Future<Output = Result<Vec<(String, String)>, ReadError>> + Send;
    /// The key the hub signs with for application `app` (for `simulate`).
    fn signing_key(&self, app: &ApplicationView) -> Result<Arc<SigningKey>, ReadError>;
}

/// How a target account is reached, and with which keys.
#[derive(Debug, Clone)]
pub struct TargetAccess {
    /// The account's 12-digit ID when configured; otherwise it is learned from the keys (STS
    /// GetCallerIdentity).
    pub account_id: Option<String>,
    /// The account's API endpoint (the emulated account's URL); `None` means AWS's own endpoints.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Where the account's sign-in accepts assertions (default: ENDPOINT/saml, or AWS's).
    pub signin_url: Option<String>,
}

impl TargetAccess {
    /// Where the account's sign-in accepts assertions: the configured URL, else the emulated
    /// account's `ENDPOINT/saml`, else AWS's.
    pub fn signin_url(&self) -> String {
        self.signin_url.clone().unwrap_or_else(|| match &self.endpoint {
            Some(url) => format!("{}/saml", url.trim_end_matches('/')),
            None => crate::apps::model::AWS_SIGNIN_URL.to_string(),
        })
    }

    /// The account's IAM API, calls signed at `clock`'s time (IAM is global: signed for
    /// us-east-1 whatever the region).
    pub fn iam(&self, clock: &Clock) -> Result<QueryClient, QueryError> {
        let url = self.endpoint.clone().unwrap_or_else(|| "https://iam.amazonaws.com/".to_string());
        QueryClient::new(&url, "us-east-1", &self.access_key_id, &self.secret_access_key, clock.clone())
    }

    /// The account's STS API in `region`, calls signed at `clock`'s time. On AWS the regional
    /// endpoint is used, so that the signature's region and the endpoint agree.
    pub fn sts(&self, region: &str, clock: &Clock) -> Result<QueryClient, QueryError> {
        let url = self.endpoint.clone().unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com/"));
        QueryClient::new(&url, region, &self.access_key_id, &self.secret_access_key, clock.clone())
    }

    /// How the entry is named in findings and errors: its account when configured, and where
    /// its keys go.
    pub fn label(&self) -> String {
        match &self.account_id {
            Some(account) => format!("account {account} ({})", self.keys_label()),
            None => self.keys_label(),
        }
    }

    /// The entry's keys and where they go (`keys AKIA… at http://…`, or `at AWS`).
    pub fn keys_label(&self) -> String {
        format!("keys {} at {}", self.access_key_id, self.endpoint.as_deref().unwrap_or("AWS"))
    }
}

/// Where each party is.
#[derive(Debug, Clone)]
pub struct Parties {
    /// The target accounts with keys to read them; each application is checked against the one
    /// whose account it names.
    pub targets: Vec<TargetAccess>,
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
    pub(crate) connect: Option<ConnectClient>,
    pub(crate) signin_url: String,
}

/// The target account's APIs in `region`, called at `clock`'s time.
pub(crate) fn target(access: &TargetAccess, region: &str, clock: &Clock) -> Result<Target, QueryError> {
    let connect_url = access.endpoint.clone().unwrap_or_else(|| format!("https://connect.{region}.amazonaws.com"));
    let connect = ConnectClient::new(
        ConnectEndpoint {
            base_url: connect_url,
            region: region.to_string(),
            access_key_id: access.access_key_id.clone(),
            secret_access_key: access.secret_access_key.clone(),
        },
        clock.clone(),
    )
    .ok();
    Ok(Target { iam: access.iam(clock)?, connect, signin_url: access.signin_url() })
}

/// An application that signs people into the target account, as the checks need it.
pub(crate) struct AwsApp {
    pub(crate) id: String,
    pub(crate) view: ApplicationView,
    pub(crate) account_id: String,
    pub(crate) region: String,
    /// (role name, provider name) pairs its Role attribute names.
    pub(crate) roles: Vec<(String, String)>,
    /// For Amazon Connect: the instance its relay state names.
    pub(crate) instance_id: Option<String>,
    /// For Amazon Connect: whether the hub creates its Connect users.
    pub(crate) provisioning: bool,
}

pub(crate) fn aws_app(view: &ApplicationView) -> Option<AwsApp> {
    let definition = &view.definition;
    if let Some(c) = &definition.amazon_connect {
        return Some(AwsApp {
            id: view.id.clone(),
            view: view.clone(),
            account_id: c.account_id.clone(),
            region: c.region.clone(),
            roles: vec![(c.role_name.clone(), c.provider_name.clone())],
            instance_id: Some(c.instance_id.clone()),
            provisioning: c.provisioning.is_some(),
        });
    }
    let a = definition.aws_account.as_ref()?;
    Some(AwsApp {
        id: view.id.clone(),
        view: view.clone(),
        account_id: a.account_id.clone(),
        region: "us-east-1".into(),
        roles: a.roles.iter().map(|r| (r.role_name.clone(), r.provider_name.clone())).collect(),
        instance_id: None,
        provisioning: false,
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
pub async fn fetch(url: &str) -> Result<(String, Option<i64>), ReadError> {
    let response = reqwest::get(url).await.map_err(|e| ReadError(format!("fetching {url}: {e}")))?;
    let date = server_date(&response);
    let status = response.status();
    let body = response.text().await.map_err(|e| ReadError(format!("reading {url}: {e}")))?;
    if !status.is_success() {
        return Err(ReadError(format!("{url} answered {status}: {}", body.trim())));
    }
    Ok((body, date))
}
