//! Per pool and trigger: calls, failures and latency of webhook calls, registered in the
//! node's `/metrics` registry by [`crate::telemetry::Metrics::register_triggers`].

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::core::model::TriggerKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TriggerLabels {
    pool: String,
    trigger: String,
}

type LatencyFamily = Family<TriggerLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s (three 5 s attempts fit).
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The webhook metrics (shared handles: clones count into the same families).
#[derive(Clone, Debug)]
pub struct TriggerMetrics {
    calls: Family<TriggerLabels, Counter>,
    failures: Family<TriggerLabels, Counter>,
    latency: LatencyFamily,
}

impl Default for TriggerMetrics {
    fn default() -> Self {
        TriggerMetrics {
            calls: Family::default(),
            failures: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        }
    }
}

impl TriggerMetrics {
    /// Counts one event's delivery (all its attempts) and how long it took.
    pub fn observe(&self, pool: &str, kind: TriggerKind, elapsed: Duration, ok: bool) {
        let labels = TriggerLabels {
            pool: pool.to_string(),
            trigger: kind.key().to_string(),
        };
        self.calls.get_or_create(&labels).inc();
        if !ok {
            self.failures.get_or_create(&labels).inc();
        }
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Adds the families to a registry.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "trigger_calls",
            "Trigger webhook calls (one per event, retries included) by pool and trigger",
            self.calls.clone(),
        );
        registry.register(
            "trigger_failures",
            "Trigger webhook calls that failed (after retries) by pool and trigger",
            self.failures.clone(),
        );
        registry.register(
            "trigger_duration_seconds",
            "Trigger webhook call latency (all attempts) by pool and trigger",
            self.latency.clone(),
        );
    }
}
