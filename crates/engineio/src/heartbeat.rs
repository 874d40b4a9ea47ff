//! The heartbeat of every session of an engine, in one task: pings every `ping_interval`,
//! ends a session whose pong does not come within `ping_timeout` (v3: whose client does not
//! ping for both), and bounds how long a server-side close waits for delivery.
//!
//! Every session of an engine runs on the same timers, so within one kind the checks fall due
//! in the order their events came: four queues, each first-in first-out, and one sleep for the
//! earliest of their heads serve every session, where a task and a timer per session would
//! hold about a kilobyte each. Deadlines are absolute, counted from the handshake and from each
//! pong, so the task's lateness never moves them; a request that finds the pong overdue ends
//! the session at once (see [`Shared::pong_overdue`](crate::socket::Shared::pong_overdue)).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use crate::beat::{Beat, Beats, Due};
use crate::config::Config;
use crate::handler::Handler;
use crate::session::Registry;
use crate::sid::Sid;
use crate::socket::CloseReason;

/// Beats taken from the channel at once.
const BATCH: usize = 256;

/// Starts the heartbeat of the sessions in `registry`. It runs until no line to it is left: the
/// engine's and every session's (sessions outliving their engine are still pinged, and ended
/// when they stop answering).
pub(crate) fn start<H: Handler>(registry: Arc<Registry<H>>, config: &Config) -> Beats {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(run(receiver, registry, Wheel::new(config)));
    Beats::new(sender)
}

async fn run<H: Handler>(
    mut receiver: mpsc::UnboundedReceiver<Beat>,
    registry: Arc<Registry<H>>,
    mut wheel: Wheel,
) {
    let mut received = Vec::with_capacity(BATCH);
    loop {
        let next = wheel.next_due();
        tokio::select! {
            count = receiver.recv_many(&mut received, BATCH) => {
                if count == 0 {
                    return;
                }
                for (due, from, id) in received.drain(..) {
                    wheel.queue(due).entries.push_back((from, id));
                }
            }
            () = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                wheel.fire(&registry, Instant::now());
            }
        }
    }
}

/// Checks of one kind, in the order their events came, and their common delay.
struct Queue {
    delay: Duration,
    entries: VecDeque<(Instant, Sid)>,
}

impl Queue {
    fn new(delay: Duration) -> Queue {
        Queue {
            delay,
            entries: VecDeque::new(),
        }
    }

    fn next_due(&self) -> Option<Instant> {
        self.entries.front().map(|(from, _)| *from + self.delay)
    }

    /// The next check due by `now`, with the instant it fell due.
    fn pop_due(&mut self, now: Instant) -> Option<(Instant, Sid)> {
        let due = self.next_due().filter(|due| *due <= now)?;
        let (_, id) = self.entries.pop_front()?;
        Some((due, id))
    }

    /// Queues a check whose event came at `from`, in its place among those queued.
    fn insert(&mut self, from: Instant, id: Sid) {
        let at = self.entries.partition_point(|(queued, _)| *queued <= from);
        self.entries.insert(at, (from, id));
    }

    /// Gives back what a burst of sessions left behind once the queue is short again.
    fn trim(&mut self) {
        if self.entries.capacity() > 4 * self.entries.len().max(64) {
            self.entries.shrink_to(self.entries.len() * 2);
        }
    }
}

/// The queues: one per [`Due`], and the pongs of the pings sent.
struct Wheel {
    ping: Queue,
    pong: Queue,
    silence: Queue,
    close: Queue,
}

impl Wheel {
    fn new(config: &Config) -> Wheel {
        Wheel {
            ping: Queue::new(config.ping_interval),
            pong: Queue::new(config.ping_timeout),
            silence: Queue::new(config.ping_interval + config.ping_timeout),
            close: Queue::new(config.close_timeout),
        }
    }

    fn queue(&mut self, due: Due) -> &mut Queue {
        match due {
            Due::Ping => &mut self.ping,
            Due::Silence => &mut self.silence,
            Due::Close => &mut self.close,
        }
    }

    fn next_due(&self) -> Option<Instant> {
        [&self.ping, &self.pong, &self.silence, &self.close]
            .into_iter()
            .filter_map(Queue::next_due)
            .min()
    }

    /// Runs every check due by `now`.
    fn fire<H: Handler>(&mut self, registry: &Registry<H>, now: Instant) {
        let session = |id: &Sid| registry.read().get(id).cloned();
        while let Some((due, id)) = self.ping.pop_due(now) {
            let pong_due = due + self.pong.delay;
            if session(&id).is_some_and(|session| session.shared.ping(pong_due)) {
                // The ping goes out now; its pong is due `ping_timeout` after it was due.
                self.pong.entries.push_back((due, id));
            }
        }
        while let Some((_, id)) = self.pong.pop_due(now) {
            if let Some(session) = session(&id) {
                if session.shared.pong_overdue() {
                    tracing::debug!(sid = %id, "no pong within ping_timeout");
                    session.finish(CloseReason::PingTimeout);
                }
            }
        }
        while let Some((_, id)) = self.silence.pop_due(now) {
            let Some(session) = session(&id) else {
                continue;
            };
            match session.shared.heartbeat_deadline() {
                Some(deadline) if deadline <= now => {
                    tracing::debug!(sid = %id, "no ping within ping_interval + ping_timeout");
                    session.finish(CloseReason::PingTimeout);
                }
                // The client pinged meanwhile: the check moves on to its new deadline.
                Some(deadline) => self.silence.insert(deadline - self.silence.delay, id),
                None => {}
            }
        }
        while let Some((_, id)) = self.close.pop_due(now) {
            if let Some(session) = session(&id) {
                session.finish(session.shared.close_reason());
            }
        }
        for queue in [
            &mut self.ping,
            &mut self.pong,
            &mut self.silence,
            &mut self.close,
        ] {
            queue.trim();
        }
    }
}
