//! The `/admin` namespace: who may connect (whoever has the admin token), and what it can do
//! to `/chat`. Everything goes through the adapter (`fetch_sockets`, `emit`,
//! `disconnect_sockets`), so it covers every process of a cluster, not only this one.
//!
//! A gateway: [`AdminGateway`], let in by the admin token.
//!
//! | event (client → server) | effect |
//! |---|---|
//! | `getStats` (ack) | `{ chatUsers, adminUsers, rooms: { room: members } }` |
//! | `announce` text | `announcement` text to every `/chat` socket |
//! | `kickAll` room | every `/chat` socket in `room` is disconnected |

use roomcast::{AckSender, ConnectError, Namespace, Socket, Value};
use roomcast_gateway::{gateway, Body, ConnectionGuard};

use crate::broadcast::local_members;
use crate::config::Secret;
use crate::input::{MessageText, RoomName, Text};
use crate::reply::{self, ChatErrors};
use crate::stats::Stats;

/// `/admin`, acting on `/chat`, for whoever has the token.
pub(crate) struct AdminGateway {
    chat: Namespace,
    token: Secret,
}

impl AdminGateway {
    pub(crate) fn new(chat: Namespace, token: Secret) -> AdminGateway {
        AdminGateway { chat, token }
    }
}

/// The connection guard: `auth.token` must be the admin token.
struct Authorize(Secret);

impl ConnectionGuard for Authorize {
    async fn can_connect(&self, socket: &Socket) -> Result<(), ConnectError> {
        let given = socket.handshake().auth.get("token").and_then(Value::as_str);
        if given.is_some_and(|given| self.0.matches(given)) {
            Ok(())
        } else {
            tracing::info!(socket = %socket.id(), "admin connection refused");
            Err(ConnectError::new("unauthorized"))
        }
    }
}

#[gateway(
    namespace = "/admin",
    connection_guards(Authorize(self.token.clone())),
    use_filters(ChatErrors)
)]
impl AdminGateway {
    #[handle_connection]
    async fn handle_connection(&self, socket: Socket) {
        tracing::info!("admin socket {} connected", socket.id());
    }

    #[subscribe_message("getStats")]
    async fn get_stats(&self, socket: Socket, ack: AckSender) {
        get_stats(socket, self.chat.clone(), ack).await;
    }

    #[subscribe_message("announce")]
    async fn announce(&self, Body(Text(text)): Body<Text>, socket: Socket) {
        announce(socket, self.chat.clone(), text).await;
    }

    #[subscribe_message("kickAll")]
    async fn kick_all(&self, Body(Text(room)): Body<Text>, socket: Socket) {
        kick_all(socket, self.chat.clone(), room).await;
    }
}

async fn get_stats(socket: Socket, chat: Namespace, ack: AckSender) {
    if !reply::wants_ack(&socket, "getStats", &ack) {
        return;
    }
    let admin = socket.namespace();
    match tokio::try_join!(chat.fetch_sockets(), admin.fetch_sockets()) {
        Ok((chat_sockets, admin_sockets)) => {
            let stats = Stats::new(&chat_sockets, admin_sockets.len());
            reply::ack(&socket, "getStats", ack, &stats);
        }
        Err(error) => {
            tracing::warn!(%error, "cannot gather the stats");
            reply::error(&socket, "The stats are not available right now");
        }
    }
}

async fn announce(socket: Socket, chat: Namespace, text: String) {
    let text = match MessageText::parse(text) {
        Ok(text) => text,
        Err(error) => return reply::error(&socket, error),
    };
    // The sockets connected to this process, as for the room emits.
    tracing::info!(
        "emit \"announcement\" -> namespace {:?} ({} sockets)",
        chat.name(),
        chat.socket_count()
    );
    if let Err(error) = chat.emit("announcement", text.as_str()).await {
        tracing::warn!(%error, "announcement failed");
    }
}

async fn kick_all(socket: Socket, chat: Namespace, room: String) {
    let room = match RoomName::parse(&room) {
        Ok(room) => room,
        Err(error) => return reply::error(&socket, error),
    };
    tracing::info!(
        "disconnect_sockets -> room {:?} ({}), asked by admin socket {}",
        room.as_str(),
        local_members(&chat, &room),
        socket.id()
    );
    if let Err(error) = chat.in_(room.as_str()).disconnect_sockets(false).await {
        tracing::warn!(%error, "kicking room {room} failed");
    }
}
