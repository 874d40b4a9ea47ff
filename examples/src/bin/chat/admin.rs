//! The `/admin` namespace: who may connect (whoever has the admin token), and what it can do
//! to `/chat`. Everything goes through the adapter (`fetch_sockets`, `emit`,
//! `disconnect_sockets`), so it covers every process of a cluster, not only this one.
//!
//! | event (client → server) | effect |
//! |---|---|
//! | `getStats` (ack) | `{ chatUsers, adminUsers, rooms: { room: members } }` |
//! | `announce` text | `announcement` text to every `/chat` socket |
//! | `kickAll` room | every `/chat` socket in `room` is disconnected |

use roomcast::{AckSender, ConnectError, Namespace, Socket, Value};

use crate::broadcast::local_members;
use crate::config::AdminToken;
use crate::input::{MessageText, RoomName, Text};
use crate::reply;
use crate::stats::Stats;

/// Sets up `/admin`, acting on `chat`.
pub(crate) fn register(admin: &Namespace, chat: Namespace, token: AdminToken) {
    admin.use_(move |socket: Socket| {
        let token = token.clone();
        async move { authorize(&socket, &token) }
    });
    admin.on_connect(move |socket: Socket| {
        let chat = chat.clone();
        async move { listen(&socket, chat) }
    });
}

/// The middleware: `auth.token` must be the admin token.
fn authorize(socket: &Socket, token: &AdminToken) -> Result<(), ConnectError> {
    let given = socket.handshake().auth.get("token").and_then(Value::as_str);
    if given.is_some_and(|given| token.matches(given)) {
        Ok(())
    } else {
        tracing::info!(socket = %socket.id(), "admin connection refused");
        Err(ConnectError::new("unauthorized"))
    }
}

fn listen(socket: &Socket, chat: Namespace) {
    tracing::info!("admin socket {} connected", socket.id());
    let on_chat = chat.clone();
    socket.on("getStats", move |socket: Socket, (): (), ack: AckSender| {
        get_stats(socket, on_chat.clone(), ack)
    });
    let on_chat = chat.clone();
    socket.on("announce", move |socket: Socket, Text(text): Text| {
        announce(socket, on_chat.clone(), text)
    });
    socket.on("kickAll", move |socket: Socket, Text(room): Text| {
        kick_all(socket, chat.clone(), room)
    });
    socket.on_error(reply::invalid_payload);
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
