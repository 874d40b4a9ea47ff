//! The `/chat` namespace: who may connect (anyone with a username), and what each event does.
//!
//! A gateway: [`ChatGateway`].
//!
//! | event (client → server) | effect |
//! |---|---|
//! | `switchRoom` room | leave the current room, join `room`; `roomChanged` room back |
//! | `message` text | `message` `{ room, id, username, text, ts }` to the whole room |
//! | `typing` / `stopTyping` | the same event, `{ username }`, to the room but the sender |
//! | `listUsers` (ack) | `[{ id, username }]` of the sender's room |
//! | `rooms` (ack) | `{ room: members }`: the listed rooms, and every other room with members |
//!
//! Joining and leaving tell the room with a `notification`; anything refused gets `error`. A
//! user whose connection drops and comes back within the recovery window (connection state
//! recovery) gets the same socket, room and the messages sent meanwhile: the room hears
//! nothing of it. A user who does not come back is said to have left when the window ends.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use roomcast::{AckSender, ConnectError, DisconnectReason, Socket, Value};
use roomcast_gateway::{gateway, Body, ConnectionGuard};
use serde::Serialize;

use crate::broadcast;
use crate::input::{InputError, MessageText, RoomName, Text, Username};
use crate::member::Member;
use crate::reply::{self, ChatErrors};
use crate::stats::{room_counts_of, user_list_of};

/// `/chat`: a dropped user is said to have left `recovery_window` after the drop, unless it came
/// back.
pub(crate) struct ChatGateway {
    recovery_window: Duration,
}

impl ChatGateway {
    pub(crate) fn new(recovery_window: Duration) -> ChatGateway {
        ChatGateway { recovery_window }
    }
}

/// The connection guard: `auth.username` must be a valid [`Username`]; it becomes the socket's
/// [`Member`] data, in the lobby.
struct Authenticate;

impl ConnectionGuard for Authenticate {
    async fn can_connect(&self, socket: &Socket) -> Result<(), ConnectError> {
        let username = socket
            .handshake()
            .auth
            .get("username")
            .and_then(Value::as_str)
            .ok_or(InputError::Username)
            .and_then(Username::parse)?;
        Member::new(username).save(socket)?;
        Ok(())
    }
}

#[gateway(
    namespace = "/chat",
    connection_guards(Authenticate),
    use_filters(ChatErrors)
)]
impl ChatGateway {
    #[handle_connection]
    async fn handle_connection(&self, socket: Socket) {
        on_connect(socket).await;
    }

    #[handle_disconnect]
    async fn handle_disconnect(&self, socket: Socket, reason: DisconnectReason) {
        on_disconnect(socket, reason, self.recovery_window).await;
    }

    #[subscribe_message("switchRoom")]
    async fn switch_room(&self, Body(text): Body<Text>, socket: Socket) {
        switch_room(socket, text).await;
    }

    #[subscribe_message("message")]
    async fn message(&self, Body(text): Body<Text>, socket: Socket) {
        message(socket, text).await;
    }

    #[subscribe_message("typing")]
    async fn typing(&self, socket: Socket) {
        relay_typing(socket, "typing").await;
    }

    #[subscribe_message("stopTyping")]
    async fn stop_typing(&self, socket: Socket) {
        relay_typing(socket, "stopTyping").await;
    }

    #[subscribe_message("listUsers")]
    async fn list_users(&self, socket: Socket, ack: AckSender) {
        list_users(socket, ack).await;
    }

    #[subscribe_message("rooms")]
    async fn rooms(&self, socket: Socket, ack: AckSender) {
        rooms(socket, ack).await;
    }
}

/// A new socket (its handlers are in place already): into its room, and the room is told; a
/// recovered one is back in its room already, with what it missed: nothing to tell anyone.
async fn on_connect(socket: Socket) {
    let Some(member) = Member::of(&socket) else {
        return socket.disconnect(false);
    };
    if socket.recovered() {
        tracing::info!(
            "socket {} recovered in room {:?}",
            socket.id(),
            member.room.as_str()
        );
        return;
    }
    join(&socket, &member.room).await;
    let notice = format!("{} joined {}", member.username, member.room);
    broadcast::to_room_except(&socket, &member.room, "notification", &notice).await;
}

async fn switch_room(socket: Socket, Text(requested): Text) {
    let target = match RoomName::parse(&requested) {
        Ok(room) => room,
        Err(error) => return reply::error(&socket, error),
    };
    let Some(mut member) = Member::of(&socket) else {
        return;
    };
    if member.room != target {
        let previous = std::mem::replace(&mut member.room, target);
        leave(&socket, &previous).await;
        join(&socket, &member.room).await;
        if let Err(error) = member.save(&socket) {
            tracing::warn!(socket = %socket.id(), %error, "member data not saved");
        }
        let left = format!("{} left {previous}", member.username);
        broadcast::to_room(socket.namespace(), &previous, "notification", &left).await;
        let joined = format!("{} joined {}", member.username, member.room);
        broadcast::to_room_except(&socket, &member.room, "notification", &joined).await;
    }
    // Last: when the client has it, both rooms have been told.
    reply::send(&socket, "roomChanged", member.room.as_str());
}

/// A chat message, as every member of the room receives it.
#[derive(Debug, Serialize)]
struct ChatMessage<'a> {
    room: &'a str,
    /// The sender's `/chat` socket id.
    id: &'a str,
    username: &'a str,
    text: &'a str,
    /// When the server received it, in milliseconds since the epoch.
    ts: u64,
}

async fn message(socket: Socket, Text(text): Text) {
    let text = match MessageText::parse(text) {
        Ok(text) => text,
        Err(error) => return reply::error(&socket, error),
    };
    let Some(member) = Member::of(&socket) else {
        return;
    };
    let id = socket.id();
    let message = ChatMessage {
        room: member.room.as_str(),
        id: id.as_str(),
        username: member.username.as_str(),
        text: text.as_str(),
        ts: now_ms(),
    };
    broadcast::to_room(socket.namespace(), &member.room, "message", &message).await;
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// Who is typing, for `typing` and `stopTyping`.
#[derive(Debug, Serialize)]
struct Typing<'a> {
    username: &'a str,
}

async fn relay_typing(socket: Socket, event: &'static str) {
    let Some(member) = Member::of(&socket) else {
        return;
    };
    let typing = Typing {
        username: member.username.as_str(),
    };
    broadcast::to_room_except(&socket, &member.room, event, &typing).await;
}

async fn list_users(socket: Socket, ack: AckSender) {
    if !reply::wants_ack(&socket, "listUsers", &ack) {
        return;
    }
    let Some(member) = Member::of(&socket) else {
        return;
    };
    let room = member.room.as_str();
    match socket.namespace().in_(room).fetch_sockets().await {
        Ok(sockets) => reply::ack(&socket, "listUsers", ack, &user_list_of(&sockets)),
        Err(error) => {
            tracing::warn!(%error, "cannot list the users of room {room:?}");
            reply::error(&socket, "The user list is not available right now");
        }
    }
}

async fn rooms(socket: Socket, ack: AckSender) {
    if !reply::wants_ack(&socket, "rooms", &ack) {
        return;
    }
    match socket.namespace().fetch_sockets().await {
        Ok(sockets) => reply::ack(&socket, "rooms", ack, &room_counts_of(&sockets)),
        Err(error) => {
            tracing::warn!(%error, "cannot count the members of the rooms");
            reply::error(&socket, "The room list is not available right now");
        }
    }
}

/// The socket has left every room by now; the room it was in is told, at once when the
/// socket left on purpose, after the recovery window when its connection dropped and it did not
/// come back (to this process or another).
async fn on_disconnect(socket: Socket, reason: DisconnectReason, recovery_window: Duration) {
    let Some(member) = Member::of(&socket) else {
        return;
    };
    if reason.is_recoverable() {
        tokio::time::sleep(recovery_window).await;
        match socket.namespace().in_(socket.id()).fetch_sockets().await {
            Ok(back) if !back.is_empty() => return,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot tell whether {} came back", socket.id()),
        }
    }
    tracing::info!(
        "socket {} left room {:?} ({reason})",
        socket.id(),
        member.room.as_str()
    );
    let notice = format!("{} left {}", member.username, member.room);
    broadcast::to_room(socket.namespace(), &member.room, "notification", &notice).await;
}

async fn join(socket: &Socket, room: &RoomName) {
    match socket.join(room.as_str()).await {
        Ok(()) => tracing::info!("socket {} joined room {:?}", socket.id(), room.as_str()),
        Err(error) => tracing::warn!(socket = %socket.id(), %error, "cannot join {room}"),
    }
}

async fn leave(socket: &Socket, room: &RoomName) {
    match socket.leave(room.as_str()).await {
        Ok(()) => tracing::info!("socket {} left room {:?}", socket.id(), room.as_str()),
        Err(error) => tracing::warn!(socket = %socket.id(), %error, "cannot leave {room}"),
    }
}
