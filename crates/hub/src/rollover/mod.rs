//! Key rollover as a service: each role's state, and the steps (stage, activate, retire), each
//! audited and each refusing what would break a peer the hub can ask ([`peers`]). Activation is
//! refused while a peer that can be asked does not trust the next key; peers that cannot be asked
//! are named in a warning. Retiring waits until every instance sharing the key files has followed
//! the activation. The admin API, the console and `crossfed keys` all go through here.

pub mod accounts;
pub mod peers;
mod verify;

use std::sync::Arc;

use crossfed_store::Outcome;
use crossfed_xmldsig::Certificate;
use serde::Serialize;
use thiserror::Error;

use crate::audit_queue::AuditError;
use crate::keys::{KeyError, KeyRing, KeyRole, RolloverStage};
use crate::state::Hub;
pub use crate::views::{KeyCertificateView, PeerTrust, RoleStatus, RoleTrust, Trust};

/// How long after an activation the previous key stays published at least: instances sharing
/// the key files re-read them every 30 seconds (a re-read that meets an activation half done is
/// tried again 30 seconds later), so by then every one signs with the new key.
pub const SETTLE_SECONDS: i64 = 65;

/// Why a step was refused.
#[derive(Debug, Error)]
pub enum RolloverError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("activating would break sign-in: {}", .0.join("; "))]
    PeersNotReady(Vec<String>),
    #[error(
        "the previous {role} key was activated {since} s ago; retire it after {SETTLE_SECONDS} s, once every instance signs with the new key (try again in {wait} s)"
    )]
    TooSoon { role: String, since: i64, wait: i64 },
    #[error("the key change was made but its audit record could not be stored ({0}); it is not acknowledged")]
    Unrecorded(#[from] AuditError),
    #[error(
        "no application {0:?} with a key of its own: give it own_signing_key = true, or roll over the assertion key it signs with"
    )]
    NoOwnKey(String),
    #[error("{0}")]
    Task(String),
}

/// A step done, and what the hub could not verify about it.
#[derive(Debug, Clone, Serialize)]
pub struct StepDone {
    pub role: String,
    pub step: &'static str,
    pub certificate: KeyCertificateView,
    pub warnings: Vec<String>,
}

/// The rollover of the hub's keys.
pub struct Rollover<'a> {
    pub hub: &'a Hub,
}

impl Rollover<'_> {
    /// Every role loaded: request, assertion, then each application's own keys.
    pub async fn status(&self) -> Vec<RoleStatus> {
        self.rings().await.iter().map(|ring| self.role_status(ring)).collect()
    }

    pub fn role_status(&self, ring: &KeyRing) -> RoleStatus {
        let now = self.hub.clock.unix();
        let keys = ring.current();
        let stage = keys.stage();
        let role = ring.role().name();
        let retire_after = keys.previous.as_ref().map(|_| keys.activated_at.unwrap_or(0) + SETTLE_SECONDS);
        let next_step = match stage {
            RolloverStage::Steady => format!("stage a next key: crossfed keys rollover --role {role}"),
            RolloverStage::Staged => format!(
                "let every peer import the next certificate, then activate: crossfed keys rollover --role {role}"
            ),
            RolloverStage::Activated => format!(
                "once peers no longer need the previous certificate, retire it: crossfed keys rollover --role {role}"
            ),
        };
        RoleStatus {
            purpose: ring.role().describe(),
            stage,
            stage_text: stage.describe().to_string(),
            current: KeyCertificateView::of(keys.current.certificate(), now),
            next: keys.next.as_ref().map(|k| KeyCertificateView::of(k.certificate(), now)),
            previous: keys.previous.as_ref().map(|c| KeyCertificateView::of(c, now)),
            activated_at: keys.activated_at,
            retire_after,
            next_step,
            role,
        }
    }

    /// The keys of `role`. An application's own keys exist only for an application that asks
    /// for them (`own_signing_key`); they are made on first use, so a mistyped name makes none.
    pub async fn ring(&self, role: &KeyRole) -> Result<Arc<KeyRing>, RolloverError> {
        if let KeyRole::Application(id) = role {
            let catalog = self.hub.catalog().await;
            if !catalog.get(id).is_some_and(|entry| entry.app.own_key) {
                return Err(RolloverError::NoOwnKey(id.clone()));
            }
        }
        let ring = self.hub.keys.ring(role)?;
        // Decide on the files as they are now: another instance may have taken a step.
        ring.reload()?;
        Ok(ring)
    }

    /// Every role: request, assertion, and each application that has a key of its own now.
    pub async fn rings(&self) -> Vec<Arc<KeyRing>> {
        let mut list = vec![self.hub.keys.request.clone(), self.hub.keys.assertion.clone()];
        let catalog = self.hub.catalog().await;
        for id in catalog.entries.iter().filter(|(_, e)| e.app.own_key).map(|(id, _)| id) {
            match self.hub.keys.ring(&KeyRole::Application(id.clone())) {
                Ok(ring) => list.push(ring),
                Err(e) => tracing::error!("application {id}'s own signing key: {e}"),
            }
        }
        list
    }

    /// Who trusts `role`'s keys, asked now.
    pub async fn peers(&self, role: &KeyRole) -> Result<Vec<PeerTrust>, RolloverError> {
        Ok(peers::peers(self.hub, &*self.ring(role).await?).await)
    }

    /// Stages a next key for `role`: published at once, signing nothing yet.
    pub async fn stage(&self, role: &KeyRole, actor: &str) -> Result<StepDone, RolloverError> {
        let ring = self.ring(role).await?;
        let staged = {
            let ring = ring.clone();
            tokio::task::spawn_blocking(move || ring.stage_next())
                .await
                .map_err(|e| RolloverError::Task(e.to_string()))??
        };
        self.done(role, "stage", &staged, actor, Vec::new()).await
    }

    /// Makes the staged key sign. Refused while a peer the hub can ask does not trust it, unless
    /// `force`; peers it cannot ask are named in the warnings.
    pub async fn activate(&self, role: &KeyRole, actor: &str, force: bool) -> Result<StepDone, RolloverError> {
        let ring = self.ring(role).await?;
        let Some(next) = ring.current().next.as_ref().map(|k| k.certificate().fingerprint_hex()) else {
            return Err(KeyError::NothingStaged { role: role.name() }.into());
        };
        let mut refused = Vec::new();
        let mut warnings = Vec::new();
        for peer in peers::peers(self.hub, &ring).await {
            match peer.next {
                Some(Trust::No(why)) => refused.push(format!("{} does not trust the next key ({why})", peer.peer)),
                Some(Trust::Unknown(why)) => {
                    warnings.push(format!("{}: cannot tell whether it trusts the next key ({why})", peer.peer))
                }
                _ => {}
            }
        }
        if !refused.is_empty() && !force {
            return Err(RolloverError::PeersNotReady(refused));
        }
        warnings.extend(refused.into_iter().map(|r| format!("forced although {r}")));
        // The key whose peers were asked, not one another instance staged meanwhile.
        let activated = ring.activate(Some(&next))?;
        self.done(role, "activate", &activated, actor, warnings).await
    }

    /// Stops publishing the previous key, once every instance has followed the activation.
    pub async fn retire(&self, role: &KeyRole, actor: &str) -> Result<StepDone, RolloverError> {
        let ring = self.ring(role).await?;
        let keys = ring.current();
        if keys.previous.is_some() {
            let since = self.hub.clock.unix() - keys.activated_at.unwrap_or(0);
            if since < SETTLE_SECONDS {
                return Err(RolloverError::TooSoon { role: role.name(), since, wait: SETTLE_SECONDS - since });
            }
        }
        let previous = keys.previous.as_ref().map(Certificate::fingerprint_hex);
        let retired = ring.retire(previous.as_deref())?;
        self.done(role, "retire", &retired, actor, Vec::new()).await
    }

    /// Audits a step (`keys.STEP`, the role as target) and reports it done only once recorded.
    async fn done(
        &self,
        role: &KeyRole,
        step: &'static str,
        certificate: &Certificate,
        actor: &str,
        warnings: Vec<String>,
    ) -> Result<StepDone, RolloverError> {
        let mut detail = format!("certificate {}", certificate.fingerprint_hex());
        for warning in &warnings {
            detail.push_str("; ");
            detail.push_str(warning);
        }
        let action = format!("keys.{step}");
        self.hub.audit.record(actor, &action, Some(&role.name()), Outcome::Success, detail).await?;
        Ok(StepDone {
            role: role.name(),
            step,
            certificate: KeyCertificateView::of(certificate, self.hub.clock.unix()),
            warnings,
        })
    }
}
