//! One Engine.IO session as the layer above sees it: an ordered outgoing queue of [`Frame`]s,
//! shared by whichever transport currently carries the session.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::beat::{Beats, Due};
use crate::error::SendError;
use crate::packet::Frame;
use crate::request::RequestInfo;
use crate::sid::Sid;
use crate::signal::Signal;

/// Why a session ended, with Node engine.io's wording ([`CloseReason::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client closed the transport or sent a close packet.
    TransportClose,
    /// The transport failed (I/O error, protocol violation, overlapping polls, full queue).
    TransportError,
    /// The client did not answer a ping within `ping_timeout`.
    PingTimeout,
    /// The server closed the session ([`Socket::close`]).
    ForcedClose,
    /// The client sent something that is not Engine.IO.
    ParseError,
    /// The server is shutting down.
    ServerShuttingDown,
}

impl CloseReason {
    /// Node's name for the reason, e.g. `"ping timeout"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ForcedClose => "forced close",
            CloseReason::ParseError => "parse error",
            CloseReason::ServerShuttingDown => "server shutting down",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Engine.IO protocol revision a session speaks (the `EIO` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Engine.IO v3 (`socket.io-client` 2.x), with [`Config::allow_eio3`](crate::Config::allow_eio3).
    V3,
    /// Engine.IO v4.
    V4,
}

impl Protocol {
    /// The revision from the `EIO` query parameter, if it is one the server may speak.
    pub(crate) fn from_query(eio: Option<&str>, allow_eio3: bool) -> Option<Protocol> {
        match eio {
            Some("4") => Some(Protocol::V4),
            Some("3") if allow_eio3 => Some(Protocol::V3),
            _ => None,
        }
    }
}

/// The transport a session currently uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    WebSocket,
}

impl TransportKind {
    /// The name used in the query string: `polling` or `websocket`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }
}

/// A handle to one session, cheap to clone. Sending is a push onto the session's queue; the
/// transport's writer sends what is queued, in order, batching what accumulated.
#[derive(Clone)]
pub struct Socket {
    pub(crate) shared: Arc<Shared>,
}

impl Socket {
    /// The session id.
    pub fn id(&self) -> Sid {
        self.shared.id
    }

    /// The handshake request (shared: clone the `Arc` to keep it).
    pub fn request(&self) -> &Arc<RequestInfo> {
        &self.shared.request
    }

    /// The transport the session uses now.
    pub fn transport(&self) -> TransportKind {
        self.shared.lock().transport
    }

    /// Queues one frame.
    pub fn send(&self, frame: Frame) -> Result<(), SendError> {
        self.shared.push_one(frame)
    }

    /// Queues several frames at once, with nothing of other senders between them (a
    /// Socket.IO binary packet and its attachments).
    pub fn send_all(&self, frames: &[Frame]) -> Result<(), SendError> {
        self.shared.push(frames)
    }

    /// Queues the frames only if the transport can write them right away (nothing is waiting
    /// in the queue, and on polling a request is waiting for data); otherwise drops them.
    /// Returns whether they were queued. This is Socket.IO's `volatile` flag.
    pub fn send_volatile(&self, frames: &[Frame]) -> bool {
        let mut state = self.shared.lock();
        let writable = state.queue.is_empty()
            && !state.closing
            && (state.transport == TransportKind::WebSocket || state.poll_waiting)
            && !state.ended;
        if writable {
            state.enqueue(frames.iter().cloned(), frames.iter().map(queued_size).sum());
            self.shared.unlock_and_wake(state);
        }
        writable
    }

    /// Closes the session: what is queued is still delivered, then the transport closes and
    /// the connection handler sees [`CloseReason::ForcedClose`].
    pub fn close(&self) {
        self.shared.request_close();
    }

    /// The Engine.IO protocol revision the client speaks.
    pub fn protocol(&self) -> Protocol {
        self.shared.protocol
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().ended
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.shared.id)
            .finish()
    }
}

/// The state every transport of a session shares.
pub(crate) struct Shared {
    pub(crate) id: Sid,
    /// The protocol revision the client speaks.
    pub(crate) protocol: Protocol,
    pub(crate) request: Arc<RequestInfo>,
    state: Mutex<State>,
    /// Wakes the polling GET waiting for frames (also when the session ends or upgrades).
    pub(crate) poll_wake: Signal,
    /// Wakes the WebSocket writer (also when the session ends). Each transport has its own:
    /// a signal has one waiter, and during an upgrade both transports wait at once.
    pub(crate) ws_wake: Signal,
    /// The engine's heartbeat, told of pongs, client pings and close requests.
    beats: Beats,
    /// Woken (all waiters) when the session has ended; see [`Shared::ended`].
    end: Notify,
    reason: OnceLock<CloseReason>,
    max_buffered_bytes: usize,
}

/// What a queued frame costs beyond its bytes: its slot in the queue, and the allocator's and
/// the shared buffer's bookkeeping (small frames, acks say, cost several times their length).
const FRAME_OVERHEAD: usize = std::mem::size_of::<Frame>() + 48;

/// The memory a queued frame holds, as the queue limit counts it.
fn queued_size(frame: &Frame) -> usize {
    frame.len() + FRAME_OVERHEAD
}

/// Room for the frames of a queue's first use: an ack, a reply, a message or two.
const FIRST_QUEUE_CAPACITY: usize = 4;
/// Room a queue takes once it holds more than that.
const BURST_QUEUE_CAPACITY: usize = 32;

pub(crate) struct State {
    pub(crate) queue: VecDeque<Frame>,
    queued_bytes: usize,
    pub(crate) transport: TransportKind,
    /// A WebSocket is attached and probing; no other may upgrade the session.
    pub(crate) probing: bool,
    /// A WebSocket probe succeeded; polling requests return at once.
    pub(crate) upgrading: bool,
    /// A polling GET is waiting for frames.
    pub(crate) poll_waiting: bool,
    pub(crate) get_active: bool,
    pub(crate) post_active: bool,
    /// The server asked to close; a close frame is queued.
    pub(crate) closing: bool,
    /// The reason the session ends with once the queued close frame is delivered.
    pub(crate) close_as: CloseReason,
    /// The session has ended.
    pub(crate) ended: bool,
    /// When the pong of the last ping is due, while it has not come (v3: when the client's
    /// next ping is due).
    pong_deadline: Option<Instant>,
    /// v3: a check of the client's silence is queued in the heartbeat (one at a time: the
    /// heartbeat moves it on to the new deadline when the client pinged meanwhile).
    silence_check: bool,
}

impl State {
    /// Appends frames whose lengths add up to `bytes`.
    fn enqueue(&mut self, frames: impl ExactSizeIterator<Item = Frame>, bytes: usize) {
        self.queued_bytes += bytes;
        let needed = self.queue.len() + frames.len();
        if needed > self.queue.capacity() {
            // A queue that outgrows its first few frames is in a burst (a fan-out): jump to a
            // burst-sized buffer at once rather than doubling through every size on the way.
            // The writer lets go of it once the burst is written.
            let target = if self.queue.capacity() == 0 {
                needed.max(FIRST_QUEUE_CAPACITY)
            } else {
                needed
                    .max(BURST_QUEUE_CAPACITY)
                    .max(self.queue.capacity() * 2)
            };
            self.queue.reserve_exact(target - self.queue.len());
        }
        self.queue.extend(frames);
    }

    fn enqueue_one(&mut self, frame: Frame) {
        let bytes = queued_size(&frame);
        self.enqueue(std::iter::once(frame), bytes);
    }

    /// Moves every queued frame to `out` (which must be empty), keeping both allocations.
    pub(crate) fn take_into(&mut self, out: &mut VecDeque<Frame>) {
        std::mem::swap(&mut self.queue, out);
        self.queued_bytes = 0;
    }
}

impl Shared {
    pub(crate) fn new(
        id: Sid,
        protocol: Protocol,
        request: Arc<RequestInfo>,
        transport: TransportKind,
        max_buffered_bytes: usize,
        beats: Beats,
    ) -> Shared {
        Shared {
            id,
            protocol,
            request,
            state: Mutex::new(State {
                queue: VecDeque::new(),
                queued_bytes: 0,
                transport,
                probing: false,
                upgrading: false,
                poll_waiting: false,
                get_active: false,
                post_active: false,
                closing: false,
                close_as: CloseReason::ForcedClose,
                ended: false,
                pong_deadline: None,
                silence_check: false,
            }),
            poll_wake: Signal::default(),
            ws_wake: Signal::default(),
            beats,
            end: Notify::new(),
            reason: OnceLock::new(),
            max_buffered_bytes,
        }
    }

    /// The memory the outgoing queue holds (see [`Config::max_buffered_bytes`]).
    ///
    /// [`Config::max_buffered_bytes`]: crate::Config::max_buffered_bytes
    pub(crate) fn queued_bytes(&self) -> usize {
        self.state.lock().queued_bytes
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Queues frames shared with other sessions (a broadcast): each is a reference-counted clone.
    pub(crate) fn push(&self, frames: &[Frame]) -> Result<(), SendError> {
        let bytes = frames.iter().map(queued_size).sum();
        self.push_counted(frames.iter().cloned(), bytes)
    }

    /// Queues a frame this session owns, as it is.
    pub(crate) fn push_one(&self, frame: Frame) -> Result<(), SendError> {
        let bytes = queued_size(&frame);
        self.push_counted(std::iter::once(frame), bytes)
    }

    fn push_counted(
        &self,
        frames: impl ExactSizeIterator<Item = Frame>,
        incoming: usize,
    ) -> Result<(), SendError> {
        let mut state = self.state.lock();
        if state.closing || state.ended {
            return Err(SendError::Closed);
        }
        if state.queued_bytes + incoming > self.max_buffered_bytes {
            drop(state);
            tracing::warn!(sid = %self.id, "outgoing queue over max_buffered_bytes, closing the session");
            self.request_close();
            return Err(SendError::QueueFull);
        }
        let was_empty = state.queue.is_empty();
        state.enqueue(frames, incoming);
        // A non-empty queue already has a wake-up pending or a writer about to look again.
        if was_empty {
            self.unlock_and_wake(state);
        }
        Ok(())
    }

    /// Queues a heartbeat or protocol frame, even past the byte limit.
    pub(crate) fn push_control(&self, frame: Frame) {
        let mut state = self.state.lock();
        if state.closing {
            return;
        }
        state.enqueue_one(frame);
        self.unlock_and_wake(state);
    }

    pub(crate) fn request_close(&self) {
        self.request_close_as(CloseReason::ForcedClose);
    }

    /// Queues a close frame behind what is queued; once it is delivered, the session ends
    /// with `reason`.
    pub(crate) fn request_close_as(&self, reason: CloseReason) {
        let mut state = self.state.lock();
        if state.closing || state.ended {
            return;
        }
        state.closing = true;
        state.close_as = reason;
        state.enqueue_one(Frame::close());
        self.unlock_and_wake(state);
        self.beats.schedule(Due::Close, Instant::now(), self.id);
    }

    /// Resolves once the session has ended. Pinned once, polling it again is an atomic check.
    pub(crate) async fn ended(&self) {
        let end = self.end.notified();
        tokio::pin!(end);
        end.as_mut().enable();
        if self.state.lock().ended {
            return;
        }
        end.await;
    }

    /// Starts the heartbeat of a session opened at `start`: the first ping (v4), or the
    /// deadline of the client's first ping (v3), `silence` later.
    pub(crate) fn start_heartbeat(&self, start: Instant, silence: Duration) {
        match self.protocol {
            Protocol::V4 => self.beats.schedule(Due::Ping, start, self.id),
            Protocol::V3 => {
                let mut state = self.state.lock();
                state.pong_deadline = Some(start + silence);
                state.silence_check = true;
                drop(state);
                self.beats.schedule(Due::Silence, start, self.id);
            }
        }
    }

    /// Sends a ping whose pong is due at `pong_due`, unless the session is closing. Returns
    /// whether it was sent.
    pub(crate) fn ping(&self, pong_due: Instant) -> bool {
        let mut state = self.state.lock();
        if state.closing || state.ended {
            return false;
        }
        state.pong_deadline = Some(pong_due);
        state.enqueue_one(Frame::ping());
        self.unlock_and_wake(state);
        true
    }

    /// A v4 pong came: the next ping is due `ping_interval` from now. A pong that answers no
    /// ping changes nothing.
    pub(crate) fn pong(&self) {
        let answered = self.state.lock().pong_deadline.take().is_some();
        if answered {
            self.beats.schedule(Due::Ping, Instant::now(), self.id);
        }
    }

    /// A v3 client pinged: answers it; the next ping is due `silence` from now. However often
    /// the client pings, one check at a time is queued for it.
    pub(crate) fn client_ping(&self, silence: Duration) {
        let now = Instant::now();
        let first = {
            let mut state = self.state.lock();
            state.pong_deadline = Some(now + silence);
            !std::mem::replace(&mut state.silence_check, true)
        };
        self.push_control(Frame::pong());
        if first {
            self.beats.schedule(Due::Silence, now, self.id);
        }
    }

    /// Whether the client has let a ping go unanswered past its deadline (the heartbeat's
    /// timer may not have run yet).
    pub(crate) fn pong_overdue(&self) -> bool {
        self.heartbeat_deadline()
            .is_some_and(|deadline| Instant::now() >= deadline)
    }

    /// When the client must answer (v4: the pong of the last ping; v3: its next ping), while
    /// the session is open.
    pub(crate) fn heartbeat_deadline(&self) -> Option<Instant> {
        let state = self.state.lock();
        state.pong_deadline.filter(|_| !state.ended)
    }

    /// Marks the session ended and wakes everything waiting in [`Shared::ended`].
    pub(crate) fn mark_ended(&self) {
        self.state.lock().ended = true;
        self.end.notify_waiters();
        self.wake_all();
    }

    /// Releases the lock, then wakes the writer of the session's current transport.
    fn unlock_and_wake(&self, state: MutexGuard<'_, State>) {
        let transport = state.transport;
        drop(state);
        self.wake(transport);
    }

    /// Wakes the writer of `transport`: the one that drains the queue now.
    pub(crate) fn wake(&self, transport: TransportKind) {
        match transport {
            TransportKind::Polling => self.poll_wake.raise(),
            TransportKind::WebSocket => self.ws_wake.raise(),
        }
    }

    /// Wakes both writers (the session ended, or switched transports).
    pub(crate) fn wake_all(&self) {
        self.poll_wake.raise();
        self.ws_wake.raise();
    }

    /// Records why the session ended; only the first reason counts. Returns whether this call
    /// was the first.
    pub(crate) fn set_reason(&self, reason: CloseReason) -> bool {
        self.reason.set(reason).is_ok()
    }

    pub(crate) fn reason(&self) -> Option<CloseReason> {
        self.reason.get().copied()
    }

    /// The reason a server-requested close ends the session with (see
    /// [`Shared::request_close_as`]).
    pub(crate) fn close_reason(&self) -> CloseReason {
        self.state.lock().close_as
    }
}
