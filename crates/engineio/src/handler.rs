//! The interface between the transport and the layer above it.

use crate::packet::Message;
use crate::socket::{CloseReason, Socket};

/// What the layer above Engine.IO provides: it is told of each new session and returns the
/// per-session [`Connection`] that receives the session's messages.
///
/// ```
/// use roomcast_engineio::{CloseReason, Connection, Frame, Handler, Message, Socket};
///
/// struct Echo;
/// struct EchoConnection(Socket);
///
/// impl Handler for Echo {
///     type Connection = EchoConnection;
///     fn on_open(&self, socket: Socket) -> EchoConnection {
///         EchoConnection(socket)
///     }
/// }
///
/// impl Connection for EchoConnection {
///     fn on_message(&self, message: Message) {
///         let _ = self.0.send(Frame::from(message));
///     }
///     fn on_close(&self, _reason: CloseReason) {}
/// }
/// ```
pub trait Handler: Send + Sync + 'static {
    /// The per-session state.
    type Connection: Connection;

    /// A session has completed its handshake. Called once per session, before any message.
    fn on_open(&self, socket: Socket) -> Self::Connection;

    /// A request was refused with an Engine.IO error `code` (0 unknown transport, 1 unknown
    /// session id, 2 bad handshake method, 3 bad request, 4 forbidden, 5 unsupported protocol
    /// version): for metrics. Does nothing by default.
    fn on_refused(&self, code: u8) {
        let _ = code;
    }
}

/// One session's receiver of messages and of its end.
pub trait Connection: Send + Sync + 'static {
    /// A message arrived. Messages of one session arrive in order, one at a time.
    fn on_message(&self, message: Message);

    /// The session ended; called exactly once, after the last message.
    fn on_close(&self, reason: CloseReason);

    /// The session moved from polling to WebSocket. Does nothing by default.
    fn on_upgrade(&self) {}
}
