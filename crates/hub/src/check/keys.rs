//! The links of the hub's own keys: each role's certificates with the days they have left, each
//! peer the hub can ask that does not trust the key signing now or a staged next key (activating
//! it would break that peer), and a rollover left half done (a previous key still published
//! after every instance has followed the activation).

use crossfed_xmldsig::Certificate;

use super::model::{AwsApp, Report};
use crate::keys::RolloverStage;
use crate::views::{RoleTrust, Trust};

const THIRTY_DAYS: i64 = 30;

pub(super) fn check_keys(keys: &[RoleTrust], now: i64, report: &mut Report) {
    for entry in keys {
        let role = &entry.role;
        let name = role.role.as_str();
        let rollover = format!("crossfed keys rollover --role {name}");
        for (slot, certificate) in [("signing", Some(&role.current)), ("next", role.next.as_ref())] {
            let Some(c) = certificate else { continue };
            let day = time::OffsetDateTime::from_unix_timestamp(c.not_after)
                .map(|t| t.date().to_string())
                .unwrap_or_default();
            let subject = format!("{name} ({slot})");
            if c.days_left > THIRTY_DAYS {
                report.pass("key-expiry", &subject, format!("valid until {day}, {} days left", c.days_left));
            } else {
                report.fail(
                    "key-expiry",
                    &subject,
                    format!("expires on {day}, {} days left", c.days_left.max(0)),
                    format!("roll the key over before then: {rollover}"),
                );
            }
        }
        // AWS accounts' providers are checked per application, with the check's own keys.
        for peer in entry.peers.iter().filter(|p| !p.peer.starts_with("account ")) {
            check_peer(name, &rollover, &peer.peer, "signing now", &peer.current, report);
            if let Some(next) = &peer.next {
                check_peer(name, &rollover, &peer.peer, "staged next", next, report);
            }
        }
        if role.stage == RolloverStage::Activated && role.retire_after.is_some_and(|t| now >= t) {
            report.fail(
                "key-rollover",
                name,
                "half done: the previous key is still published although every instance signs with the new one",
                format!("finish it (removes the old certificate from AWS accounts, then retires it): {rollover}"),
            );
        } else if role.stage == RolloverStage::Staged {
            report.pass(
                "key-rollover",
                name,
                "a next key is staged and published; activate it once every peer trusts it",
            );
        }
    }
}

fn check_peer(role: &str, rollover: &str, peer: &str, slot: &str, trust: &Trust, report: &mut Report) {
    let subject = format!("{role}: {peer}");
    match trust {
        Trust::Yes => report.pass("key-trust", &subject, format!("trusts the {slot} key")),
        Trust::No(why) => report.fail(
            "key-trust",
            &subject,
            format!("does not trust the {slot} {role} key: {why}"),
            match slot {
                "signing now" => format!("give it the hub's metadata again; sign-in through it fails until then ({rollover} updates AWS accounts)"),
                _ => format!("give it the hub's metadata with the next certificate before activating ({rollover} updates AWS accounts)"),
            },
        ),
        Trust::Unknown(why) => report.pass("key-trust", &subject, format!("cannot tell whether it trusts the {slot} key ({why})")),
    }
}

/// A SAML provider against the rollover of the key that signs for `app`: it must trust a
/// staged next key before activation, and should drop a certificate the hub no longer publishes.
pub(super) fn provider_rollover(
    keys: &[RoleTrust],
    app: &AwsApp,
    provider: &str,
    trusted: &[Certificate],
    report: &mut Report,
) {
    let own = app.view.definition.own_signing_key;
    let wanted = if own { format!("assertion:{}", app.id) } else { "assertion".to_string() };
    let Some(role) = keys.iter().map(|k| &k.role).find(|r| r.role == wanted) else { return };
    let lists = |sha256: &str| trusted.iter().any(|c| c.fingerprint_hex() == sha256);
    let rollover = format!("crossfed keys rollover --role {wanted}");
    if let Some(next) = &role.next {
        if lists(&next.sha256) {
            report.pass(
                "provider-next-certificate",
                &app.id,
                format!("{provider} trusts the staged next {wanted} key"),
            );
        } else {
            report.fail(
                "provider-next-certificate",
                &app.id,
                format!("{provider} does not trust the staged next {wanted} key ({}): activating it would break sign-in to account {}", next.sha256.get(..16).unwrap_or(&next.sha256), app.account_id),
                format!("update the provider with the hub's metadata first: {rollover}"),
            );
        }
    }
    let published: Vec<&str> = [Some(&role.current), role.next.as_ref(), role.previous.as_ref()]
        .into_iter()
        .flatten()
        .map(|c| c.sha256.as_str())
        .collect();
    for stale in trusted.iter().filter(|c| !published.contains(&c.fingerprint_hex().as_str())) {
        report.fail(
            "provider-retired-certificate",
            &app.id,
            format!(
                "{provider} still trusts {}, a certificate the hub no longer publishes (a retired key)",
                stale.fingerprint_hex().get(..16).unwrap_or_default()
            ),
            format!("remove it from the provider: {rollover}, or re-upload the hub's metadata"),
        );
    }
}
