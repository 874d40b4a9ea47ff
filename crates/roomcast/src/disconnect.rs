//! Why a socket was disconnected, in socket.io's words.

use std::fmt;

/// Why a socket was disconnected, with socket.io's wording ([`DisconnectReason::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client disconnected the socket (`socket.disconnect()` on the client).
    ClientNamespaceDisconnect,
    /// The server disconnected the socket ([`Socket::disconnect`], `disconnectSockets`).
    ServerNamespaceDisconnect,
    /// The connection was closed by the client or the network.
    TransportClose,
    /// The connection failed.
    TransportError,
    /// The client stopped answering pings.
    PingTimeout,
    /// The client sent something that is not Socket.IO.
    ParseError,
    /// The server closed the connection.
    ForcedClose,
    /// The server is shutting down.
    ServerShuttingDown,
}

impl DisconnectReason {
    /// socket.io's name for the reason, e.g. `"client namespace disconnect"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ServerShuttingDown => "server shutting down",
        }
    }
}

impl DisconnectReason {
    /// Whether connection state recovery keeps the socket's session after this reason (Node's
    /// `RECOVERABLE_DISCONNECT_REASONS`): a lost or closed connection, a missed ping, a server
    /// closing the connection or shutting down; not a socket disconnected on purpose.
    pub fn is_recoverable(&self) -> bool {
        matches!(
            self,
            DisconnectReason::TransportError
                | DisconnectReason::TransportClose
                | DisconnectReason::ForcedClose
                | DisconnectReason::PingTimeout
                | DisconnectReason::ServerShuttingDown
        )
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<roomcast_engineio::CloseReason> for DisconnectReason {
    fn from(reason: roomcast_engineio::CloseReason) -> Self {
        use roomcast_engineio::CloseReason::*;
        match reason {
            TransportClose => DisconnectReason::TransportClose,
            PingTimeout => DisconnectReason::PingTimeout,
            ForcedClose => DisconnectReason::ForcedClose,
            ParseError => DisconnectReason::ParseError,
            ServerShuttingDown => DisconnectReason::ServerShuttingDown,
            _ => DisconnectReason::TransportError,
        }
    }
}
