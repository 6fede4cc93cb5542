//! The coordinated rollover behind `crossfed keys rollover`: one call advances a role as far as
//! is safe now and says what is left. For the keys AWS accounts trust, every IAM SAML provider
//! that trusts the hub is updated to list the current and the next certificate, each account is
//! verified with a real AssumeRoleWithSAML signed by the next key, the next key is activated, and
//! once every instance has followed, the old certificate is removed from each provider and the
//! previous key retired. Each call starts from what it finds (the key files, each provider's
//! certificates), so an interrupted rollover is resumed by calling again; a dry run only reads.

use crossfed_store::Outcome;
use crossfed_xmldsig::{Certificate, SigningKey};
use serde::Serialize;

use super::peers::{Provider, aws_providers, provider_certificates, short, target_for};
use super::{Rollover, RolloverError, SETTLE_SECONDS, Trust};
use crate::apps::catalog::CatalogEntry;
use crate::keys::{KeyRole, RolloverStage};

/// A role activated this recently is not rolled over again unless asked.
const RECENT_SECONDS: i64 = 86_400;

/// What happened at one account's SAML provider.
#[derive(Debug, Clone, Serialize)]
pub struct AccountReport {
    pub account: String,
    pub provider: String,
    pub application: String,
    /// The certificates it listed when read (short fingerprints).
    pub trusted: Vec<String>,
    /// What was done (or, in a dry run, would be done).
    pub action: String,
    /// The AssumeRoleWithSAML check: the role session it reached, or why it failed.
    pub verified: Option<Result<String, String>>,
}

/// One call's report.
#[derive(Debug, Clone, Serialize)]
pub struct RolloverReport {
    pub role: String,
    pub dry_run: bool,
    pub stage: RolloverStage,
    /// The steps taken, in order.
    pub steps: Vec<String>,
    pub accounts: Vec<AccountReport>,
    pub warnings: Vec<String>,
    /// The rollover is complete: one key, trusted everywhere the hub can see.
    pub done: bool,
    /// Who asked, for the audit records of the providers' updates.
    #[serde(skip)]
    pub actor: String,
    /// Call again after this many seconds (instances are still following an activation).
    pub wait_seconds: Option<i64>,
    /// Why the rollover cannot go on now, and what a person must do.
    pub blocked: Option<String>,
}

impl Rollover<'_> {
    /// Advances `role`'s rollover as far as is safe now (nothing changes when `dry_run`). A
    /// role rolled over less than a day ago starts another only when asked `again`: calling
    /// again after a rollover finished (an answer lost on the way) must not start a new one.
    pub async fn advance(
        &self,
        role: &KeyRole,
        actor: &str,
        dry_run: bool,
        again: bool,
    ) -> Result<RolloverReport, RolloverError> {
        let ring = self.ring(role).await?;
        let mut report = RolloverReport {
            role: role.name(),
            dry_run,
            stage: ring.current().stage(),
            steps: Vec::new(),
            accounts: Vec::new(),
            warnings: Vec::new(),
            done: false,
            wait_seconds: None,
            blocked: None,
            actor: actor.to_string(),
        };
        let recent = ring.current().activated_at.filter(|t| self.hub.clock.unix() - t < RECENT_SECONDS);
        if report.stage == RolloverStage::Steady && recent.is_some() && !again {
            report.steps.push("rolled over less than a day ago; ask again to start another".into());
            report.done = true;
            return Ok(report);
        }
        if report.stage == RolloverStage::Steady {
            if dry_run {
                report.steps.push("would stage a next key".into());
                return Ok(report);
            }
            let staged = self.stage(role, actor).await?;
            report.steps.push(format!("staged the next key {}", staged.certificate.short()));
        }
        if ring.current().stage() == RolloverStage::Staged {
            self.publish_and_verify(role, &mut report).await?;
            if report.blocked.is_some() || dry_run {
                report.stage = ring.current().stage();
                return Ok(report);
            }
            let activated = self.activate(role, actor, false).await?;
            report.warnings.extend(activated.warnings);
            report.steps.push(format!("activated the key {}", activated.certificate.short()));
        }
        let keys = ring.current();
        let since = self.hub.clock.unix() - keys.activated_at.unwrap_or(0);
        if since < SETTLE_SECONDS {
            report.wait_seconds = Some(SETTLE_SECONDS - since);
            report.stage = keys.stage();
            return Ok(report);
        }
        self.remove_previous(role, &mut report).await?;
        if report.blocked.is_none() && !dry_run && ring.current().previous.is_some() {
            let retired = self.retire(role, actor).await?;
            report.steps.push(format!("retired the previous key {}", retired.certificate.short()));
        }
        report.stage = ring.current().stage();
        report.done = report.blocked.is_none() && report.stage == RolloverStage::Steady;
        Ok(report)
    }

    /// With a staged key: every provider lists current and next, each checked with the next
    /// key; for the request role, the identity source must accept the next key.
    async fn publish_and_verify(&self, role: &KeyRole, report: &mut RolloverReport) -> Result<(), RolloverError> {
        let ring = self.ring(role).await?;
        let keys = ring.current();
        let Some(next) = keys.next.clone() else { return Ok(()) };
        let wanted = [keys.current.certificate().clone(), next.certificate().clone()];
        let mut problems = Vec::new();
        for peer in self.peers(role).await? {
            if peer.peer.starts_with("account ") {
                continue;
            }
            match peer.next {
                Some(Trust::No(why)) => problems.push(format!("{} does not trust the next key yet: {why}", peer.peer)),
                Some(Trust::Unknown(why)) => report.warnings.push(format!("{}: {why}", peer.peer)),
                _ => {}
            }
        }
        problems.extend(self.sync_providers(role, &wanted, &next, report).await?);
        if !problems.is_empty() {
            report.blocked = Some(problems.join("; "));
        }
        Ok(())
    }

    /// After the settle time: every provider lists the current certificate only, checked with
    /// the current key.
    async fn remove_previous(&self, role: &KeyRole, report: &mut RolloverReport) -> Result<(), RolloverError> {
        let ring = self.ring(role).await?;
        let keys = ring.current();
        let wanted = [keys.current.certificate().clone()];
        let problems = self.sync_providers(role, &wanted, &keys.current, report).await?;
        if !problems.is_empty() {
            report.blocked = Some(problems.join("; "));
        }
        Ok(())
    }

    /// Makes every provider of every AWS application `role` signs for list exactly `wanted`,
    /// each checked with `key`; what failed, per account.
    async fn sync_providers(
        &self,
        role: &KeyRole,
        wanted: &[Certificate],
        key: &SigningKey,
        report: &mut RolloverReport,
    ) -> Result<Vec<String>, RolloverError> {
        let mut problems = Vec::new();
        for (id, entry) in self.entries_signed_by(role).await? {
            for provider in aws_providers(&entry) {
                let account_report = self.sync_provider(&id, &entry, &provider, wanted, key, report).await;
                if let Some(Err(why)) = &account_report.verified {
                    problems.push(format!("account {}: {why}", provider.account));
                }
                report.accounts.push(account_report);
            }
        }
        Ok(problems)
    }

    /// The applications `role`'s keys sign for.
    async fn entries_signed_by(&self, role: &KeyRole) -> Result<Vec<(String, CatalogEntry)>, RolloverError> {
        let catalog = self.hub.apps().fresh().await.map_err(|e| RolloverError::Task(e.to_string()))?;
        Ok(catalog
            .entries
            .iter()
            .filter(|(id, entry)| match role {
                KeyRole::Request => false,
                KeyRole::Assertion => !entry.app.own_key,
                KeyRole::Application(own) => own == *id,
            })
            .map(|(id, entry)| (id.clone(), entry.clone()))
            .collect())
    }

    /// Makes one provider list exactly `wanted` (the application's IdP metadata with them), then
    /// checks it with an AssumeRoleWithSAML signed by `key`.
    async fn sync_provider(
        &self,
        id: &str,
        entry: &CatalogEntry,
        provider: &Provider,
        wanted: &[Certificate],
        key: &SigningKey,
        asked: &RolloverReport,
    ) -> AccountReport {
        let mut report = AccountReport {
            account: provider.account.clone(),
            provider: provider.name.clone(),
            application: id.to_string(),
            trusted: Vec::new(),
            action: String::new(),
            verified: None,
        };
        let read = match target_for(self.hub, &provider.account).await {
            Ok(access) => provider_certificates(self.hub, &access, provider).await.map(|trusted| (access, trusted)),
            Err(e) => Err(e),
        };
        let (access, trusted) = match read {
            Ok(read) => read,
            Err(e) => {
                report.action = "none".into();
                report.verified = Some(Err(e));
                return report;
            }
        };
        report.trusted = trusted.iter().map(short).collect();
        let same = trusted.len() == wanted.len()
            && wanted.iter().all(|w| trusted.iter().any(|t| t.fingerprint_hex() == w.fingerprint_hex()));
        if same {
            report.action = "already lists exactly the wanted certificates".into();
        } else if asked.dry_run {
            report.action = format!("would list {}", wanted.iter().map(short).collect::<Vec<_>>().join(" and "));
            return report;
        } else {
            let metadata = crate::apps::metadata::idp_metadata_xml(&self.hub.base_url, id, wanted.to_vec());
            if let Err(e) = super::verify::update_provider(self.hub, &access, provider, &metadata).await {
                report.action = "update refused".into();
                report.verified = Some(Err(e));
                return report;
            }
            report.action = format!("now lists {}", wanted.iter().map(short).collect::<Vec<_>>().join(" and "));
            // Which certificates an account trusts is a change to the federation: on the audit
            // log like the key steps, and not acknowledged unless recorded.
            let target = format!("{}/{}", provider.account, provider.name);
            let audited = self.hub.audit.record(
                &asked.actor,
                "keys.provider_update",
                Some(&target),
                Outcome::Success,
                report.action.clone(),
            );
            if let Err(e) = audited.await {
                report.verified =
                    Some(Err(format!("the update was made but its audit record could not be stored ({e})")));
                return report;
            }
        }
        if asked.dry_run {
            return report;
        }
        report.verified = Some(super::verify::assume_role(self.hub, &access, id, entry, provider, key).await);
        report
    }
}
