//! What a session tells its engine's heartbeat: that something happened at an instant, from
//! which a check is due a fixed time later (see [`heartbeat`](crate::heartbeat)).

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::sid::Sid;

/// The check a session event calls for. Each kind has one delay for every session, so the
/// heartbeat keeps one queue per kind, in the order the events came (and one more of its own,
/// for the pongs of the pings it sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// v4: ping `ping_interval` after the handshake or the last pong.
    Ping,
    /// v3: end the session if the client has not pinged for `ping_interval + ping_timeout`.
    Silence,
    /// End a session that has not delivered its close `close_timeout` after the request.
    Close,
}

/// One scheduled check: its kind, the instant the delay counts from, and the session.
pub(crate) type Beat = (Due, Instant, Sid);

/// A session's line to the heartbeat; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Beats {
    sender: mpsc::UnboundedSender<Beat>,
}

impl Beats {
    pub(crate) fn new(sender: mpsc::UnboundedSender<Beat>) -> Beats {
        Beats { sender }
    }

    /// Schedules the check `due` for session `id`, its delay counted from `from`.
    pub(crate) fn schedule(&self, due: Due, from: Instant, id: Sid) {
        // The heartbeat ends only with its engine, when no session is left to check.
        let _ = self.sender.send((due, from, id));
    }
}
