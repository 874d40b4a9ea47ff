//! The per-session driver: pings every `ping_interval`, ends the session when no pong comes
//! within `ping_timeout`, and bounds how long a server-side close waits for delivery.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::sleep;

use crate::config::Config;
use crate::engine::Session;
use crate::handler::Handler;
use crate::packet::Frame;
use crate::socket::CloseReason;

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

pub(crate) async fn drive<H: Handler>(session: Arc<Session<H>>, timing: Timing) {
    let shared = session.shared.clone();
    let ended = shared.ended();
    tokio::pin!(ended);
    loop {
        tokio::select! {
            _ = &mut ended => return,
            _ = shared.close_requested.notified() => {
                // The transport delivers the queued close and ends the session; a polling
                // client that never polls again is given `close_timeout`.
                tokio::select! {
                    _ = &mut ended => {}
                    _ = sleep(timing.close_timeout) => session.finish(CloseReason::ForcedClose),
                }
                return;
            }
            _ = sleep(timing.ping_interval) => {
                shared.push_control(Frame::ping());
                tokio::select! {
                    _ = &mut ended => return,
                    _ = shared.pong.notified() => {}
                    _ = sleep(timing.ping_timeout) => {
                        tracing::debug!(sid = %shared.id, "no pong within ping_timeout");
                        session.finish(CloseReason::PingTimeout);
                        return;
                    }
                }
            }
        }
    }
}
