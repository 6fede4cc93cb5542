//! What every listener measures of its HTTP traffic, for Prometheus: a latency histogram by
//! method, route template and status class, and a counter of refusals by their stable kind
//! (the one the request's log line says, [`crate::log`]). Labels are bounded: the route is the
//! template that matched (never the path as sent), an unknown method is `other`, and refusal
//! kinds are a fixed vocabulary. Recording is a hash lookup and an atomic add or a short lock.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of a `/metrics` answer: Prometheus's text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds of the latency buckets, in seconds: a signed launch takes about a millisecond,
/// a store outage is answered within seconds.
const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    kind: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// A listener's HTTP measures; cheap to clone (the clones share the series).
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    durations: Family<RequestLabels, Histogram, fn() -> Histogram>,
    refusals: Family<RefusalLabels, Counter>,
}

impl HttpMetrics {
    /// The measures, registered in `registry` (whose prefix names the program: `crossfed`).
    pub fn register(registry: &mut Registry) -> HttpMetrics {
        let metrics =
            HttpMetrics { durations: Family::new_with_constructor(latency_histogram), refusals: Family::default() };
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by method, route template and status class",
            Unit::Seconds,
            metrics.durations.clone(),
        );
        registry.register(
            "refusals",
            "Answers of status 400 or more, by the refusal's stable kind (the log's `kind`)",
            metrics.refusals.clone(),
        );
        metrics
    }

    /// Records one answered request.
    pub fn answered(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels =
            RequestLabels { method: known_method(method), route: route.to_string(), status: status_class(status) };
        self.durations.get_or_create(&labels).observe(seconds);
    }

    /// Records one refusal of `kind`.
    pub fn refused(&self, kind: &'static str) {
        self.refusals.get_or_create(&RefusalLabels { kind }).inc();
    }
}

/// The method as a label: anyone may send any token as a method, so only the standard ones
/// get their own series.
fn known_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The registry's text, as `/metrics` answers it.
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, registry)?;
    Ok(text)
}

/// The answer of `GET /metrics` carrying `text`.
pub fn exposition(text: String) -> Response {
    let mut response = text.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// The metrics of a listener that measures its HTTP traffic and nothing else (the emulated
/// account's): the registry and its measures.
#[derive(Debug)]
pub struct HttpOnly {
    registry: Registry,
    pub http: HttpMetrics,
}

impl Default for HttpOnly {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("crossfed");
        let http = HttpMetrics::register(&mut registry);
        HttpOnly { registry, http }
    }
}

impl HttpOnly {
    /// The exposition text.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        encode(&self.registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_refusals_are_exposed_with_bounded_labels() {
        let mut registry = Registry::with_prefix("crossfed");
        let metrics = HttpMetrics::register(&mut registry);
        metrics.answered("GET", "/apps/{id}/launch", 200, 0.002);
        metrics.answered("BREW", "(no route)", 405, 0.0001);
        metrics.refused("saml.replay");
        let text = encode(&registry).unwrap();
        assert!(text.contains("# TYPE crossfed_http_request_duration_seconds histogram"), "{text}");
        assert!(
            text.contains(
                "crossfed_http_request_duration_seconds_count{method=\"GET\",route=\"/apps/{id}/launch\",status=\"2xx\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "crossfed_http_request_duration_seconds_count{method=\"other\",route=\"(no route)\",status=\"4xx\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("crossfed_refusals_total{kind=\"saml.replay\"} 1"), "{text}");
    }
}
