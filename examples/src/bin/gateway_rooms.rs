//! roomcast-gateway-rooms: the rooms guide's two NestJS gateways, line for line, on
//! roomcast-gateway — with the guide's best practices made real: room names and user names
//! checked by their body types, `kickAll` kept for admins, `/chat` kept for named users.
//!
//! Env: `PORT` (3000), `RUST_LOG` (info; `debug` adds a line per emit). Prints
//! `listening on PORT` once ready.

use std::process::ExitCode;

use garde::Validate;
use roomcast::{ConnectError, DisconnectReason, Namespace, Server, Sid, Socket};
use roomcast_examples::{exit_code, init_tracing, port, shutdown_signal};
use roomcast_gateway::{
    gateway, register, ConnectionGuard, Guard, GuardContext, Valid, WsException,
};
use serde::{Deserialize, Serialize};

/// A room's name: a stable key of 1 to 64 characters of `a-z 0-9 : _ -`.
#[derive(Debug, Clone, Deserialize, Validate)]
#[garde(transparent)]
struct RoomName(#[garde(length(min = 1, max = 64), pattern(r"^[a-z0-9:_-]+$"))] String);

/// A user's name: 1 to 32 printable characters.
#[derive(Debug, Clone, Serialize, Deserialize, Validate)]
#[garde(transparent)]
#[serde(transparent)]
struct UserName(#[garde(length(chars, min = 1, max = 32), custom(printable))] String);

fn printable(name: &str, _: &()) -> garde::Result {
    if name.chars().any(char::is_control) {
        return Err(garde::Error::new("has control characters"));
    }
    Ok(())
}

/// `joinRoom` and `roomMessage`: a room and who speaks.
#[derive(Debug, Deserialize, Validate)]
struct RoomUser {
    #[garde(dive)]
    room: RoomName,
    #[garde(dive)]
    user: UserName,
}

/// `userJoined`.
#[derive(Serialize)]
struct UserJoined<'a> {
    user: &'a UserName,
    room: &'a str,
}

/// `userLeft`.
#[derive(Serialize)]
struct UserLeft<'a> {
    id: Sid,
    room: &'a str,
}

/// `message`.
#[derive(Serialize)]
struct RoomMessage<'a> {
    user: &'a UserName,
    from: Sid,
}

/// The acknowledgement of `roomStats`.
#[derive(Serialize)]
struct RoomStats {
    room: String,
    count: usize,
    members: Vec<String>,
}

/// Only a connection whose handshake auth has `role: "admin"`.
struct AdminGuard;

impl Guard for AdminGuard {
    async fn can_activate(&self, ctx: GuardContext<'_>) -> bool {
        ctx.handshake()
            .auth
            .get("role")
            .and_then(|role| role.as_str())
            == Some("admin")
    }
}

/// Only a handshake whose auth has a non-empty `user`.
struct NamedUser;

impl ConnectionGuard for NamedUser {
    async fn can_connect(&self, socket: &Socket) -> Result<(), ConnectError> {
        match socket
            .handshake()
            .auth
            .get("user")
            .and_then(|user| user.as_str())
        {
            Some(user) if !user.is_empty() => Ok(()),
            _ => Err(ConnectError::new("unauthorized")),
        }
    }
}

/// Rooms on `/`: join, leave, talk, count, kick.
struct RoomGateway;

/// Logs as Nest's `Logger` would, with the gateway's name first.
macro_rules! log {
    ($gateway:literal, $($arg:tt)*) => {
        tracing::info!(concat!("[", $gateway, "] {}"), format_args!($($arg)*))
    };
}

fn failed(error: impl std::fmt::Display) -> WsException {
    WsException::new(error.to_string())
}

#[gateway(namespace = "/")]
impl RoomGateway {
    #[handle_connection]
    async fn handle_connection(&self, socket: Socket) {
        log!("RoomGateway", "client connected: {}", socket.id());
    }

    #[handle_disconnect]
    async fn handle_disconnect(&self, socket: Socket, reason: DisconnectReason) {
        log!(
            "RoomGateway",
            "client disconnected: {} ({reason})",
            socket.id()
        );
    }

    #[subscribe_message("joinRoom")]
    async fn join_room(
        &self,
        Valid(body): Valid<RoomUser>,
        socket: Socket,
    ) -> Result<(), WsException> {
        let room = body.room.0.as_str();
        socket.join(room).await.map_err(failed)?;
        log!("RoomGateway", "socket {} joined room {room:?}", socket.id());
        let joined = UserJoined {
            user: &body.user,
            room,
        };
        socket
            .to(room)
            .emit("userJoined", &joined)
            .await
            .map_err(failed)
    }

    #[subscribe_message("leaveRoom")]
    async fn leave_room(
        &self,
        Valid(room): Valid<RoomName>,
        socket: Socket,
    ) -> Result<(), WsException> {
        let room = room.0.as_str();
        socket.leave(room).await.map_err(failed)?;
        log!("RoomGateway", "socket {} left room {room:?}", socket.id());
        let left = UserLeft {
            id: socket.id(),
            room,
        };
        socket
            .namespace()
            .to(room)
            .emit("userLeft", &left)
            .await
            .map_err(failed)
    }

    #[subscribe_message("roomMessage")]
    async fn room_message(
        &self,
        Valid(body): Valid<RoomUser>,
        socket: Socket,
        nsp: Namespace,
    ) -> Result<(), WsException> {
        let message = RoomMessage {
            user: &body.user,
            from: socket.id(),
        };
        nsp.to(body.room.0.as_str())
            .emit("message", &message)
            .await
            .map_err(failed)
    }

    #[subscribe_message("roomStats")]
    async fn room_stats(
        &self,
        Valid(room): Valid<RoomName>,
        nsp: Namespace,
    ) -> Result<RoomStats, WsException> {
        let sockets = nsp
            .in_(room.0.as_str())
            .fetch_sockets()
            .await
            .map_err(failed)?;
        let members: Vec<String> = sockets
            .iter()
            .map(|socket| socket.id().to_owned())
            .collect();
        Ok(RoomStats {
            room: room.0,
            count: members.len(),
            members,
        })
    }

    #[subscribe_message("kickAll")]
    #[use_guards(AdminGuard)]
    async fn kick_all(
        &self,
        Valid(room): Valid<RoomName>,
        nsp: Namespace,
    ) -> Result<(), WsException> {
        log!("RoomGateway", "kicking every socket of room {:?}", room.0);
        nsp.in_(room.0.as_str())
            .disconnect_sockets(true)
            .await
            .map_err(failed)
    }
}

/// Announcements on `/chat`, for named users only.
struct ChatGateway;

#[gateway(namespace = "/chat", connection_guards(NamedUser))]
impl ChatGateway {
    #[after_init]
    async fn after_init(&self, nsp: Namespace) {
        log!("ChatGateway", "initialized on {}", nsp.name());
    }

    #[subscribe_message("announce")]
    async fn announce(
        &self,
        Valid(text): Valid<Announcement>,
        nsp: Namespace,
    ) -> Result<(), WsException> {
        nsp.emit("announcement", &text.0).await.map_err(failed)
    }
}

/// An announcement: 1 to 1000 characters.
#[derive(Debug, Deserialize, Validate)]
#[garde(transparent)]
struct Announcement(#[garde(length(chars, min = 1, max = 1000))] String);

fn main() -> ExitCode {
    roomcast_examples::allocator::return_freed_memory_at_once();
    init_tracing();
    let outcome = roomcast_examples::runtime::multi_thread()
        .map_err(Into::into)
        .and_then(|runtime| runtime.block_on(run()));
    exit_code("roomcast-gateway-rooms", outcome)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let port = port()?;
    let io = Server::new();
    register(&io, RoomGateway).await?;
    register(&io, ChatGateway).await?;
    let listener = roomcast::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?.port());
    tokio::select! {
        served = io.serve(listener) => served?,
        () = shutdown_signal() => io.close().await,
    }
    Ok(())
}
