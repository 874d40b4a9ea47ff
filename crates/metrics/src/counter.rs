//! roomcast's hot-path counters as Prometheus counters: a [`Tally`] of this exporter's own, and
//! the server's [`Traffic`].

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};
use roomcast::{Tally, Traffic};

/// A counter of the hot path: per-thread slots, summed when scraped.
#[derive(Debug, Default, Clone)]
pub(crate) struct ShardedCounter(Tally);

impl ShardedCounter {
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
    EventsSent,
    /// Events' and acknowledgements' bytes.
    BytesSent,
    AcksSent,
    EventsReceived,
    BytesReceived,
}

/// A count of the server's [`Traffic`], read when scraped.
#[derive(Debug, Clone)]
pub(crate) struct TrafficCounter {
    traffic: Traffic,
    part: Part,
}

impl TrafficCounter {
    pub(crate) fn new(traffic: Traffic, part: Part) -> TrafficCounter {
        TrafficCounter { traffic, part }
    }

    fn get(&self) -> u64 {
        let traffic = &self.traffic;
        match self.part {
            Part::EventsSent => traffic.events_sent(),
            Part::BytesSent => traffic.bytes_sent() + traffic.ack_bytes_sent(),
            Part::AcksSent => traffic.acks_sent(),
            Part::EventsReceived => traffic.events_received(),
            Part::BytesReceived => traffic.bytes_received(),
        }
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
