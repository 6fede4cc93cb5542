//! Outbound provisioning: connectors that keep another system's users in step with this hub's
//! directory — another crossfed's (or any) SCIM endpoint, and Amazon Connect for the users
//! assigned to a Connect application. A background task runs every connector after each
//! directory change and at a fixed interval (the full reconcile that repairs drift); each
//! user's state per connector is kept in the store, visible in the admin API and audited.
//! [`Provisioning`] holds everything the connectors need; it knows nothing of the hub's HTTP side.

pub mod connect;
pub mod context;
pub mod scim_push;

use std::sync::{Arc, Weak};
use std::time::Duration;

use crossfed_clock::Clock;
use crossfed_store::{LeaseStore, Store};

use crate::apps::catalog::CatalogCache;
use crate::audit::Auditor;
use crate::directory::Directory;
use connect::Confirmations;
pub use context::{Context, Schedule};

/// A connector configured in the file (Connect connectors follow the application catalog).
#[derive(Debug)]
pub enum Connector {
    Scim(scim_push::ScimPush),
}

impl Connector {
    pub fn name(&self) -> String {
        match self {
            Connector::Scim(c) => c.connector_name(),
        }
    }

    /// One pass; `full` ignores what earlier passes already pushed. Returns when the next
    /// retry is due, if any user failed.
    async fn run(&self, context: &Context, full: bool) -> Option<i64> {
        match self {
            Connector::Scim(c) => c.run(context, full).await,
        }
    }
}

/// Outbound provisioning: the connectors, when they run, and what they read and record.
#[derive(Debug)]
pub struct Provisioning {
    pub context: Context,
    /// The connectors configured in the file (Connect connectors follow the catalog).
    pub connectors: Vec<Connector>,
    /// What provisioning passes confirmed the Connect instances hold.
    pub connect_confirmations: Confirmations,
    /// Held while a pass runs, so passes in this process never overlap.
    pass: tokio::sync::Mutex<()>,
}

impl Provisioning {
    pub fn new(
        store: Store,
        applications: Arc<CatalogCache>,
        directory: Directory,
        audit: Auditor,
        clock: Clock,
        connectors: Vec<Connector>,
        schedule: Schedule,
    ) -> Self {
        let instance_id = format!("{}-{}", std::process::id(), crossfed_random::hex::<8>());
        Provisioning {
            context: Context { store, applications, directory, audit, clock, schedule, instance_id },
            connectors,
            connect_confirmations: Confirmations::default(),
            pass: tokio::sync::Mutex::new(()),
        }
    }

    /// Runs every connector once now (a full pass), as the admin API's "sync now" and tests do.
    pub async fn run_once(&self) -> Option<i64> {
        let _pass = self.pass.lock().await;
        self.run_all(true).await
    }

    /// Runs every connector once now as a directory change does: what earlier passes confirmed
    /// unchanged is not looked at again.
    pub async fn run_for_changes(&self) -> Option<i64> {
        let _pass = self.pass.lock().await;
        self.run_all(false).await
    }

    /// One pass of every connector: the configured SCIM targets, then each Connect
    /// application's. Returns when the next retry is due, if any user failed.
    async fn run_all(&self, full: bool) -> Option<i64> {
        let context = &self.context;
        let mut next = None;
        for connector in &self.connectors {
            if let Some(_lease) = Lease::take(context, &connector.name()).await {
                next = earliest(next, connector.run(context, full).await);
            }
        }
        for connector in connect::connectors(context).await {
            if let Some(_lease) = Lease::take(context, &connector.connector_name()).await {
                next = earliest(next, connector.run(context, &self.connect_confirmations, full).await);
            }
        }
        next
    }

    /// The names of the connectors a pass runs now.
    pub async fn connector_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.connectors.iter().map(Connector::name).collect();
        names.extend(connect::connectors(&self.context).await.iter().map(connect::ConnectSync::connector_name));
        names
    }

    /// Runs passes until `this` is dropped: after each directory change (a burst of changes
    /// settles into one pass) and a full pass at the interval.
    pub async fn run_forever(this: Weak<Provisioning>) {
        let Some(changed) = this.upgrade().map(|p| p.context.directory.changes()) else { return };
        let mut last_full: Option<i64> = None;
        loop {
            // Listen before the pass, so a change made during it starts another.
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let Some(provisioning) = this.upgrade() else { return };
            let interval = provisioning.context.schedule.interval_seconds.max(1) as i64;
            let started = provisioning.context.now();
            let full = last_full.is_none_or(|at| started - at >= interval);
            if full {
                last_full = Some(started);
            }
            let next_retry = {
                // One pass at a time in this process (the admin API's sync runs one too).
                let _pass = provisioning.pass.lock().await;
                provisioning.run_all(full).await
            };
            let now = provisioning.context.now();
            drop(provisioning);
            let until_full = (last_full.unwrap_or(started) + interval - now).max(1);
            let wait = next_retry.map_or(until_full, |at| (at - now).clamp(1, until_full));
            tokio::select! {
                _ = notified => {
                    // Let a burst of changes (a SCIM client's batch) settle into one pass.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                _ = tokio::time::sleep(Duration::from_secs(wait as u64)) => {}
            }
        }
    }
}

/// How long a connector's lease lasts: longer than any pass should take (a pass that outlives it
/// loses exclusivity). It is released when the pass ends.
const LEASE_SECONDS: i64 = 600;

/// A connector's lease in the store, so that of several hub instances on one database only one
/// runs a connector's pass at a time; the others skip it (the holder does the work).
struct Lease<'a> {
    context: &'a Context,
    name: String,
}

impl<'a> Lease<'a> {
    async fn take(context: &'a Context, connector: &str) -> Option<Lease<'a>> {
        let name = format!("provisioning:{connector}");
        match context.store.try_acquire_lease(&name, &context.instance_id, context.now(), LEASE_SECONDS).await {
            Ok(true) => Some(Lease { context, name }),
            Ok(false) => {
                tracing::debug!("provisioning {connector}: another hub instance is running it");
                None
            }
            Err(e) => {
                tracing::warn!("provisioning {connector}: taking its lease: {e}");
                None
            }
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // Released in the background: Drop cannot wait. Should it fail, the lease expires.
        let store = self.context.store.clone();
        let (name, holder) = (std::mem::take(&mut self.name), self.context.instance_id.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.release_lease(&name, &holder).await {
                    tracing::warn!("releasing {name}: {e}");
                }
            });
        }
    }
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
