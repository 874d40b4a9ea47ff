//! Who a `/chat` socket is: its username and the room it is in.
//!
//! This lives in the socket's data (`Socket::set_data`), not in a map of this process, so that
//! `fetch_sockets` describes it wherever the socket is connected, and it goes away with the
//! socket.

use roomcast::{RemoteSocket, Socket, Value};
use serde::{Deserialize, Serialize};

use crate::input::{RoomName, Username};

/// A chat user, as kept in its socket's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Member {
    /// The name it connected with.
    pub username: Username,
    /// The room it is in.
    pub room: RoomName,
}

impl Member {
    /// A user who just connected: in the lobby.
    pub(crate) fn new(username: Username) -> Member {
        Member {
            username,
            room: RoomName::lobby(),
        }
    }

    /// The member data of a local socket. `None` (logged) when it has none, which the `/chat`
    /// middleware rules out for every connected socket.
    pub(crate) fn of(socket: &Socket) -> Option<Member> {
        socket
            .data::<Member>()
            .inspect_err(|error| {
                tracing::warn!(socket = %socket.id(), %error, "socket without member data");
            })
            .ok()
    }

    /// The member data a `fetch_sockets` answer carries.
    pub(crate) fn of_remote(socket: &RemoteSocket) -> Option<Member> {
        Member::from_data(socket.data())
    }

    /// Reads member data; `None` if it is not one.
    pub(crate) fn from_data(data: &Value) -> Option<Member> {
        roomcast::value::from_value(data.clone()).ok()
    }

    /// Stores this member in the socket's data.
    pub(crate) fn save(&self, socket: &Socket) -> Result<(), roomcast::Error> {
        socket.set_data(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_data_round_trips_through_a_value() {
        let member = Member::new(Username::parse("alice").unwrap());
        let data = roomcast::value::to_value(&member).unwrap();
        assert_eq!(data.get("username").and_then(Value::as_str), Some("alice"));
        assert_eq!(data.get("room").and_then(Value::as_str), Some("general"));
        assert_eq!(Member::from_data(&data), Some(member));
        assert_eq!(Member::from_data(&Value::Null), None);
    }
}
