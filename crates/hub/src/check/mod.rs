//! The chain check behind `crossfed check` and the console's Checks page: it reads the hub (its
//! applications, users, previews and identity source), the target account through the AWS APIs
//! (IAM, STS, Amazon Connect, SigV4-signed) and the upstream IdP through its metadata, and checks
//! every link of the reference chain, each with the fix when it is broken. `simulate` then walks
//! one person through the chain without a browser.
//!
//! How the hub is read is a trait: the CLI reads a remote hub over its admin API, the console
//! reads the hub it runs in directly. Both give the admin API's typed views ([`crate::views`]),
//! so the checks see the same thing either way.

mod account;
mod keys;
mod model;
mod simulate;
mod targets;

use crossfed_clock::Clock;

use model::{AwsApp, aws_app, certificate_expiry};
pub use model::{Finding, HubView, Parties, ReadError, Report, TargetAccess, fetch, server_date};
pub use simulate::simulate;
pub use targets::{NoTarget, TargetAccounts, target_for_account};

/// Checks every link of the chain for every application that signs people into an AWS account,
/// at `clock`'s time: the parties' clocks are compared with it, and the target account's calls
/// are signed at it.
pub async fn check_chain<H: HubView>(hub: &H, parties: &Parties, clock: &Clock) -> Report {
    let now = clock.unix();
    let mut report = Report::default();
    let listing = match hub.applications().await {
        Ok(list) => list,
        Err(e) => {
            report.fail("hub", "hub", e.to_string(), "start the hub, or check the hub's URL and admin token");
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
    let keys = match hub.keys().await {
        Ok(keys) => keys,
        Err(e) => {
            report.fail("key-trust", "hub", e.to_string(), "check the hub's URL and admin token");
            Vec::new()
        }
    };
    let mut accounts = TargetAccounts::new(&parties.targets, clock);
    for app in &apps {
        let read = account::HubRead { users: &users, keys: &keys };
        account::check_application(hub, &mut accounts, app, &read, clock, &mut report, &mut clocks).await;
    }
    check_identity_source(hub, parties, now, &mut report, &mut clocks).await;
    keys::check_keys(&keys, now, &mut report);
    match hub.token_warnings().await {
        Ok(warnings) if warnings.is_empty() => {
            report.pass("token-expiry", "hub", "no admin or SCIM token expires within 30 days unreplaced")
        }
        Ok(warnings) => {
            for (subject, warning) in warnings {
                report.fail("token-expiry", &subject, warning, "rotate it with an overlap (docs/keys.md#tokens)");
            }
        }
        Err(e) => report.fail("token-expiry", "hub", e.to_string(), "check the hub's URL and admin token"),
    }
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
    let trusted: Vec<&str> = source.certificates.iter().map(|c| c.sha256.as_str()).collect();
    let Some(url) = &parties.idp_metadata_url else {
        report.pass(
            "idp-certificate",
            "hub",
            format!("trusts {} (give the IdP's metadata URL to compare)", source.idp_entity_id),
        );
        return;
    };
    let (xml, date) = match fetch(url).await {
        Ok(m) => m,
        Err(e) => return report.fail("idp-certificate", "hub", e.to_string(), "check the IdP's metadata URL"),
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
        Some(c) if trusted.contains(&c.fingerprint_hex().as_str()) && entity.entity_id == source.idp_entity_id => {
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
