//! The per-session driver: pings every `ping_interval`, ends the session when no pong comes
//! within `ping_timeout`, and bounds how long a server-side close waits for delivery.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{sleep, sleep_until, Instant};

use crate::config::Config;
use crate::handler::Handler;
use crate::packet::Frame;
use crate::session::Session;
use crate::socket::{CloseReason, Protocol};

/// The timers of a session, copied out of the [`Config`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    ping_interval: Duration,
    ping_timeout: Duration,
    close_timeout: Duration,
}

impl Timing {
    pub(crate) fn new(config: &Config) -> Timing {
        Timing {
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            close_timeout: config.close_timeout,
        }
    }
}

/// Runs the session's heartbeat from `start` (the handshake) until the session ends. Deadlines
/// are absolute, counted from the handshake and from each pong, so timer lateness never moves
/// them; a request that finds the pong overdue ends the session at once (see
/// [`Shared::pong_overdue`](crate::socket::Shared::pong_overdue)).
pub(crate) async fn drive<H: Handler>(session: Arc<Session<H>>, timing: Timing, start: Instant) {
    if session.shared.protocol == Protocol::V3 {
        return drive_v3(session, timing, start).await;
    }
    let shared = session.shared.clone();
    let ended = shared.ended();
    tokio::pin!(ended);
    let mut next_ping = start + timing.ping_interval;
    loop {
        tokio::select! {
            _ = &mut ended => return,
            _ = shared.close_requested.notified() => {
                return close_delivered(&session, ended.as_mut(), timing.close_timeout).await;
            }
            _ = sleep_until(next_ping) => {
                let deadline = next_ping + timing.ping_timeout;
                shared.set_pong_deadline(Some(deadline));
                shared.push_control(Frame::ping());
                tokio::select! {
                    _ = &mut ended => return,
                    _ = shared.pong.notified() => next_ping = Instant::now() + timing.ping_interval,
                    _ = sleep_until(deadline) => {
                        tracing::debug!(sid = %shared.id, "no pong within ping_timeout");
                        session.finish(CloseReason::PingTimeout);
                        return;
                    }
                }
            }
        }
    }
}

/// The heartbeat of a v3 session: the client pings (the session answers each, see
/// `Session::on_packet`); without a ping for `ping_interval + ping_timeout`, the session ends,
/// as Node's `resetPingTimeout` does for v3.
async fn drive_v3<H: Handler>(session: Arc<Session<H>>, timing: Timing, start: Instant) {
    let shared = session.shared.clone();
    let ended = shared.ended();
    tokio::pin!(ended);
    let allowance = timing.ping_interval + timing.ping_timeout;
    let mut deadline = start + allowance;
    loop {
        tokio::select! {
            _ = &mut ended => return,
            _ = shared.close_requested.notified() => {
                return close_delivered(&session, ended.as_mut(), timing.close_timeout).await;
            }
            _ = shared.pong.notified() => deadline = Instant::now() + allowance,
            _ = sleep_until(deadline) => {
                tracing::debug!(sid = %shared.id, "no ping within ping_interval + ping_timeout");
                session.finish(CloseReason::PingTimeout);
                return;
            }
        }
    }
}

/// After a server-side close request: the transport delivers the queued close and ends the
/// session; a polling client that never polls again is given `close_timeout`.
async fn close_delivered<H: Handler>(
    session: &Session<H>,
    ended: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    close_timeout: Duration,
) {
    tokio::select! {
        _ = ended => {}
        _ = sleep(close_timeout) => session.finish(session.shared.close_reason()),
    }
}
