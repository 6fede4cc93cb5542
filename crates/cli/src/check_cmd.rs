//! `crossfed check`: a doctor for the whole federation chain. It reads the hub through its admin
//! API and public metadata, the target account through the AWS APIs (IAM, STS, Amazon Connect,
//! SigV4-signed), and the upstream IdP through its metadata, and checks every link of the
//! reference chain, printing ✓ or ✗ with the fix. `--simulate USER` then walks one person through
//! the chain without a browser: a Response signed with the hub's key, posted to the sign-in
//! endpoint, followed to the Connect agent workspace.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use crossfed_hub::aws_query::QueryClient;
use crossfed_hub::catalog::{ROLE_ATTRIBUTE, ROLE_SESSION_NAME_ATTRIBUTE};
use crossfed_hub::connect_client::{ConnectClient, ConnectEndpoint};
use crossfed_iam::{RequestContext, RequestPrincipal};
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin_cmd::{HubTarget, items, text};
use crate::say;

#[derive(Args)]
pub struct CheckArgs {
    /// The data directory of a running `crossfed demo`: every party is found from it.
    #[arg(long)]
    demo_data_dir: Option<PathBuf>,
    #[command(flatten)]
    hub: HubTarget,
    /// The target account's API endpoint (the emulated account's URL). Without it, AWS's own
    /// endpoints are used.
    #[arg(long)]
    target: Option<String>,
    /// Keys allowed to read IAM roles, SAML providers and Connect users of the target account.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: Option<String>,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: Option<String>,
    /// Where the target account's sign-in accepts assertions (default: TARGET/saml, or AWS's).
    #[arg(long)]
    signin_url: Option<String>,
    /// The upstream IdP's metadata URL for the hub, compared with what the hub trusts.
    #[arg(long)]
    idp_metadata_url: Option<String>,
    /// Walk this user through the whole chain after the checks (needs the hub's signing key).
    #[arg(long)]
    simulate: Option<String>,
    /// The hub's data directory, for its signing key (--simulate).
    #[arg(long)]
    hub_data_dir: Option<PathBuf>,
}

/// Where everything is, once the arguments (or the demo's description) are read.
struct Parties {
    hub: HubTarget,
    target: Option<String>,
    access_key_id: String,
    secret_access_key: String,
    signin_url: Option<String>,
    idp_metadata_url: Option<String>,
    hub_data_dir: Option<PathBuf>,
}

fn parties(args: CheckArgs) -> Result<Parties> {
    let Some(dir) = args.demo_data_dir else {
        let (Some(access_key_id), Some(secret_access_key)) = (args.access_key_id, args.secret_access_key) else {
            bail!(
                "give the target account's keys (--access-key-id and --secret-access-key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or --demo-data-dir"
            );
        };
        return Ok(Parties {
            hub: args.hub,
            target: args.target,
            access_key_id,
            secret_access_key,
            signin_url: args.signin_url,
            idp_metadata_url: args.idp_metadata_url,
            hub_data_dir: args.hub_data_dir,
        });
    };
    let file = dir.join("demo.json");
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!("reading {} (is `crossfed demo --data-dir {}` running?)", file.display(), dir.display())
    })?;
    let demo: Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))?;
    let field = |name: &str| -> Result<String> {
        demo.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("{}: no {name}", file.display()))
    };
    let token = std::fs::read_to_string(dir.join(field("hub_admin_token_file")?))
        .context("reading the demo hub's admin token")?
        .trim()
        .to_string();
    let corp = field("corp_url")?;
    Ok(Parties {
        hub: HubTarget::new(&field("hub_url")?, &token, args.hub.json_output()),
        target: Some(field("cloud_url")?),
        access_key_id: field("access_key_id")?,
        secret_access_key: field("secret_access_key")?,
        signin_url: None,
        idp_metadata_url: Some(format!("{corp}/saml/apps/{}/metadata", field("corp_application")?)),
        hub_data_dir: Some(dir.join(field("hub_data_dir")?)),
    })
}

/// One link of the chain, checked.
struct Finding {
    link: &'static str,
    subject: String,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

#[derive(Default)]
struct Report {
    findings: Vec<Finding>,
}

impl Report {
    fn pass(&mut self, link: &'static str, subject: &str, detail: impl Into<String>) {
        self.findings.push(Finding { link, subject: subject.to_string(), ok: true, detail: detail.into(), fix: None });
    }

    fn fail(&mut self, link: &'static str, subject: &str, detail: impl Into<String>, fix: impl Into<String>) {
        self.findings.push(Finding {
            link,
            subject: subject.to_string(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }

    fn failed(&self) -> bool {
        self.findings.iter().any(|f| !f.ok)
    }

    fn print(&self, json_output: bool) {
        if json_output {
            let list: Vec<Value> = self
                .findings
                .iter()
                .map(|f| json!({"link": f.link, "subject": f.subject, "ok": f.ok, "detail": f.detail, "fix": f.fix}))
                .collect();
            say(&json!({"ok": !self.failed(), "findings": list}).to_string());
            return;
        }
        for f in &self.findings {
            let mark = if f.ok { "✓" } else { "✗" };
            say(&format!("{mark} {:<20} {:<28} {}", f.link, f.subject, f.detail));
            if let Some(fix) = &f.fix {
                say(&format!("  {:<20} fix: {fix}", ""));
            }
        }
        let failed = self.findings.iter().filter(|f| !f.ok).count();
        say(&format!("{} links checked, {failed} broken", self.findings.len()));
    }
}

/// The target account's APIs.
struct Target {
    iam: QueryClient,
    sts: QueryClient,
    connect: Option<ConnectClient>,
    signin_url: String,
}

fn target(parties: &Parties, region: &str) -> Result<Target> {
    let (iam_url, sts_url, connect_url) = match &parties.target {
        Some(url) => (url.clone(), url.clone(), url.clone()),
        None => (
            "https://iam.amazonaws.com/".to_string(),
            "https://sts.amazonaws.com/".to_string(),
            format!("https://connect.{region}.amazonaws.com"),
        ),
    };
    let (key, secret) = (&parties.access_key_id, &parties.secret_access_key);
    let connect = ConnectClient::new(ConnectEndpoint {
        base_url: connect_url,
        region: region.to_string(),
        access_key_id: key.clone(),
        secret_access_key: secret.clone(),
    })
    .ok();
    let signin_url = parties.signin_url.clone().unwrap_or_else(|| match &parties.target {
        Some(url) => format!("{}/saml", url.trim_end_matches('/')),
        None => crossfed_hub::catalog::AWS_SIGNIN_URL.to_string(),
    });
    Ok(Target {
        iam: QueryClient::new(&iam_url, "us-east-1", key, secret).map_err(anyhow::Error::msg)?,
        sts: QueryClient::new(&sts_url, region, key, secret).map_err(anyhow::Error::msg)?,
        connect,
        signin_url,
    })
}

/// An application that signs people into the target account, as the checks need it.
struct AwsApp {
    id: String,
    view: Value,
    account_id: String,
    region: String,
    /// (role name, provider name) pairs its Role attribute names.
    roles: Vec<(String, String)>,
    /// For Amazon Connect: the instance its relay state names.
    instance_id: Option<String>,
}

fn aws_app(view: &Value) -> Option<AwsApp> {
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

fn certificate_expiry(
    report: &mut Report,
    link: &'static str,
    subject: &str,
    certificate: &crossfed_xmldsig::Certificate,
    fix: &str,
) {
    let left = certificate.not_after() - crate::now();
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
fn server_date(response: &reqwest::Response) -> Option<i64> {
    response
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc2822).ok())
        .map(|t| t.unix_timestamp())
}

async fn fetch(url: &str) -> Result<(String, Option<i64>)> {
    let response = reqwest::get(url).await.with_context(|| format!("fetching {url}"))?;
    let date = server_date(&response);
    let status = response.status();
    let body = response.text().await.with_context(|| format!("reading {url}"))?;
    if !status.is_success() {
        bail!("{url} answered {status}: {}", body.trim());
    }
    Ok((body, date))
}

pub async fn run(args: CheckArgs) -> Result<ExitCode> {
    let simulate = args.simulate.clone();
    let parties = parties(args)?;
    let mut report = Report::default();
    let listing = parties.hub.call(Method::GET, "/api/v1/applications", None).await?;
    let users = parties.hub.call(Method::GET, "/api/v1/users?limit=1000", None).await?;
    let apps: Vec<AwsApp> = items(&listing).iter().filter_map(aws_app).collect();
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
        check_application(&parties, app, items(&users), &mut report, &mut clocks).await;
    }
    check_identity_source(&parties, &mut report, &mut clocks).await;
    check_clocks(&clocks, &mut report);
    let mut failed = report.failed();
    if let Some(user) = simulate {
        let walked = simulate_user(&parties, &apps, &user, &mut report).await;
        failed |= !walked;
    }
    report.print(parties.hub.json_output());
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

async fn check_application(
    parties: &Parties,
    app: &AwsApp,
    users: &[Value],
    report: &mut Report,
    clocks: &mut Vec<(String, i64)>,
) {
    let id = app.id.as_str();
    let metadata_url = text(&app.view, "metadata_url").to_string();
    let (hub_metadata, hub_date) = match fetch(&metadata_url).await {
        Ok(m) => m,
        Err(e) => return report.fail("hub-metadata", id, format!("{e:#}"), "start the hub, or check --hub"),
    };
    if let Some(date) = hub_date {
        clocks.push(("hub".to_string(), date));
    }
    let hub_entity = match crossfed_saml::EntityDescriptor::parse(hub_metadata.as_bytes()) {
        Ok(e) => e,
        Err(e) => return report.fail("hub-metadata", id, format!("unreadable: {e}"), "report this as a bug"),
    };
    let hub_certificates = hub_entity.idp.as_ref().map(|d| d.signing_certificates.clone()).unwrap_or_default();
    let Some(signing) = hub_certificates.first().cloned() else {
        return report.fail(
            "hub-metadata",
            id,
            "the hub's metadata has no signing certificate",
            "report this as a bug",
        );
    };
    certificate_expiry(
        report,
        "hub-certificate",
        id,
        &signing,
        "crossfed keys rotate --data-dir HUB_DATA_DIR, then re-upload the metadata",
    );

    let target = match target(parties, &app.region) {
        Ok(t) => t,
        Err(e) => return report.fail("target-account", id, format!("{e:#}"), "check --target and the keys"),
    };
    if let Ok(response) = reqwest::get(&target.signin_url).await
        && let Some(date) = server_date(&response)
    {
        clocks.push(("target account".to_string(), date));
    }
    match target.sts.caller_account().await {
        Ok(account) if account == app.account_id => {
            report.pass("target-account", id, format!("keys reach account {account}"))
        }
        Ok(account) => report.fail(
            "target-account",
            id,
            format!("the application names account {} but the target's keys belong to {account}", app.account_id),
            "correct account_id of the application, or check the keys of the account it names",
        ),
        Err(e) => {
            return report.fail(
                "target-account",
                id,
                e.to_string(),
                "check --target, --access-key-id and --secret-access-key",
            );
        }
    }
    let acs = text(&app.view, "acs_url");
    if acs == target.signin_url {
        report.pass("signin-url", id, format!("assertions go to {acs}"));
    } else {
        report.fail(
            "signin-url",
            id,
            format!("assertions go to {acs}, but the account signs in at {}", target.signin_url),
            format!("set signin_url = \"{}\" in the application", target.signin_url),
        );
    }

    // The assigned people, each with the RoleSessionName the hub would send.
    let mut sessions: Vec<(String, String)> = Vec::new();
    for user in users {
        let name = text(user, "user_name");
        if user.get("active") != Some(&Value::Bool(true)) {
            continue;
        }
        let path = format!("/api/v1/applications/{}/preview", segment(id));
        let Ok(preview) = parties.hub.call(Method::POST, &path, Some(json!({"user": name}))).await else { continue };
        if preview.get("assigned") != Some(&Value::Bool(true)) {
            continue;
        }
        let session = preview
            .get("attributes")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter().find(|a| a.get("name").and_then(Value::as_str) == Some(ROLE_SESSION_NAME_ATTRIBUTE))
            })
            .and_then(|a| a.pointer("/values/0"))
            .and_then(Value::as_str);
        match session {
            Some(session) => sessions.push((name.to_string(), session.to_string())),
            None => report.fail(
                "session-name",
                id,
                format!("{name} gets no RoleSessionName: {}", text(&preview, "error")),
                format!("give {name} the value the mapping needs (crossfed apps preview {id} --user {name})"),
            ),
        }
    }

    for (role_name, provider_name) in &app.roles {
        let provider_arn = format!("arn:aws:iam::{}:saml-provider/{provider_name}", app.account_id);
        let provider = match target.iam.saml_provider_metadata(&provider_arn).await {
            Ok(xml) => {
                report.pass("saml-provider", id, format!("{provider_name} exists"));
                xml
            }
            Err(e) => {
                report.fail(
                    "saml-provider",
                    id,
                    format!("{provider_name}: {e}"),
                    format!("create the IAM SAML provider {provider_name} with the hub's metadata: {metadata_url}"),
                );
                continue;
            }
        };
        match crossfed_saml::EntityDescriptor::parse(provider.as_bytes()) {
            Ok(entity) => {
                let trusted = entity.idp.as_ref().map(|d| d.signing_certificates.clone()).unwrap_or_default();
                let fix = format!(
                    "re-upload the hub's metadata ({metadata_url}) to the SAML provider {provider_name} (aws iam update-saml-provider)"
                );
                if entity.entity_id != hub_entity.entity_id {
                    report.fail(
                        "provider-certificate",
                        id,
                        format!(
                            "{provider_name} trusts issuer {:?}, the hub signs as {:?}",
                            entity.entity_id, hub_entity.entity_id
                        ),
                        fix,
                    );
                } else if trusted.iter().any(|c| c.fingerprint_hex() == signing.fingerprint_hex()) {
                    report.pass(
                        "provider-certificate",
                        id,
                        format!("{provider_name} trusts the hub's signing certificate"),
                    );
                } else {
                    report.fail(
                        "provider-certificate",
                        id,
                        format!(
                            "{provider_name} does not trust the certificate the hub signs with (SHA-256 {})",
                            signing.fingerprint_hex().chars().take(16).collect::<String>()
                        ),
                        fix,
                    );
                }
            }
            Err(e) => report.fail(
                "provider-certificate",
                id,
                format!("{provider_name}'s metadata does not read: {e}"),
                format!("re-upload {metadata_url}"),
            ),
        }
        let role = match target.iam.role(role_name).await {
            Ok(role) => {
                report.pass("role", id, format!("{role_name} exists"));
                role
            }
            Err(e) => {
                report.fail(
                    "role",
                    id,
                    format!("{role_name}: {e}"),
                    format!("create the role {role_name} in account {}", app.account_id),
                );
                continue;
            }
        };
        let trust = crossfed_iam::Policy::parse_as(&role.trust_policy, crossfed_iam::PolicyKind::Trust);
        let context = RequestContext::new("sts:AssumeRoleWithSAML", role.arn.clone())
            .with_principal(RequestPrincipal::federated(provider_arn.clone()))
            .with_key("SAML:aud", target.signin_url.as_str());
        match trust {
            Ok(policy) if crossfed_iam::evaluate_trust(&policy, &context).is_allowed() => {
                report.pass(
                    "role-trust",
                    id,
                    format!("{role_name} trusts {provider_name} for SAML:aud {}", target.signin_url),
                );
            }
            Ok(_) => report.fail(
                "role-trust",
                id,
                format!(
                    "{role_name}'s trust policy does not let {provider_name} assume it for SAML:aud {}",
                    target.signin_url
                ),
                format!(
                    "allow sts:AssumeRoleWithSAML for Federated {provider_arn} with StringEquals SAML:aud {}",
                    target.signin_url
                ),
            ),
            Err(e) => {
                report.fail("role-trust", id, format!("{role_name}'s trust policy: {e}"), "correct the trust policy")
            }
        }
        if let Some(instance) = &app.instance_id {
            check_federation_policy(&target, app, instance, role_name, &role, &sessions, report).await;
        }
    }
    if let Some(instance) = &app.instance_id {
        check_connect(&target, app, instance, &sessions, report).await;
    }
}

async fn check_federation_policy(
    target: &Target,
    app: &AwsApp,
    instance: &str,
    role_name: &str,
    role: &crossfed_hub::aws_query::RoleInfo,
    sessions: &[(String, String)],
    report: &mut Report,
) {
    let id = app.id.as_str();
    let policies = match target.iam.inline_policies(role_name).await {
        Ok(p) => p,
        Err(e) => {
            return report.fail(
                "federation-policy",
                id,
                format!("{role_name}'s policies: {e}"),
                "allow the checking keys iam:ListRolePolicies and iam:GetRolePolicy",
            );
        }
    };
    let parsed: Vec<crossfed_iam::Policy> =
        policies.iter().filter_map(|(_, text)| crossfed_iam::Policy::parse(text).ok()).collect();
    let refs: Vec<&crossfed_iam::Policy> = parsed.iter().collect();
    let sample = sessions.first().map(|(_, s)| s.clone()).unwrap_or_else(|| "someone@example.com".to_string());
    let user_id = format!("{}:{sample}", role.role_id);
    let resource = format!("arn:aws:connect:{}:{}:instance/{instance}/user/{user_id}", app.region, app.account_id);
    let context = RequestContext::new("connect:GetFederationToken", resource.clone())
        .with_key("aws:userid", user_id.as_str())
        .with_key("aws:username", sample.as_str())
        .with_key("aws:PrincipalArn", role.arn.as_str());
    if crossfed_iam::evaluate(&refs, &context).is_allowed() {
        report.pass(
            "federation-policy",
            id,
            format!("{role_name} may call connect:GetFederationToken for its sessions"),
        );
    } else {
        let attached = target.iam.attached_policies(role_name).await.unwrap_or_default();
        let note =
            if attached.is_empty() { String::new() } else { format!(" (managed policies {attached:?} were not read)") };
        report.fail(
            "federation-policy",
            id,
            format!("{role_name}'s inline policies do not allow connect:GetFederationToken on {resource}{note}"),
            format!(
                "add a policy allowing connect:GetFederationToken on arn:aws:connect:{}:{}:instance/{instance}/user/${{aws:userid}}",
                app.region, app.account_id
            ),
        );
    }
}

async fn check_connect(
    target: &Target,
    app: &AwsApp,
    instance: &str,
    sessions: &[(String, String)],
    report: &mut Report,
) {
    let id = app.id.as_str();
    let relay = text(&app.view, "relay_state");
    let Some(connect) = &target.connect else {
        return report.fail("relay-state", id, "no Connect client", "check --target");
    };
    let described = connect
        .send("DescribeInstance", Method::GET, &["instance", instance], &[], None, time::OffsetDateTime::now_utc())
        .await;
    match described {
        Ok(_) if relay.contains(&format!("/connect/federate/{instance}")) => {
            report.pass("relay-state", id, format!("{relay} names instance {instance}, which exists"));
        }
        Ok(_) => report.fail(
            "relay-state",
            id,
            format!("{relay} does not name instance {instance}"),
            "set the application's instance_id",
        ),
        Err(e) => {
            return report.fail(
                "relay-state",
                id,
                format!("{relay} names instance {instance}, which the account does not have: {e}"),
                "set instance_id of the application to the Connect instance's ID (Connect console → instance → ARN)",
            );
        }
    }
    let provisioning = app.view.pointer("/definition/amazon_connect/provisioning").is_some_and(|p| !p.is_null());
    let existing: Vec<String> = match connect.list_users(instance).await {
        Ok(list) => list.into_iter().map(|u| u.username.to_lowercase()).collect(),
        Err(e) => {
            return report.fail(
                "connect-user",
                id,
                format!("listing the Connect users: {e}"),
                "allow the checking keys connect:ListUsers",
            );
        }
    };
    if sessions.is_empty() {
        report.fail(
            "connect-user",
            id,
            "nobody is assigned to the application",
            format!("crossfed assign {id} --user NAME"),
        );
    }
    for (user, session) in sessions {
        if existing.contains(&session.to_lowercase()) {
            report.pass("connect-user", user, format!("Connect user {session} exists"));
        } else if provisioning {
            report.fail(
                "connect-user",
                user,
                format!("no Connect user {session} in instance {instance}, although provisioning is on"),
                "see crossfed provisioning status",
            );
        } else {
            report.fail(
                "connect-user",
                user,
                format!("no Connect user {session} in instance {instance}: Connect will refuse {user}"),
                format!("create the Connect user {session} (identity management SAML), or give the application [applications.amazon_connect.provisioning]"),
            );
        }
    }
}

async fn check_identity_source(parties: &Parties, report: &mut Report, clocks: &mut Vec<(String, i64)>) {
    let Ok(source) = parties.hub.call(Method::GET, "/api/v1/identity-source", None).await else { return };
    let trusted: Vec<String> = source
        .get("certificates")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(|c| text(c, "sha256").to_string()).collect())
        .unwrap_or_default();
    let Some(url) = &parties.idp_metadata_url else {
        report.pass(
            "idp-certificate",
            "hub",
            format!("trusts {} (give --idp-metadata-url to compare)", text(&source, "idp_entity_id")),
        );
        return;
    };
    let (xml, date) = match fetch(url).await {
        Ok(m) => m,
        Err(e) => return report.fail("idp-certificate", "hub", format!("{e:#}"), "check --idp-metadata-url"),
    };
    if let Some(date) = date {
        clocks.push(("identity provider".to_string(), date));
    }
    let Ok(entity) = crossfed_saml::EntityDescriptor::parse(xml.as_bytes()) else {
        return report.fail(
            "idp-certificate",
            "hub",
            format!("{url} is not SAML metadata"),
            "check --idp-metadata-url",
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
                "renew the IdP's signing certificate, then refresh the hub's copy of its metadata",
            );
        }
        Some(_) => report.fail(
            "idp-certificate",
            "hub",
            format!("the hub does not trust the certificate {} signs with now", entity.entity_id),
            "let the hub refresh the IdP metadata (identity_source.refresh_minutes), or restart it",
        ),
        None => report.fail(
            "idp-certificate",
            "hub",
            format!("{url} has no IdP signing certificate"),
            "check the IdP's metadata",
        ),
    }
}

fn check_clocks(clocks: &[(String, i64)], report: &mut Report) {
    let now = crate::now();
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

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Signs the Response the hub would send `user` for their Connect application with the hub's key,
/// posts it to the sign-in endpoint and follows the chain to the agent workspace.
async fn simulate_user(parties: &Parties, apps: &[AwsApp], user: &str, report: &mut Report) -> bool {
    let subject = format!("simulate {user}");
    let Some(dir) = &parties.hub_data_dir else {
        report.fail(
            "simulate",
            &subject,
            "the hub's signing key is needed",
            "give --hub-data-dir (or --demo-data-dir)",
        );
        return false;
    };
    match simulate(parties, apps, user, dir, report).await {
        Ok(walked) => walked,
        Err(e) => {
            report.fail("simulate", &subject, format!("{e:#}"), "see the links above");
            false
        }
    }
}

async fn simulate(parties: &Parties, apps: &[AwsApp], user: &str, dir: &Path, report: &mut Report) -> Result<bool> {
    let subject = format!("simulate {user}");
    if !dir.join("signing.key").exists() {
        bail!("no signing key in {}", dir.display());
    }
    let key = crossfed_hub::keys::load_or_create(dir, "crossfed hub").map_err(anyhow::Error::msg)?;
    let record = parties.hub.call(Method::GET, &format!("/api/v1/users/{}", segment(user)), None).await?;
    let mut chosen = None;
    for app in apps.iter().filter(|a| a.instance_id.is_some()) {
        let path = format!("/api/v1/applications/{}/preview", segment(&app.id));
        let preview = parties.hub.call(Method::POST, &path, Some(json!({"user": user}))).await?;
        if preview.get("assigned") == Some(&Value::Bool(true)) {
            chosen = Some(app);
            break;
        }
    }
    let Some(app) = chosen else {
        report.fail(
            "simulate",
            &subject,
            format!("{user} is assigned to no Amazon Connect application"),
            format!("crossfed assign APP --user {user}"),
        );
        return Ok(false);
    };
    let mut spec: crossfed_hub::applications::ApplicationSpec =
        serde_json::from_value(app.view.get("definition").cloned().unwrap_or(Value::Null))
            .context("the application's definition")?;
    // The connector's secret is never shown and launches do not need it.
    if let Some(c) = spec.amazon_connect.as_mut() {
        c.provisioning = None;
    }
    let compiled = spec.compile(&app.id).map_err(anyhow::Error::msg)?;
    let strings = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_string);
    let values = crossfed_hub::mapping::UserValues {
        subject: text(&record, "id").to_string(),
        user_name: text(&record, "user_name").to_string(),
        email: record.pointer("/emails/0/value").and_then(Value::as_str).map(str::to_string),
        given_name: strings("given_name"),
        family_name: strings("family_name"),
        display_name: strings("display_name"),
        external_id: strings("external_id"),
        groups: record
            .get("groups")
            .and_then(Value::as_array)
            .map(|g| g.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default(),
        attributes: serde_json::from_value(record.get("attributes").cloned().unwrap_or(json!({}))).unwrap_or_default(),
    };
    let now = crossfed_saml::Instant::now();
    let issuer = text(&app.view, "entity_id").to_string();
    let launch = crossfed_hub::launch::Launch {
        issuer: &issuer,
        in_response_to: None,
        authn_instant: now,
        session_index: "_check",
    };
    let built = crossfed_hub::launch::build_launch_response(&compiled, &launch, &values, &key, now)
        .map_err(|e| anyhow::anyhow!("building {user}'s assertion: {e}"))?;
    let roles = built.xml.contains(ROLE_ATTRIBUTE);
    report.pass(
        "simulate",
        &subject,
        format!(
            "the hub's Response for {} is signed (assertion {}{})",
            app.id,
            built.assertion_id,
            if roles { ", with its Role" } else { "" }
        ),
    );
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(built.xml.as_bytes());
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let mut form = vec![("SAMLResponse", encoded)];
    if let Some(relay) = &compiled.relay_state {
        form.push(("RelayState", relay.clone()));
    }
    let landed = client
        .post(&compiled.acs_url)
        .form(&form)
        .send()
        .await
        .with_context(|| format!("posting to {}", compiled.acs_url))?;
    let status = landed.status();
    let url = landed.url().to_string();
    let page = landed.text().await.unwrap_or_default();
    if status.is_success() && page.contains("Agent workspace") {
        report.pass("simulate", &subject, format!("signed in to AWS, federated into Connect, landed on {url}"));
        Ok(true)
    } else {
        let reason = page
            .split("id=\"message\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .map(unescape)
            .unwrap_or_else(|| format!("HTTP {status} at {url}"));
        report.fail("simulate", &subject, format!("stopped at {url}: {reason}"), "see the broken links above");
        Ok(false)
    }
}
