//! The WebSocket transport: the handshake answered over hyper, then frames over the upgraded
//! connection.

pub(crate) mod conn;
pub(crate) mod deflate;
mod frame;
pub(crate) mod handshake;
mod message;

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::config::Config;
use crate::error::HttpError;
use crate::handler::Handler;
use crate::session::Session;
use crate::socket::{CloseReason, TransportKind};
use conn::WsTransport;
use deflate::Deflate;
use frame::CLOSE_NORMAL;
use handshake::DeflateOffer;

/// A validated handshake: the 101 response to send and what the connection will need.
pub(crate) struct Accepted {
    response: Response<Full<Bytes>>,
    on_upgrade: OnUpgrade,
    deflate: Option<(DeflateOffer, usize)>,
}

/// Checks a WebSocket handshake; `None` when it is not a valid one.
pub(crate) fn accept<B>(config: &Config, req: &mut Request<B>) -> Option<Accepted> {
    let key = handshake::accept_key(req)?;
    let deflate = config.per_message_deflate.as_ref().and_then(|options| {
        handshake::negotiate_deflate(req.headers()).map(|offer| (offer, options.threshold))
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, key);
    if let Some((offer, _)) = &deflate {
        headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, offer.response());
    }
    Some(Accepted {
        response,
        on_upgrade: hyper::upgrade::on(req),
        deflate,
    })
}

/// The raw TCP stream under hyper's upgraded connection when there is one (no extra
/// indirection on every read and write), else the upgraded connection itself.
enum Io {
    Tcp(TcpStream, Bytes),
    Upgraded(TokioIo<Upgraded>),
}

fn unwrap_io(upgraded: Upgraded) -> Io {
    match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => Io::Tcp(parts.io.into_inner(), parts.read_buf),
        Err(upgraded) => Io::Upgraded(TokioIo::new(upgraded)),
    }
}

/// Runs `$body` with `$ws` bound to a [`WsTransport`] over whichever stream `$io` holds.
macro_rules! with_transport {
    ($io:expr, $deflate:expr, $max:expr, |$ws:ident| $body:expr) => {
        match $io {
            Io::Tcp(stream, leftover) => {
                // `leftover` is a slice of hyper's read buffer: copied, then dropped at once so
                // the connection does not keep that whole buffer alive.
                let $ws = WsTransport::new(stream, leftover, $deflate, $max);
                $body
            }
            Io::Upgraded(io) => {
                let $ws = WsTransport::new(io, Bytes::new(), $deflate, $max);
                $body
            }
        }
    };
}

/// Runs a session opened over WebSocket once the connection is upgraded; returns the 101.
///
/// The connection runs in a task of its own, spawned once the upgrade is through: the task
/// that waited for it ends, and what an idle connection holds is only the connection's loop.
pub(crate) fn run_new<H: Handler>(
    session: Arc<Session<H>>,
    accepted: Accepted,
) -> Response<Full<Bytes>> {
    let max_payload = session.config().max_payload;
    tokio::spawn(async move {
        let upgraded = match accepted.on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(error) => {
                tracing::debug!(%error, "websocket upgrade failed");
                session.finish(CloseReason::TransportError);
                return;
            }
        };
        let deflate = accepted
            .deflate
            .map(|(offer, threshold)| Deflate::new(offer, threshold));
        with_transport!(unwrap_io(upgraded), deflate, max_payload, |ws| {
            tokio::spawn(conn::run(session, ws));
        })
    });
    accepted.response
}

/// A WebSocket handshake for an existing polling session: the upgrade.
pub(crate) fn upgrade_session<H: Handler, B>(
    session: Arc<Session<H>>,
    req: &mut Request<B>,
) -> Response<Full<Bytes>> {
    let config = session.config();
    let Some(accepted) = accept(config, req) else {
        return HttpError::BadRequest.upgrade_response(None);
    };
    let allowed = config.allow_upgrades;
    let (max_payload, upgrade_timeout) = (config.max_payload, config.upgrade_timeout);
    let admitted = {
        let mut state = session.shared.lock();
        let admitted = allowed && state.transport == TransportKind::Polling && !state.probing;
        if admitted {
            state.probing = true;
        }
        admitted
    };
    tokio::spawn(async move {
        let Ok(upgraded) = accepted.on_upgrade.await else {
            if admitted {
                session.shared.lock().probing = false;
            }
            return;
        };
        let deflate = accepted
            .deflate
            .map(|(offer, threshold)| Deflate::new(offer, threshold));
        with_transport!(unwrap_io(upgraded), deflate, max_payload, |ws| {
            let mut ws = ws;
            if !admitted {
                // Node accepts the WebSocket, then closes it: already upgraded or upgrading.
                tracing::debug!(sid = %session.shared.id, "second upgrade attempt refused");
                Box::pin(ws.close(CLOSE_NORMAL)).await;
            } else if conn::probe(&session, &mut ws, upgrade_timeout).await {
                tokio::spawn(conn::run(session, ws));
            } else {
                Box::pin(ws.close(CLOSE_NORMAL)).await;
            }
        })
    });
    accepted.response
}
