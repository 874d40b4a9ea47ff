//! HTTP long-polling: a GET takes what is queued (waiting while nothing is), a POST carries
//! one payload of packets from the client.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};

use crate::error::{empty_response, HttpError};
use crate::handler::Handler;
use crate::packet::{decode_payload, encode_payload, Frame, Packet, ParseError};
use crate::session::Session;
use crate::socket::{CloseReason, Protocol, Shared, TransportKind};
use crate::v3;
use crate::BoxError;

/// Clears a session's "request in progress" flag however the request ends.
struct Active<'a> {
    shared: &'a Shared,
    get: bool,
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if self.get {
            state.get_active = false;
            state.poll_waiting = false;
        } else {
            state.post_active = false;
        }
    }
}

/// The answer to a polling handshake: the open packet, framed for the client's revision.
pub(crate) fn first_response(protocol: Protocol, open: &Frame) -> Response<Full<Bytes>> {
    frames_response(protocol, std::slice::from_ref(open), true)
}

/// A 200 response carrying `frames` as a polling payload of the client's revision (a v3 client
/// that takes binary gets a binary payload when there is binary to send).
fn frames_response(
    protocol: Protocol,
    frames: &[Frame],
    supports_binary: bool,
) -> Response<Full<Bytes>> {
    let (body, binary) = match protocol {
        Protocol::V4 => {
            let mut body =
                BytesMut::with_capacity(frames.iter().map(|frame| frame.len() + 1).sum());
            encode_payload(frames, &mut body);
            (body.freeze(), false)
        }
        Protocol::V3 => v3::encode_payload(frames, supports_binary),
    };
    let mut res = Response::new(Full::new(body));
    let headers = res.headers_mut();
    let content_type = if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=UTF-8"
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A second request of a kind while one is in progress: Node answers 400 and closes the session.
fn overlap<H: Handler>(session: &Session<H>, what: &str) -> Response<Full<Bytes>> {
    tracing::warn!(sid = %session.shared.id, "overlapping polling {what} request, closing the session");
    session.finish(CloseReason::TransportError);
    empty_response(StatusCode::BAD_REQUEST)
}

/// Ends the session when a GET is dropped before it answered: the client went away while it
/// waited (Node: "poll connection closed prematurely").
struct Cancelled<'a, H: Handler>(Option<&'a Session<H>>);

impl<H: Handler> Drop for Cancelled<'_, H> {
    fn drop(&mut self) {
        if let Some(session) = self.0.take() {
            tracing::debug!(sid = %session.shared.id, "polling GET closed before its answer, closing the session");
            session.finish(CloseReason::TransportError);
        }
    }
}

/// A long-poll; `supports_binary`: a v3 client may be sent a binary payload (no `b64=1`).
pub(crate) async fn get<H: Handler>(
    session: &Arc<Session<H>>,
    supports_binary: bool,
) -> Response<Full<Bytes>> {
    let mut cancelled = Cancelled(Some(session));
    let response = take_or_wait(session, supports_binary).await;
    cancelled.0 = None;
    response
}

/// Answers a GET with what is queued, waiting while nothing is.
async fn take_or_wait<H: Handler>(
    session: &Arc<Session<H>>,
    supports_binary: bool,
) -> Response<Full<Bytes>> {
    let shared = &*session.shared;
    let protocol = shared.protocol;
    {
        let mut state = shared.lock();
        if state.transport != TransportKind::Polling {
            return HttpError::BadRequest.response(None);
        }
        if state.get_active {
            drop(state);
            return overlap(session, "GET");
        }
        state.get_active = true;
    }
    let _active = Active { shared, get: true };
    let mut batch = VecDeque::new();
    loop {
        {
            let mut state = shared.lock();
            if state.transport != TransportKind::Polling {
                // Upgraded while this request waited: the queue is the WebSocket's now.
                batch.push_back(Frame::noop());
                break;
            }
            if !state.queue.is_empty() {
                state.take_into(&mut batch);
                state.poll_waiting = false;
                break;
            }
            if state.upgrading {
                // A WebSocket probe succeeded: release the client so it can finish the upgrade.
                batch.push_back(Frame::noop());
                break;
            }
            if state.ended {
                break;
            }
            state.poll_waiting = true;
        }
        tokio::select! {
            _ = shared.poll_wake.wait() => {}
            _ = shared.ended() => {}
        }
    }
    if batch.is_empty() {
        // The session ended without a close packet queued: the client's own close is answered
        // with a noop, any other end with a close packet.
        let frame = match shared.reason() {
            Some(CloseReason::TransportClose) => Frame::noop(),
            _ => Frame::close(),
        };
        return frames_response(protocol, &[frame], supports_binary);
    }
    let closing = batch.iter().position(Frame::is_close);
    if let Some(index) = closing {
        batch.truncate(index + 1);
    }
    let batch = batch.make_contiguous();
    let response = frames_response(protocol, batch, supports_binary);
    if closing.is_some() {
        session.finish(shared.close_reason());
    }
    response
}

pub(crate) async fn post<H, B>(session: &Arc<Session<H>>, req: Request<B>) -> Response<Full<Bytes>>
where
    H: Handler,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let shared = &*session.shared;
    {
        let mut state = shared.lock();
        if state.transport != TransportKind::Polling {
            return HttpError::BadRequest.response(None);
        }
        if state.post_active {
            drop(state);
            return overlap(session, "POST");
        }
        state.post_active = true;
    }
    let _active = Active { shared, get: false };
    let max_payload = session.config().max_payload;
    let binary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(HeaderValue::as_bytes)
        == Some(b"application/octet-stream");
    if binary && shared.protocol == Protocol::V4 {
        tracing::warn!(sid = %shared.id, "binary POST body on an EIO=4 session");
        session.finish(CloseReason::TransportError);
        return HttpError::BadRequest.response(None);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_payload as u64) {
        // As Node: the body is refused, the session goes on.
        tracing::warn!(sid = %shared.id, max_payload, declared, "POST body declared over max_payload, refused");
        return empty_response(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let timeout = session.config().request_timeout;
    let read = tokio::time::timeout(
        timeout,
        Limited::new(req.into_body(), max_payload).collect(),
    );
    let Ok(read) = read.await else {
        tracing::warn!(sid = %shared.id, ?timeout, "POST body not received within request_timeout, closing the session");
        session.finish(CloseReason::TransportError);
        return empty_response(StatusCode::REQUEST_TIMEOUT);
    };
    let body = match read {
        Ok(body) => body.to_bytes(),
        Err(error) => {
            let too_large = error.downcast_ref::<LengthLimitError>().is_some();
            if too_large {
                tracing::warn!(sid = %shared.id, max_payload, "POST body over max_payload, refused");
                return empty_response(StatusCode::PAYLOAD_TOO_LARGE);
            }
            tracing::debug!(sid = %shared.id, %error, "POST body not received");
            session.finish(CloseReason::TransportError);
            return empty_response(StatusCode::BAD_REQUEST);
        }
    };
    let packets: Box<dyn Iterator<Item = Result<Packet, ParseError>>> =
        match (shared.protocol, binary, std::str::from_utf8(&body)) {
            (Protocol::V3, true, _) => all_or_error(v3::decode_binary_payload(&body)),
            (Protocol::V3, false, Ok(payload)) => all_or_error(v3::decode_text_payload(payload)),
            (Protocol::V4, _, Ok(payload)) => Box::new(decode_payload(payload)),
            (_, _, Err(_)) => {
                tracing::warn!(sid = %shared.id, "POST body is not UTF-8");
                Box::new(std::iter::once(Err(ParseError::InvalidPayload)))
            }
        };
    for packet in packets {
        let result = match packet {
            Ok(Packet::Close) => {
                session.finish(CloseReason::TransportClose);
                break;
            }
            Ok(packet) => session.on_packet(packet),
            Err(error) => {
                tracing::warn!(sid = %shared.id, %error, "bad packet in POST body");
                Err(CloseReason::ParseError)
            }
        };
        if let Err(reason) = result {
            session.finish(reason);
            break;
        }
    }
    let mut res = Response::new(Full::new(Bytes::from_static(b"ok")));
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A v3 payload's packets, or its error alone: Node drops the whole payload at a framing error.
fn all_or_error(
    decoded: Result<Vec<Packet>, ParseError>,
) -> Box<dyn Iterator<Item = Result<Packet, ParseError>>> {
    match decoded {
        Ok(packets) => Box::new(packets.into_iter().map(Ok)),
        Err(error) => Box::new(std::iter::once(Err(error))),
    }
}
