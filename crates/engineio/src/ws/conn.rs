//! A WebSocket carrying one session: reads client messages, and writes everything queued for
//! the session in one write per wake-up.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::Interest;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::deflate::Deflate;
use super::frame::{self, WsError, CLOSE_NORMAL, OP_BINARY, OP_PONG, OP_TEXT};
use super::message::{Assembler, WsMessage};
use crate::handler::Handler;
use crate::packet::{decode_owned, decode_text, Frame, Message, Packet};
use crate::session::Session;
use crate::socket::{CloseReason, Protocol, Shared, TransportKind};
use crate::v3;

/// Read buffer growth step.
const READ_CHUNK: usize = 4096;
/// A thread's encoding buffer larger than this is released once written.
const KEEP_WRITE_CAPACITY: usize = 64 * 1024;
/// A drained frame queue with more room than this is released (the session's queue takes the
/// thread's drained one in exchange, so this bounds what an idle session keeps).
const IDLE_QUEUE_CAPACITY: usize = 8;
/// How long a closed WebSocket waits for the client to close its side.
const LINGER: Duration = Duration::from_secs(2);

/// The stream under a WebSocket. Reading waits for readiness before it takes a buffer where the
/// stream allows it, so that an idle connection holds no read buffer at all.
pub(crate) trait WsIo: AsyncRead + AsyncWrite + Unpin + Send {
    /// Reads what is available into `buf`; `Ok(0)` at the end of the stream. Cancel-safe.
    fn read_some<'a>(
        &'a mut self,
        buf: &'a mut BytesMut,
    ) -> impl Future<Output = std::io::Result<usize>> + Send + 'a;

    /// Writes what the stream takes without waiting; `Ok(0)` when it takes nothing now (or
    /// cannot tell without waiting).
    fn write_now(&mut self, buf: &[u8]) -> std::io::Result<usize>;
}

impl WsIo for TcpStream {
    async fn read_some(&mut self, buf: &mut BytesMut) -> std::io::Result<usize> {
        if buf.is_empty() && buf.capacity() > 0 {
            // Nothing partial is buffered: wait without holding memory.
            *buf = BytesMut::new();
        }
        loop {
            // Readiness through the stream's own waker slot: no waiter node in this future,
            // which every idle connection's task holds.
            std::future::poll_fn(|cx| self.poll_read_ready(cx)).await?;
            match read_available(self, buf) {
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
                result => return result,
            }
        }
    }

    fn write_now(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.try_write(buf) {
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            result => result,
        }
    }
}

thread_local! {
    /// Where a read lands first, so that a connection's own buffer only ever holds the bytes that
    /// came (one per worker thread, zeroed once).
    static SCRATCH: RefCell<Box<[u8; READ_CHUNK]>> = RefCell::new(Box::new([0; READ_CHUNK]));
}

/// Reads what the socket has: straight into `buf` when it already has room (a large frame in
/// progress), else through the thread's scratch buffer.
///
/// A short read means the socket was drained: tokio is told so at once (the closure reports
/// `WouldBlock` after keeping the bytes), which saves the `recv` that would only return
/// `EAGAIN` before the next wait. tokio clears readiness with the tick it saw before the read,
/// so data arriving after it still wakes the connection, and it never clears the closed state.
fn read_available(stream: &TcpStream, buf: &mut BytesMut) -> std::io::Result<usize> {
    if buf.capacity() - buf.len() >= READ_CHUNK {
        return stream.try_read_buf(buf);
    }
    let mut kept = 0;
    let result = stream.try_io(Interest::READABLE, || {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let read = stream.try_read(&mut scratch[..])?;
            buf.extend_from_slice(&scratch[..read]);
            kept = read;
            if read == 0 || read == scratch.len() {
                Ok(read)
            } else {
                Err(std::io::ErrorKind::WouldBlock.into())
            }
        })
    });
    match result {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock && kept > 0 => Ok(kept),
        result => result,
    }
}

impl WsIo for TokioIo<Upgraded> {
    async fn read_some(&mut self, buf: &mut BytesMut) -> std::io::Result<usize> {
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        self.read_buf(buf).await
    }

    fn write_now(&mut self, _buf: &[u8]) -> std::io::Result<usize> {
        Ok(0)
    }
}

/// What a wake-up sends: the frames taken from the session's queue and their encoding. One per
/// worker thread, so that a connection holds neither between wake-ups; bytes the socket does
/// not take at once move to the connection's own write buffer.
#[derive(Default)]
struct Outgoing {
    frames: VecDeque<Frame>,
    bytes: Vec<u8>,
}

thread_local! {
    static OUTGOING: RefCell<Outgoing> = RefCell::default();
}

/// permessage-deflate: its state, and the buffer a message is compressed into.
struct Compression {
    deflate: Deflate,
    compressed: Vec<u8>,
}

pub(crate) struct WsTransport<IO> {
    io: IO,
    read_buf: BytesMut,
    /// What waits to be written: control frames, and what the socket did not take at once.
    write_buf: Vec<u8>,
    assembler: Assembler,
    /// Boxed: most connections do not compress, and every idle one holds this struct.
    compression: Option<Box<Compression>>,
    max_payload: usize,
}

impl<IO: WsIo> WsTransport<IO> {
    pub(crate) fn new(
        io: IO,
        leftover: Bytes,
        deflate: Option<Deflate>,
        max_payload: usize,
    ) -> Self {
        WsTransport {
            io,
            read_buf: BytesMut::from(&leftover[..]),
            write_buf: Vec::new(),
            assembler: Assembler::default(),
            compression: deflate.map(|deflate| {
                Box::new(Compression {
                    deflate,
                    compressed: Vec::new(),
                })
            }),
            max_payload,
        }
    }

    /// The next message. Cancel-safe: partial input stays buffered in `self`.
    pub(crate) async fn read(&mut self) -> Result<WsMessage, WsError> {
        loop {
            while let Some(raw) = frame::parse(&mut self.read_buf, self.max_payload)? {
                if let Some(message) = self.assembler.push(
                    raw,
                    self.compression.as_deref_mut().map(|c| &mut c.deflate),
                    self.max_payload,
                )? {
                    return Ok(message);
                }
            }
            if self.io.read_some(&mut self.read_buf).await? == 0 {
                return Err(WsError::Eof);
            }
        }
    }

    /// Encodes a frame into `out`.
    #[inline]
    fn encode(&mut self, out: &mut Vec<u8>, frame: &Frame) -> Result<(), WsError> {
        let opcode = if frame.is_binary() {
            OP_BINARY
        } else {
            OP_TEXT
        };
        self.encode_payload(out, opcode, frame.as_bytes())
    }

    /// Encodes a frame for a v3 client: binary with its packet type byte first.
    fn encode_v3(&mut self, out: &mut Vec<u8>, frame: &Frame) -> Result<(), WsError> {
        if !frame.is_binary() {
            return self.encode(out, frame);
        }
        let mut prefixed = Vec::with_capacity(frame.len() + 1);
        prefixed.push(v3::BINARY_MESSAGE_PREFIX);
        prefixed.extend_from_slice(frame.as_bytes());
        self.encode_payload(out, OP_BINARY, &prefixed)
    }

    #[inline]
    fn encode_payload(
        &mut self,
        out: &mut Vec<u8>,
        opcode: u8,
        payload: &[u8],
    ) -> Result<(), WsError> {
        match self.compression.as_deref_mut() {
            Some(Compression {
                deflate,
                compressed,
            }) if deflate.wants(payload.len()) => {
                deflate.compress(payload, compressed)?;
                frame::write(out, opcode, true, compressed);
            }
            _ => frame::write(out, opcode, false, payload),
        }
        Ok(())
    }

    /// Writes `bytes` as far as the socket takes them now; the rest waits in the write buffer
    /// for [`WsTransport::flush`].
    fn write_or_keep(&mut self, bytes: &[u8]) -> Result<(), WsError> {
        let written = if self.write_buf.is_empty() {
            self.io.write_now(bytes)?
        } else {
            0
        };
        self.write_buf.extend_from_slice(&bytes[written..]);
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), WsError> {
        if self.write_buf.is_empty() {
            return Ok(());
        }
        self.io.write_all(&self.write_buf).await?;
        self.write_buf = Vec::new();
        Ok(())
    }

    async fn send_now(&mut self, frame: &Frame) -> Result<(), WsError> {
        let mut out = std::mem::take(&mut self.write_buf);
        let encoded = self.encode(&mut out, frame);
        self.write_buf = out;
        encoded?;
        self.flush().await
    }

    /// Sends a close frame (best effort) and shuts the connection down, then reads and drops
    /// what the client still sends (its own close frame, events already on their way) until it
    /// closes too, for at most [`LINGER`]: a socket closed with unread input is reset by the
    /// kernel, and the client would lose what it had not read yet (the last packets, the close
    /// frame).
    pub(crate) async fn close(mut self, code: u16) {
        frame::write_close(&mut self.write_buf, code);
        let _ = self.flush().await;
        let _ = self.io.shutdown().await;
        let drain = async {
            loop {
                self.read_buf.clear();
                match self.io.read_some(&mut self.read_buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        };
        let _ = tokio::time::timeout(LINGER, drain).await;
    }
}

/// How much memory the outgoing queue may hold before the connection stops reading.
const PAUSE_READING_AT: usize = 1 << 20;

enum Event {
    Wake,
    Read(Result<WsMessage, WsError>),
}

/// Carries a session over this WebSocket until it ends. The close at the end is boxed: its
/// linger timer would otherwise make every connection's task larger while it is idle.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn would store its arguments twice in every connection's task"
)]
pub(crate) fn run<H: Handler, IO: WsIo>(
    session: Arc<Session<H>>,
    mut ws: WsTransport<IO>,
) -> impl Future<Output = ()> + Send {
    // An `async fn` keeps its arguments twice (as passed, and as bound in its body): 700
    // bytes per connection where the block, capturing them once, takes 470.
    async move {
        let shared = session.shared.clone();
        loop {
            // Reading first lets one write carry the replies to many messages; but a client that
            // sends faster than it reads would grow its queue without end, so past the mark the
            // queue is written out before anything more is read (and TCP slows the client down).
            let event = if shared.queued_bytes() < PAUSE_READING_AT {
                tokio::select! {
                    biased;
                    read = ws.read() => Event::Read(read),
                    // Raised for frames to send, and when the session ends.
                    _ = shared.ws_wake.wait() => Event::Wake,
                }
            } else {
                shared.ws_wake.wait().await;
                Event::Wake
            };
            let step = match event {
                Event::Wake => send_queued(&mut ws, &shared).map_err(|error| (error, None)),
                Event::Read(Ok(message)) => {
                    on_message(&session, &mut ws, message).map(|()| Sent::Frames)
                }
                Event::Read(Err(error)) => Err((error, None)),
            };
            let outcome = match step {
                Ok(Sent::Ended) => {
                    Box::pin(ws.close(CLOSE_NORMAL)).await;
                    return;
                }
                // What the socket did not take at once, and control frames (a WebSocket pong).
                Ok(sent) => match ws.flush().await {
                    Err(error) => Err((error, None)),
                    Ok(()) if sent == Sent::Close => {
                        Err((WsError::Eof, Some(shared.close_reason())))
                    }
                    Ok(()) => Ok(()),
                },
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => {}
                Err((error, reason)) => {
                    let reason = reason.unwrap_or(match error {
                        WsError::Eof => CloseReason::TransportClose,
                        _ => CloseReason::TransportError,
                    });
                    match &error {
                        WsError::Eof => {
                            tracing::debug!(sid = %shared.id, "websocket closed by the client")
                        }
                        error => tracing::warn!(sid = %shared.id, %error, "closing websocket"),
                    }
                    let code = error.close_code().unwrap_or(CLOSE_NORMAL);
                    session.finish(reason);
                    Box::pin(ws.close(code)).await;
                    return;
                }
            }
        }
    }
}

/// An error ends the connection; the reason, when given, overrides the one derived from it.
type Outcome = Result<(), (WsError, Option<CloseReason>)>;

/// What a wake-up found in the session's queue.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    /// Frames (or nothing): written, or waiting in the connection's write buffer.
    Frames,
    /// Frames up to the server's close: the connection ends once they are written.
    Close,
    /// The session has ended.
    Ended,
}

/// Takes the frames queued for the session, encodes them on the thread's buffer and writes
/// what the socket takes now (the rest is left for [`WsTransport::flush`]).
fn send_queued<IO: WsIo>(ws: &mut WsTransport<IO>, shared: &Shared) -> Result<Sent, WsError> {
    OUTGOING.with(|outgoing| {
        let mut outgoing = outgoing.borrow_mut();
        let Outgoing { frames, bytes } = &mut *outgoing;
        {
            let mut state = shared.lock();
            if state.ended {
                return Ok(Sent::Ended);
            }
            state.take_into(frames);
        }
        let size: usize = frames
            .iter()
            .map(|frame| frame::header_len(frame.len()) + frame.len())
            .sum();
        bytes.reserve(size);
        let v3 = shared.protocol == Protocol::V3;
        let mut sent = Ok(Sent::Frames);
        for frame in frames.drain(..) {
            if frame.is_close() {
                sent = Ok(Sent::Close);
                break;
            }
            let encoded = if v3 {
                ws.encode_v3(bytes, &frame)
            } else {
                ws.encode(bytes, &frame)
            };
            if let Err(error) = encoded {
                sent = Err(error);
                break;
            }
        }
        if frames.capacity() > IDLE_QUEUE_CAPACITY {
            *frames = VecDeque::new();
        }
        // Also after an encoding error: what was encoded before it goes out ahead of the close.
        let written = ws.write_or_keep(bytes);
        bytes.clear();
        if bytes.capacity() > KEEP_WRITE_CAPACITY {
            *bytes = Vec::new();
        }
        written.and(sent)
    })
}

/// Acts on a client message; a WebSocket ping's pong is left in the write buffer.
fn on_message<H: Handler, IO: WsIo>(
    session: &Session<H>,
    ws: &mut WsTransport<IO>,
    message: WsMessage,
) -> Outcome {
    match message {
        WsMessage::Text(text) => match decode_owned(text) {
            Ok(packet) => session
                .on_packet(packet)
                .map_err(|reason| (WsError::Eof, Some(reason))),
            Err(error) => {
                tracing::warn!(sid = %session.shared.id, %error, "bad engine.io packet");
                Err((WsError::Eof, Some(CloseReason::ParseError)))
            }
        },
        WsMessage::Binary(bytes) if session.shared.protocol == Protocol::V4 => {
            session.deliver(Message::Binary(bytes));
            Ok(())
        }
        WsMessage::Binary(bytes) => match v3::decode_binary_packet(bytes) {
            Ok(packet) => session
                .on_packet(packet)
                .map_err(|reason| (WsError::Eof, Some(reason))),
            Err(error) => {
                tracing::warn!(sid = %session.shared.id, %error, "bad engine.io v3 binary packet");
                Err((WsError::Eof, Some(CloseReason::ParseError)))
            }
        },
        WsMessage::Ping(payload) => {
            frame::write(&mut ws.write_buf, OP_PONG, false, &payload);
            Ok(())
        }
        WsMessage::Pong => Ok(()),
        WsMessage::Close => Err((WsError::Eof, Some(CloseReason::TransportClose))),
    }
}

/// Runs the upgrade of a polling session: `2probe` → `3probe`, the pending poll released,
/// then `5` switches the session to this WebSocket. Returns whether the upgrade completed.
pub(crate) async fn probe<H: Handler, IO: WsIo>(
    session: &Session<H>,
    ws: &mut WsTransport<IO>,
    timeout: Duration,
) -> bool {
    let shared = &session.shared;
    let steps = async {
        match ws.read().await {
            Ok(WsMessage::Text(text)) if decode_text(&text) == Ok(Packet::Ping { probe: true }) => {
            }
            _ => return false,
        }
        if ws.send_now(&Frame::pong_probe()).await.is_err() {
            return false;
        }
        shared.lock().upgrading = true;
        // Releases the pending poll, so that the client can send the upgrade.
        shared.poll_wake.raise();
        loop {
            match ws.read().await {
                Ok(WsMessage::Text(text)) => match decode_text(&text) {
                    Ok(Packet::Upgrade) => return true,
                    Ok(Packet::Noop) => {}
                    _ => return false,
                },
                Ok(WsMessage::Ping(_) | WsMessage::Pong) => {}
                _ => return false,
            }
        }
    };
    let upgraded = tokio::select! {
        upgraded = steps => upgraded,
        _ = tokio::time::sleep(timeout) => false,
        _ = shared.ended() => false,
    };
    let mut state = shared.lock();
    state.upgrading = false;
    state.probing = false;
    if upgraded {
        state.transport = TransportKind::WebSocket;
        drop(state);
        tracing::debug!(sid = %shared.id, "upgraded to websocket");
        shared.wake_all();
        session.upgraded();
    } else {
        tracing::debug!(sid = %shared.id, "websocket upgrade abandoned");
    }
    upgraded
}
