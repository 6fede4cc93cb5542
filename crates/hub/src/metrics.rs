//! The hub's Prometheus metrics: one registry, and small typed handles through which the services
//! count what they do (sign-ins, launches, SCIM operations, store latency) without knowing of
//! HTTP or of Prometheus's types. What is a state rather than an event (certificate and token
//! expiry, provisioning, readiness, the audit queue) is set from a [`Snapshot`] taken when
//! Prometheus scrapes. Labels are bounded: application ids come from the catalog, connectors and
//! token names from the configuration and the administrators, never from people or requests.

use std::sync::Mutex;
use std::time::Duration;

use crossfed_web::metrics::HttpMetrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Upper bounds of the store latency buckets, in seconds.
const STORE_BUCKETS: [f64; 13] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 3.0];

/// How a person signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// The built-in directory's form.
    Directory,
    /// A SAML answer of the identity source.
    Saml,
}

impl SignInMethod {
    fn label(self) -> &'static str {
        match self {
            SignInMethod::Directory => "directory",
            SignInMethod::Saml => "saml",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    method: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LaunchLabels {
    application: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScimLabels {
    resource: &'static str,
    operation: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CertificateLabels {
    certificate: String,
    sha256: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MetadataLabels {
    metadata: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    purpose: String,
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProvisioningLabels {
    connector: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    check: &'static str,
}

fn store_histogram() -> Histogram {
    Histogram::new(STORE_BUCKETS)
}

/// Times one kind of store operation; cheap to clone, and to use from any thread.
#[derive(Clone, Debug)]
pub struct StoreTimer(Histogram);

impl StoreTimer {
    /// A timer whose observations go nowhere (a queue started without metrics).
    pub fn unregistered() -> StoreTimer {
        StoreTimer(store_histogram())
    }

    pub fn observe(&self, took: Duration) {
        self.0.observe(took.as_secs_f64());
    }
}

/// A certificate's expiry, as the snapshot gives it.
#[derive(Debug, Clone)]
pub struct CertificateExpiry {
    /// The key role (`request`, `assertion`, `assertion:APP`), with `_next` for a staged key,
    /// or `identity_source`.
    pub certificate: String,
    pub sha256: String,
    pub seconds: i64,
}

/// The states the hub is in when Prometheus scrapes it, gathered by the `/metrics` handler.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Each readiness check and whether it passes.
    pub readiness: Vec<(&'static str, bool)>,
    /// Audit records queued and not yet stored.
    pub audit_queue_depth: usize,
    pub certificates: Vec<CertificateExpiry>,
    /// Seconds until the identity source's metadata expires (its validUntil), when it says.
    pub identity_source_metadata: Option<i64>,
    /// Seconds until each expiring live token expires: purpose, name, seconds.
    pub tokens: Vec<(String, String, i64)>,
    /// Subjects per connector and state (every state of every connector, zeros included).
    pub provisioning: Vec<(String, &'static str, i64)>,
}

/// The hub's registry and its series.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests and refusals of the hub's listener.
    pub http: HttpMetrics,
    sign_ins: Family<SignInLabels, Counter>,
    launches: Family<LaunchLabels, Counter>,
    scim_operations: Family<ScimLabels, Counter>,
    store_durations: Family<StoreLabels, Histogram, fn() -> Histogram>,
    ready: Family<CheckLabels, Gauge>,
    audit_queue_depth: Gauge,
    certificate_expiry: Family<CertificateLabels, Gauge>,
    metadata_expiry: Family<MetadataLabels, Gauge>,
    token_expiry: Family<TokenLabels, Gauge>,
    provisioning: Family<ProvisioningLabels, Gauge>,
    /// Held while a snapshot is applied and encoded, so two scrapes do not mix theirs.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("crossfed");
        let http = HttpMetrics::register(&mut registry);
        let metrics = Metrics {
            http,
            sign_ins: Family::default(),
            launches: Family::default(),
            scim_operations: Family::default(),
            store_durations: Family::new_with_constructor(store_histogram),
            ready: Family::default(),
            audit_queue_depth: Gauge::default(),
            certificate_expiry: Family::default(),
            metadata_expiry: Family::default(),
            token_expiry: Family::default(),
            provisioning: Family::default(),
            scrape: Mutex::new(()),
            registry: Registry::default(),
        };
        metrics.register_all(registry)
    }

    fn register_all(mut self, mut r: Registry) -> Metrics {
        r.register("sign_ins", "Sign-in attempts at the portal, by method and outcome", self.sign_ins.clone());
        r.register(
            "launches",
            "Launches (signed Responses for applications), by application and outcome",
            self.launches.clone(),
        );
        r.register(
            "scim_operations",
            "SCIM operations on users and groups, by resource, operation and status",
            self.scim_operations.clone(),
        );
        let store = self.store_durations.clone();
        r.register_with_unit(
            "store_operation_duration",
            "Time of store operations, by operation",
            Unit::Seconds,
            store,
        );
        r.register("ready", "Readiness checks: 1 passes, 0 fails (as /readyz)", self.ready.clone());
        r.register("audit_queue_depth", "Audit records queued and not yet stored", self.audit_queue_depth.clone());
        let certificates = self.certificate_expiry.clone();
        r.register("certificate_expiry_seconds", "Seconds until a certificate's notAfter", certificates);
        r.register(
            "metadata_expiry_seconds",
            "Seconds until the identity source's metadata expires",
            self.metadata_expiry.clone(),
        );
        r.register(
            "token_expiry_seconds",
            "Seconds until an expiring admin or SCIM token expires",
            self.token_expiry.clone(),
        );
        r.register(
            "provisioning_subjects",
            "Users and groups per provisioning connector and state",
            self.provisioning.clone(),
        );
        self.registry = r;
        // Sign-ins are few: every series from the start, so rates and alerts see zeros, not nothing.
        for method in [SignInMethod::Directory, SignInMethod::Saml] {
            for succeeded in [true, false] {
                let labels = SignInLabels { method: method.label(), outcome: outcome(succeeded) };
                let _ = self.sign_ins.get_or_create(&labels);
            }
        }
        self
    }

    /// Counts a sign-in attempt.
    pub fn sign_in(&self, method: SignInMethod, succeeded: bool) {
        self.sign_ins.get_or_create(&SignInLabels { method: method.label(), outcome: outcome(succeeded) }).inc();
    }

    /// Counts a launch of `application` (an id of the catalog, or `(unknown)`) that ended with
    /// `outcome` (`success`, or why it was refused).
    pub fn launch(&self, application: &str, outcome: &'static str) {
        self.launches.get_or_create(&LaunchLabels { application: application.to_string(), outcome }).inc();
    }

    /// Counts a SCIM operation answered with `status`.
    pub fn scim_operation(&self, resource: &'static str, operation: &'static str, status: u16) {
        self.scim_operations.get_or_create(&ScimLabels { resource, operation, status }).inc();
    }

    /// The timer of store operation `operation`.
    pub fn store_timer(&self, operation: &'static str) -> StoreTimer {
        StoreTimer(self.store_durations.get_or_create_owned(&StoreLabels { operation }))
    }

    /// The exposition text with the states of `snapshot`.
    pub fn render(&self, snapshot: &Snapshot) -> Result<String, std::fmt::Error> {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.apply(snapshot);
        crossfed_web::metrics::encode(&self.registry)
    }

    /// Sets the gauges to `snapshot`; series that are gone (a revoked token) go with it.
    fn apply(&self, snapshot: &Snapshot) {
        self.ready.clear();
        for (check, passes) in &snapshot.readiness {
            self.ready.get_or_create(&CheckLabels { check }).set(i64::from(*passes));
        }
        self.audit_queue_depth.set(i64::try_from(snapshot.audit_queue_depth).unwrap_or(i64::MAX));
        self.certificate_expiry.clear();
        for c in &snapshot.certificates {
            let labels = CertificateLabels { certificate: c.certificate.clone(), sha256: c.sha256.clone() };
            self.certificate_expiry.get_or_create(&labels).set(c.seconds);
        }
        self.metadata_expiry.clear();
        if let Some(seconds) = snapshot.identity_source_metadata {
            self.metadata_expiry.get_or_create(&MetadataLabels { metadata: "identity_source" }).set(seconds);
        }
        self.token_expiry.clear();
        for (purpose, name, seconds) in &snapshot.tokens {
            self.token_expiry
                .get_or_create(&TokenLabels { purpose: purpose.clone(), name: name.clone() })
                .set(*seconds);
        }
        self.provisioning.clear();
        for (connector, state, count) in &snapshot.provisioning {
            self.provisioning.get_or_create(&ProvisioningLabels { connector: connector.clone(), state }).set(*count);
        }
    }
}

fn outcome(succeeded: bool) -> &'static str {
    if succeeded { "success" } else { "failure" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_a_snapshot_are_exposed() {
        let metrics = Metrics::new();
        metrics.sign_in(SignInMethod::Saml, true);
        metrics.launch("wiki", "success");
        metrics.scim_operation("User", "create", 201);
        metrics.store_timer("audit_commit").observe(Duration::from_millis(2));
        let snapshot = Snapshot {
            readiness: vec![("store", true), ("signing-certificate", false)],
            audit_queue_depth: 3,
            certificates: vec![CertificateExpiry {
                certificate: "assertion".into(),
                sha256: "ab".into(),
                seconds: 86_400,
            }],
            identity_source_metadata: Some(60),
            tokens: vec![("scim".into(), "entra".into(), 3_600)],
            provisioning: vec![("scim:peer".into(), "failed", 2)],
        };
        let text = metrics.render(&snapshot).unwrap();
        for line in [
            "crossfed_sign_ins_total{method=\"saml\",outcome=\"success\"} 1",
            "crossfed_sign_ins_total{method=\"directory\",outcome=\"failure\"} 0",
            "crossfed_launches_total{application=\"wiki\",outcome=\"success\"} 1",
            "crossfed_scim_operations_total{resource=\"User\",operation=\"create\",status=\"201\"} 1",
            "crossfed_store_operation_duration_seconds_count{operation=\"audit_commit\"} 1",
            "crossfed_ready{check=\"signing-certificate\"} 0",
            "crossfed_audit_queue_depth 3",
            "crossfed_certificate_expiry_seconds{certificate=\"assertion\",sha256=\"ab\"} 86400",
            "crossfed_metadata_expiry_seconds{metadata=\"identity_source\"} 60",
            "crossfed_token_expiry_seconds{purpose=\"scim\",name=\"entra\"} 3600",
            "crossfed_provisioning_subjects{connector=\"scim:peer\",state=\"failed\"} 2",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        // A token revoked since the last scrape is gone from the next.
        let text = metrics.render(&Snapshot::default()).unwrap();
        assert!(!text.contains("name=\"entra\""), "{text}");
    }
}
