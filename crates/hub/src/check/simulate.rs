//! One person walked through the chain without a browser: the Response the hub would send them
//! for their Connect application, signed with the hub's key, posted to the account's sign-in
//! endpoint and followed through the federate URL to the agent workspace.

use base64::Engine;
use crossfed_clock::Clock;
use crossfed_saml::Timestamp;

use super::model::{AwsApp, HubView, ReadError, Report, aws_app};
use crate::apps::launch::{Launch, LaunchError, build_launch_response};
use crate::apps::model::ROLE_ATTRIBUTE;
use crate::apps::spec::SpecError;

/// Walks `user` through the chain at `clock`'s time, adding what happened to `report`; true when
/// they reached the agent workspace.
pub async fn simulate<H: HubView>(hub: &H, user: &str, clock: &Clock, report: &mut Report) -> bool {
    let now = clock.unix();
    let subject = format!("simulate {user}");
    match walk(hub, user, &subject, now, report).await {
        Ok(walked) => walked,
        Err(e) => {
            report.fail("simulate", &subject, e.to_string(), "see the links above");
            false
        }
    }
}

/// Why a simulated sign-in stopped before reaching the account.
#[derive(Debug, thiserror::Error)]
enum Stopped {
    #[error(transparent)]
    Hub(#[from] ReadError),
    #[error(transparent)]
    Application(#[from] SpecError),
    #[error("{0} is not a time")]
    Time(i64),
    #[error("building {user}'s assertion: {source}")]
    Assertion { user: String, source: LaunchError },
    #[error("posting to {url}: {reason}")]
    Post { url: String, reason: String },
}

async fn walk<H: HubView>(hub: &H, user: &str, subject: &str, now: i64, report: &mut Report) -> Result<bool, Stopped> {
    let record = hub.user(user).await?;
    let apps: Vec<AwsApp> = hub.applications().await?.iter().filter_map(aws_app).collect();
    let mut chosen = None;
    for app in apps.iter().filter(|a| a.instance_id.is_some()) {
        if hub.preview(&app.id, user).await?.assigned {
            chosen = Some(app);
            break;
        }
    }
    let Some(app) = chosen else {
        report.fail(
            "simulate",
            subject,
            format!("{user} is assigned to no Amazon Connect application"),
            format!("crossfed assign APP --user {user}"),
        );
        return Ok(false);
    };
    let key = hub.signing_key(&app.view)?;
    let mut spec = app.view.definition.clone();
    // The connector's secret is never shown and launches do not need it.
    if let Some(c) = spec.amazon_connect.as_mut() {
        c.provisioning = None;
    }
    let compiled = spec.compile(&app.id)?;
    let now = Timestamp::from_unix(now).ok_or(Stopped::Time(now))?;
    let launch =
        Launch { issuer: &app.view.entity_id, in_response_to: None, authn_instant: now, session_index: "_check" };
    let built = build_launch_response(&compiled, &launch, &record.values(), &key, now)
        .map_err(|source| Stopped::Assertion { user: user.to_string(), source })?;
    let roles = built.xml.contains(ROLE_ATTRIBUTE);
    report.pass(
        "simulate",
        subject,
        format!(
            "the hub's Response for {} is signed (assertion {}{})",
            app.id,
            built.assertion_id,
            if roles { ", with its Role" } else { "" }
        ),
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(built.xml.as_bytes());
    let posting = |reason: String| Stopped::Post { url: compiled.acs_url.clone(), reason };
    let client = reqwest::Client::builder().cookie_store(true).build().map_err(|e| posting(e.to_string()))?;
    let mut form = vec![("SAMLResponse", encoded)];
    if let Some(relay) = &compiled.relay_state {
        form.push(("RelayState", relay.clone()));
    }
    let landed = client.post(&compiled.acs_url).form(&form).send().await.map_err(|e| posting(e.to_string()))?;
    let status = landed.status();
    let url = landed.url().to_string();
    let page = landed.text().await.unwrap_or_default();
    if status.is_success() && page.contains("Agent workspace") {
        report.pass("simulate", subject, format!("signed in to AWS, federated into Connect, landed on {url}"));
        Ok(true)
    } else {
        let reason = page
            .split("id=\"message\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .map(crossfed_saml::html_unescape)
            .unwrap_or_else(|| format!("HTTP {status} at {url}"));
        report.fail("simulate", subject, format!("stopped at {url}: {reason}"), "see the broken links above");
        Ok(false)
    }
}
