//! roomcast's [`Tally`] as a Prometheus counter.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};
use roomcast::Tally;

/// A counter of the hot path: per-thread slots, summed when scraped.
#[derive(Debug, Default, Clone)]
pub(crate) struct ShardedCounter(Tally);

impl ShardedCounter {
    /// Adds `n`.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.add(n);
    }

    /// Adds one.
    #[inline]
    pub(crate) fn inc(&self) {
        self.0.inc();
    }
}

impl TypedMetric for ShardedCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for ShardedCounter {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.0.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}
