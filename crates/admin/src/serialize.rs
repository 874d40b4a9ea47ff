//! Sockets as the Admin UI shows them (`SerializedSocket`): id, client id (the first 12
//! characters of the connection's id), transport, namespace, data, the handshake without its
//! `auth`, and rooms.

use roomcast::value::{Map, Value};
use roomcast::{Handshake, RemoteSocket, Room, Socket};
use serde::Serialize;

use crate::time::date_string;

/// A socket, as the UI reads it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SerializedSocket {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<&'static str>,
    nsp: String,
    data: Value,
    handshake: SerializedHandshake,
    rooms: Vec<String>,
}

/// The handshake fields the UI reads (`auth` is never shown).
#[derive(Debug, Clone, Serialize)]
struct SerializedHandshake {
    address: Option<String>,
    headers: Map,
    query: Map,
    issued: u64,
    secure: bool,
    time: String,
    url: String,
    xdomain: bool,
}

impl SerializedHandshake {
    fn of(handshake: &Handshake) -> SerializedHandshake {
        let headers = handshake
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), Value::from(value.to_str().ok()?)))
            })
            .collect();
        let query = handshake
            .query()
            .into_iter()
            .map(|(name, value)| (name, Value::from(value)))
            .collect();
        SerializedHandshake {
            address: handshake.address().map(|address| address.ip().to_string()),
            headers,
            query,
            issued: handshake.issued_ms(),
            secure: handshake.secure(),
            time: date_string(handshake.issued_ms()),
            url: handshake.url().to_string(),
            xdomain: handshake.xdomain(),
        }
    }
}

fn names(rooms: &[Room]) -> Vec<String> {
    rooms.iter().map(|room| room.as_str().to_owned()).collect()
}

/// The first 12 characters of a connection id, as the UI groups sockets into clients.
fn client_id(id: &str) -> String {
    id.chars().take(12).collect()
}

impl SerializedSocket {
    /// A socket of this process.
    pub(crate) fn local(socket: &Socket) -> SerializedSocket {
        SerializedSocket {
            id: socket.id().to_string(),
            client_id: Some(client_id(socket.client_id().as_str())),
            transport: Some(socket.transport().as_str()),
            nsp: socket.ns().to_owned(),
            data: socket.data::<Value>().unwrap_or(Value::Null),
            handshake: SerializedHandshake::of(socket.handshake()),
            rooms: names(&socket.rooms()),
        }
    }

    /// A socket of any server of the cluster, as `fetch_sockets` describes it. A Node server's
    /// sockets carry their client id and transport in `data._admin`.
    pub(crate) fn remote(socket: &RemoteSocket) -> SerializedSocket {
        let mut data = socket.data().clone();
        let admin = match &mut data {
            Value::Object(fields) => fields.remove("_admin"),
            _ => None,
        };
        let field = |name: &str| {
            admin
                .as_ref()
                .and_then(|admin| admin.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        SerializedSocket {
            id: socket.id().to_owned(),
            client_id: field("clientId"),
            transport: field("transport").map(|transport| match transport.as_str() {
                "websocket" => "websocket",
                _ => "polling",
            }),
            nsp: socket.ns().to_owned(),
            data,
            handshake: SerializedHandshake::of(socket.handshake()),
            rooms: names(socket.rooms()),
        }
    }
}
