//! Per-socket limits: how many rooms a socket may be in, how many acknowledgements it may owe,
//! and how many events per second it may send (a token bucket).

use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// Bounds on what one socket may hold or send ([`ServerOptions::socket_limits`]). Node has none
/// of them; each is off (`None`) by default.
///
/// ```
/// use roomcast::{EventRate, OverRate, ServerOptions};
///
/// let mut options = ServerOptions::default();
/// options.socket_limits.max_rooms = Some(100);
/// options.socket_limits.max_pending_acks = Some(1_000);
/// options.socket_limits.event_rate = Some(EventRate::new(50, 200, OverRate::Drop));
/// ```
///
/// [`ServerOptions::socket_limits`]: crate::ServerOptions::socket_limits
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SocketLimits {
    /// How many rooms a socket may be in besides its own; a join beyond fails with
    /// [`Error::TooManyRooms`](crate::Error::TooManyRooms) and joins none of the rooms asked.
    pub max_rooms: Option<usize>,
    /// How many of the server's `emit_with_ack` to one socket may wait for their answer at once;
    /// one more fails with [`Error::TooManyPendingAcks`](crate::Error::TooManyPendingAcks).
    pub max_pending_acks: Option<usize>,
    /// How fast a socket may send events.
    pub event_rate: Option<EventRate>,
}

/// A token bucket for a socket's incoming events: `per_second` on average, `burst` at once.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct EventRate {
    /// Events per second, sustained.
    pub per_second: u32,
    /// Events accepted at once after a quiet time (the bucket's size; at least 1).
    pub burst: u32,
    /// What happens to a socket over the rate.
    pub over: OverRate,
}

impl EventRate {
    /// `per_second` on average, up to `burst` at once, `over` beyond.
    pub fn new(per_second: u32, burst: u32, over: OverRate) -> EventRate {
        EventRate {
            per_second,
            burst,
            over,
        }
    }
}

/// What happens to a socket that sends events faster than its [`EventRate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverRate {
    /// The events over the rate are dropped (their acknowledgements never come); the first of
    /// each run is logged.
    Drop,
    /// The socket is disconnected (reason `server namespace disconnect`, as
    /// `socket.disconnect()`).
    Disconnect,
}

/// One socket's bucket.
pub(crate) struct Bucket {
    rate: EventRate,
    state: Mutex<BucketState>,
}

struct BucketState {
    tokens: f64,
    refilled: Instant,
    /// Events dropped since the last one let through.
    dropped: u64,
}

/// What [`Bucket::take`] decided for one event.
pub(crate) enum Admission {
    Accepted,
    /// Over the rate; `first` is true for the first event of a run over it.
    Refused {
        over: OverRate,
        first: bool,
    },
}

impl Bucket {
    pub(crate) fn new(rate: EventRate) -> Bucket {
        let burst = f64::from(rate.burst.max(1));
        Bucket {
            rate,
            state: Mutex::new(BucketState {
                tokens: burst,
                refilled: Instant::now(),
                dropped: 0,
            }),
        }
    }

    /// Takes a token for one event, if there is one.
    pub(crate) fn take(&self) -> Admission {
        let mut state = self.state.lock();
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(state.refilled);
        state.refilled = now;
        let burst = f64::from(self.rate.burst.max(1));
        state.tokens = (state.tokens + refill(elapsed, self.rate.per_second)).min(burst);
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            state.dropped = 0;
            return Admission::Accepted;
        }
        state.dropped += 1;
        Admission::Refused {
            over: self.rate.over,
            first: state.dropped == 1,
        }
    }
}

fn refill(elapsed: Duration, per_second: u32) -> f64 {
    elapsed.as_secs_f64() * f64::from(per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(bucket: &Bucket, events: usize) -> usize {
        (0..events)
            .filter(|_| matches!(bucket.take(), Admission::Accepted))
            .count()
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_lets_a_burst_through_then_the_rate() {
        let bucket = Bucket::new(EventRate::new(10, 5, OverRate::Drop));
        assert_eq!(accepted(&bucket, 20), 5);
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(accepted(&bucket, 20), 5);
        tokio::time::advance(Duration::from_secs(60)).await;
        // Never more than the burst, however long the pause.
        assert_eq!(accepted(&bucket, 20), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_first_refusal_of_a_run_is_marked() {
        let bucket = Bucket::new(EventRate::new(1, 1, OverRate::Disconnect));
        assert!(matches!(bucket.take(), Admission::Accepted));
        assert!(matches!(
            bucket.take(),
            Admission::Refused {
                over: OverRate::Disconnect,
                first: true
            }
        ));
        assert!(matches!(
            bucket.take(),
            Admission::Refused { first: false, .. }
        ));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(matches!(bucket.take(), Admission::Accepted));
        assert!(matches!(
            bucket.take(),
            Admission::Refused { first: true, .. }
        ));
    }
}
