//! Structured logs (tracing; text or JSON) and Prometheus metrics.
//!
//! Secrets never reach a log line: they travel in [`SecretString`](crate::core::secrets::SecretString)
//! and friends, whose `Debug` prints a placeholder, and request logs record the route and
//! status, never query strings, bodies or headers.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The default filter: Cognate at info, chatty dependencies at warn.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn,hyper=warn";

/// Installs the global subscriber (once per process). `RUST_LOG` overrides the filter.
pub fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

/// One identity provider of one pool.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    pool: String,
    provider: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The node's metrics registry, rendered at `/metrics`.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    metadata_failures: Family<ProviderLabels, Counter>,
    certificate_changes: Family<ProviderLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cognate");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and method",
            latency.clone(),
        );
        let metadata_failures = Family::<ProviderLabels, Counter>::default();
        let certificate_changes = Family::<ProviderLabels, Counter>::default();
        registry.register(
            "saml_metadata_refresh_failures",
            "Refreshes of an IdP's metadata_url that failed or were refused (the last good \
             copy is kept)",
            metadata_failures.clone(),
        );
        registry.register(
            "saml_metadata_certificate_changes",
            "Changes of an IdP's signing certificates picked up from its metadata_url",
            certificate_changes.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            metadata_failures,
            certificate_changes,
        }
    }

    /// Records one finished request. `route` is the matched route template (never the
    /// raw path, which may carry ids or codes).
    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
                method: method.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a refresh of a provider's metadata URL that failed or was refused.
    pub fn metadata_refresh_failed(&self, pool: &str, provider: &str) {
        self.metadata_failures
            .get_or_create(&provider_labels(pool, provider))
            .inc();
    }

    /// Counts a change of a provider's signing certificates taken from its metadata URL.
    pub fn metadata_certificates_changed(&self, pool: &str, provider: &str) {
        self.certificate_changes
            .get_or_create(&provider_labels(pool, provider))
            .inc();
    }

    /// Adds the trigger webhooks' calls, failures and latency ([`crate::core::triggers`]).
    pub fn register_triggers(&self, triggers: &crate::core::triggers::TriggerMetrics) {
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        triggers.register(&mut registry);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

fn provider_labels(pool: &str, provider: &str) -> ProviderLabels {
    ProviderLabels {
        pool: pool.to_string(),
        provider: provider.to_string(),
    }
}
