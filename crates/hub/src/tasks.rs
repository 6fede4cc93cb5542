//! The hub's background tasks, started once the hub is built: outbound provisioning after every
//! directory change and at its interval, the identity source's metadata refresh, and the janitor
//! (expired records; key files and uploaded metadata changed through another instance), the
//! summaries of refusals counted a minute at a time, and the warnings of tokens that expire soon
//! (at start and once a day). Each holds the hub weakly and ends once it is dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::provision::Provisioning;
use crate::state::Hub;

/// How often expired records are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// How often a minute's refusal counts are looked at, to be summed up once it is over.
const REFUSAL_SUMMARIES_EVERY: Duration = Duration::from_secs(5);
/// How often the key files and the uploaded metadata are re-read.
const RELOAD_EVERY: Duration = Duration::from_secs(30);
/// How often tokens that expire soon are warned about, after the warning at start.
const TOKEN_WARNINGS_EVERY: Duration = Duration::from_secs(86_400);

/// Starts every background task of `hub`.
pub fn spawn_all(hub: &Arc<Hub>) -> Vec<JoinHandle<()>> {
    let mut tasks =
        vec![spawn_provisioning(hub), spawn_janitor(hub), spawn_refusal_summaries(hub), spawn_token_warnings(hub)];
    tasks.extend(spawn_metadata_refresh(hub));
    tasks
}

/// Provisioning: a pass after each directory change (a burst settles into one) and a full pass
/// at the configured interval. It runs even with no connector configured, as a Connect
/// application with provisioning can be added through the admin API.
pub fn spawn_provisioning(hub: &Arc<Hub>) -> JoinHandle<()> {
    tokio::spawn(Provisioning::run_forever(Arc::downgrade(&hub.provisioning)))
}

/// The summaries of refusals counted in a minute that is over, written soon after it ends.
pub fn spawn_refusal_summaries(hub: &Arc<Hub>) -> JoinHandle<()> {
    let weak = Arc::downgrade(hub);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(REFUSAL_SUMMARIES_EVERY).await;
            let Some(hub) = weak.upgrade() else { return };
            hub.refusals.close_past_minute().await;
        }
    })
}

/// A WARN line for each admin or SCIM token that expires within 30 days, now and once a day,
/// naming the command that rotates it.
pub fn spawn_token_warnings(hub: &Arc<Hub>) -> JoinHandle<()> {
    let weak = Arc::downgrade(hub);
    tokio::spawn(async move {
        loop {
            {
                let Some(hub) = weak.upgrade() else { return };
                if let Err(e) = crate::tokens::warn_of_expiries(&hub.store, &hub.base_url, hub.clock.unix()).await {
                    tracing::warn!("looking for admin and SCIM tokens that expire soon: {e}");
                }
            }
            tokio::time::sleep(TOKEN_WARNINGS_EVERY).await;
        }
    })
}

/// The identity source's metadata refresh, if it has a refresh interval.
pub fn spawn_metadata_refresh(hub: &Arc<Hub>) -> Option<JoinHandle<()>> {
    let every = hub.identity_source.as_ref()?.refresh.as_ref()?.every_seconds.max(1);
    let weak = Arc::downgrade(hub);
    Some(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(every)).await;
            let Some(metadata) = weak.upgrade().and_then(|hub| hub.idp_metadata()) else { return };
            metadata.refresh_audited().await;
        }
    }))
}

/// The janitor: re-reads the signing key files (a rotation made through another instance
/// sharing them reaches this one), adopts identity source metadata uploaded through another
/// instance, and sweeps expired records.
pub fn spawn_janitor(hub: &Arc<Hub>) -> JoinHandle<()> {
    let weak = Arc::downgrade(hub);
    tokio::spawn(async move {
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(RELOAD_EVERY).await;
            let Some(hub) = Weak::upgrade(&weak) else { return };
            reload_shared(&hub).await;
            if last_sweep.elapsed() >= SWEEP_EVERY {
                last_sweep = tokio::time::Instant::now();
                if let Err(e) = crate::janitor::sweep_once(&hub.store, &hub.sessions, hub.clock.unix()).await {
                    tracing::warn!("removing expired sessions: {e}");
                }
            }
        }
    })
}

/// What other instances sharing the key files and the store may have changed.
async fn reload_shared(hub: &Hub) {
    for reloaded in hub.keys.reload() {
        match reloaded {
            Ok(Some(role)) => tracing::info!("the {role} key files changed; signing and publishing the new set"),
            Ok(None) => {}
            Err(e) => tracing::warn!("re-reading the signing keys: {e}"),
        }
    }
    if let Some(metadata) = hub.idp_metadata() {
        match metadata.adopt_upload().await {
            Ok(true) => tracing::info!("trusting the identity source metadata uploaded through another instance"),
            Ok(false) => {}
            Err(e) => tracing::warn!("reading the uploaded identity source metadata: {e}"),
        }
    }
}
