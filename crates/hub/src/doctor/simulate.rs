//! One person walked through the chain without a browser: the Response the hub would send them
//! for their Connect application, signed with the hub's key, posted to the account's sign-in
//! endpoint and followed through the federate URL to the agent workspace.

use base64::Engine;
use serde_json::{Value, json};

use super::{AwsApp, HubView, Report, aws_app, text};
use crate::catalog::ROLE_ATTRIBUTE;

/// Walks `user` through the chain, adding what happened to `report`; true when they reached the
/// agent workspace.
pub async fn simulate<H: HubView>(hub: &H, user: &str, report: &mut Report) -> bool {
    let subject = format!("simulate {user}");
    match walk(hub, user, &subject, report).await {
        Ok(walked) => walked,
        Err(e) => {
            report.fail("simulate", &subject, e, "see the links above");
            false
        }
    }
}

fn user_values(record: &Value) -> crate::mapping::UserValues {
    let strings = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_string);
    crate::mapping::UserValues {
        subject: text(record, "id").to_string(),
        user_name: text(record, "user_name").to_string(),
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
    }
}

async fn walk<H: HubView>(hub: &H, user: &str, subject: &str, report: &mut Report) -> Result<bool, String> {
    let key = hub.signing_key()?;
    let record = hub.user(user).await?;
    let apps: Vec<AwsApp> = hub.applications().await?.iter().filter_map(aws_app).collect();
    let mut chosen = None;
    for app in apps.iter().filter(|a| a.instance_id.is_some()) {
        let preview = hub.preview(&app.id, user).await?;
        if preview.get("assigned") == Some(&Value::Bool(true)) {
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
    let mut spec: crate::applications::ApplicationSpec =
        serde_json::from_value(app.view.get("definition").cloned().unwrap_or(Value::Null))
            .map_err(|e| format!("the application's definition: {e}"))?;
    // The connector's secret is never shown and launches do not need it.
    if let Some(c) = spec.amazon_connect.as_mut() {
        c.provisioning = None;
    }
    let compiled = spec.compile(&app.id)?;
    let now = crossfed_saml::Instant::now();
    let issuer = text(&app.view, "entity_id").to_string();
    let launch =
        crate::launch::Launch { issuer: &issuer, in_response_to: None, authn_instant: now, session_index: "_check" };
    let built = crate::launch::build_launch_response(&compiled, &launch, &user_values(&record), &key, now)
        .map_err(|e| format!("building {user}'s assertion: {e}"))?;
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
    let client = reqwest::Client::builder().cookie_store(true).build().map_err(|e| e.to_string())?;
    let mut form = vec![("SAMLResponse", encoded)];
    if let Some(relay) = &compiled.relay_state {
        form.push(("RelayState", relay.clone()));
    }
    let landed = client
        .post(&compiled.acs_url)
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("posting to {}: {e}", compiled.acs_url))?;
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
