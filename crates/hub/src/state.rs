//! The hub's state: every service a request handler may use, built once at start
//! ([`crate::bootstrap`]) and shared by the handlers. Services know nothing of HTTP nor of this
//! struct; handlers import it, and only the router imports the handlers.

use std::sync::Arc;

use crossfed_clock::Clock;
use crossfed_saml::Timestamp;
use crossfed_store::{Store, ThrottlePolicy};

use crate::apps::catalog::{Catalog, CatalogCache};
use crate::apps::changes::Applications;
use crate::apps::launch::Launcher;
use crate::apps::model::Application;
use crate::audit::Auditor;
use crate::check::Parties;
use crate::directory::Directory;
use crate::keys::{KeyRing, Keys};
use crate::metrics::Metrics;
use crate::provision::Provisioning;
use crate::refusals::Refusals;
use crate::sessions::{Sessions, UpstreamLogin};
use crate::upstream::IdentitySource;
use crate::upstream::login::UpstreamLogins;
use crate::upstream::refresh::IdpMetadata;

/// Everything the hub's handlers need.
#[derive(Debug)]
pub struct Hub {
    pub store: Store,
    /// The URL people and peers reach the hub at, without a trailing slash.
    pub base_url: String,
    /// The time everything is judged and stamped by (the system clock; tests fix or shift it).
    pub clock: Clock,
    pub sessions: Sessions,
    /// The signing keys of each role, and the certificates each publishes.
    pub keys: Arc<Keys>,
    /// Applications and who is assigned to each, as last read from the store.
    pub applications: Arc<CatalogCache>,
    /// Users, groups and memberships: every change goes through here.
    pub directory: Directory,
    pub audit: Auditor,
    /// Refused requests, on the audit log per client address and kind, a minute at a time.
    pub refusals: Refusals,
    pub throttle: ThrottlePolicy,
    /// When set, people sign in at this IdP instead of the built-in directory.
    pub identity_source: Option<Arc<IdentitySource>>,
    /// Outbound provisioning: its connectors, schedule and state.
    pub provisioning: Arc<Provisioning>,
    /// The target account and IdP metadata the console's chain checks read, when configured.
    pub check_parties: Option<Parties>,
    /// What `/metrics` exposes; the services count through it.
    pub metrics: Arc<Metrics>,
}

impl Hub {
    /// The application catalog, reloaded when it changed in the store (at most one check a second).
    pub async fn catalog(&self) -> Arc<Catalog> {
        self.applications.current(&self.store).await
    }

    /// The IdP entity ID the hub uses toward application `id`.
    pub fn app_entity_id(&self, id: &str) -> String {
        crate::apps::metadata::entity_id(&self.base_url, id)
    }

    /// The time SAML messages are judged and stamped at.
    pub fn saml_now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    /// Signs responses for applications and records the launches.
    pub fn launcher(&self) -> Launcher<'_> {
        Launcher {
            store: &self.store,
            applications: &self.applications,
            directory: &self.directory,
            keys: &self.keys,
            audit: &self.audit,
            clock: &self.clock,
            base_url: &self.base_url,
            metrics: &self.metrics,
        }
    }

    /// The IdP metadata the hub publishes toward application `app` (`id`): the certificates of
    /// the keys that sign for it.
    pub fn app_metadata_xml(&self, id: &str, app: &Application) -> String {
        let published = self.signer_for(id, app).current().published();
        crate::apps::metadata::idp_metadata_xml(&self.base_url, id, published)
    }

    /// The keys that sign for application `app` (`id`): its own when it asks for them (made on
    /// first use), else the assertion keys. An own key that cannot be made is logged and the
    /// assertion keys sign meanwhile, so the application is not cut off.
    pub fn signer_for(&self, id: &str, app: &Application) -> Arc<KeyRing> {
        match self.keys.for_application(id, app.own_key) {
            Ok(ring) => ring,
            Err(e) => {
                tracing::error!("application {id}'s own signing key: {e}; signing with the assertion key meanwhile");
                self.keys.assertion.clone()
            }
        }
    }

    /// The applications, for those who change them (admin API, console).
    pub fn apps(&self) -> Applications<'_> {
        Applications {
            store: &self.store,
            catalog: &self.applications,
            directory: &self.directory,
            audit: &self.audit,
            clock: &self.clock,
        }
    }

    /// Logins at the upstream IdP; `None` with the built-in directory.
    pub fn upstream_logins(&self) -> Option<UpstreamLogins<'_>> {
        Some(UpstreamLogins {
            source: self.identity_source.as_deref()?,
            store: &self.store,
            directory: &self.directory,
            keys: &self.keys.request,
            audit: &self.audit,
            clock: &self.clock,
        })
    }

    /// Each readiness check and whether it passes now: the store answers (its latency timed as
    /// `ping`), the signing certificate is valid, and, with an identity source, its metadata is.
    pub async fn readiness(&self) -> Vec<(&'static str, bool)> {
        let started = std::time::Instant::now();
        let store = self.store.ping().await.is_ok();
        self.metrics.store_timer("ping").observe(started.elapsed());
        let mut checks = vec![
            ("store", store),
            (
                "signing-certificate",
                self.keys.rings().iter().all(|ring| ring.signing_key().certificate().not_after() > self.clock.unix()),
            ),
        ];
        if let Some(source) = &self.identity_source {
            checks.push(("identity-source-metadata", source.idp_certificates(self.saml_now()).is_ok()));
        }
        checks
    }

    /// The names of the readiness checks that fail now.
    pub async fn failing_checks(&self) -> Vec<&'static str> {
        self.readiness().await.into_iter().filter(|(_, passes)| !passes).map(|(check, _)| check).collect()
    }

    /// The upstream IdP's metadata with what keeping it needs; `None` with the built-in directory.
    pub fn idp_metadata(&self) -> Option<IdpMetadata> {
        Some(IdpMetadata {
            source: self.identity_source.clone()?,
            store: self.store.clone(),
            clock: self.clock.clone(),
            audit: self.audit.clone(),
        })
    }

    /// The URL that ends the upstream IdP's session of `upstream`, if its metadata offers that.
    pub async fn upstream_logout_url(&self, upstream: &UpstreamLogin) -> Option<String> {
        let source = self.identity_source.as_deref()?;
        crate::upstream::logout::logout_url(source, &self.store, &self.keys.request, &self.clock, upstream).await
    }
}
