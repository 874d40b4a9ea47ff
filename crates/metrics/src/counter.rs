//! roomcast's hot-path counters as Prometheus counters: a [`Tally`] of this exporter's own, and
//! the server's [`Traffic`].

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};
use roomcast::{Tally, Traffic};

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

/// Which count of the server's [`Traffic`] a [`TrafficCounter`] shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    Events,
    Bytes,
}

/// A count of the server's [`Traffic`] (events queued for clients, or their bytes), plus what
/// this exporter adds to it (the bytes of acknowledgements).
#[derive(Debug, Clone)]
pub(crate) struct TrafficCounter {
    traffic: Traffic,
    part: Part,
    own: ShardedCounter,
}

impl TrafficCounter {
    pub(crate) fn new(traffic: Traffic, part: Part) -> TrafficCounter {
        TrafficCounter {
            traffic,
            part,
            own: ShardedCounter::default(),
        }
    }

    /// Adds `n` of this exporter's own.
    pub(crate) fn add(&self, n: u64) {
        self.own.add(n);
    }

    fn get(&self) -> u64 {
        let server = match self.part {
            Part::Events => self.traffic.events_sent(),
            Part::Bytes => self.traffic.bytes_sent(),
        };
        server + self.own.0.get()
    }
}

impl TypedMetric for TrafficCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for TrafficCounter {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}
