//! socket.io-adapter's cluster protocol, which both the sharded adapter and the streams adapter
//! speak: every message is `{type, data, uid, nsp}`; what each `data` holds; and reading the
//! messages of the other servers. How and where a message travels (JSON or MessagePack, which
//! channel, pub/sub or a stream) is the caller's.

use roomcast::adapter::{BroadcastOptions, BroadcastPacket, SocketInfo};
use roomcast::{Room, Value};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::json::NodeJson;
use super::message::{Body, Incoming, Request, Response, WireError};
use super::opts::{read_opts, read_rooms, write_opts, JsonOpts};
use super::read::{event_and_args, read_sockets, Fields};
use roomcast::value::msgpack::Writer;

/// Message types of the cluster protocol (`MessageType` in socket.io-adapter).
pub(crate) mod kind {
    pub(crate) const INITIAL_HEARTBEAT: u64 = 1;
    pub(crate) const HEARTBEAT: u64 = 2;
    pub(crate) const BROADCAST: u64 = 3;
    pub(crate) const SOCKETS_JOIN: u64 = 4;
    pub(crate) const SOCKETS_LEAVE: u64 = 5;
    pub(crate) const DISCONNECT_SOCKETS: u64 = 6;
    pub(crate) const FETCH_SOCKETS: u64 = 7;
    pub(crate) const FETCH_SOCKETS_RESPONSE: u64 = 8;
    pub(crate) const SERVER_SIDE_EMIT: u64 = 9;
    pub(crate) const SERVER_SIDE_EMIT_RESPONSE: u64 = 10;
    pub(crate) const BROADCAST_CLIENT_COUNT: u64 = 11;
    pub(crate) const BROADCAST_ACK: u64 = 12;
    pub(crate) const ADAPTER_CLOSE: u64 = 13;
}

/// A message body, written in the order given, as JSON or MessagePack.
pub(crate) enum Tree<'a> {
    Nil,
    UInt(u64),
    Bool(bool),
    Str(&'a str),
    Value(&'a Value),
    /// `[event, ...args]`.
    Event(&'a str, &'a [Value]),
    Rooms(&'a [Room]),
    Opts(&'a BroadcastOptions),
    Sockets(&'a [SocketInfo]),
    Map(Vec<(&'static str, Tree<'a>)>),
}

impl Tree<'_> {
    /// Whether it holds binary (then Node writes it in MessagePack, when it may).
    pub(crate) fn has_binary(&self) -> bool {
        match self {
            Tree::Value(value) => value.has_binary(),
            Tree::Event(_, args) => args.iter().any(Value::has_binary),
            Tree::Sockets(sockets) => sockets.iter().any(|socket| socket.data.has_binary()),
            Tree::Map(entries) => entries.iter().any(|(_, tree)| tree.has_binary()),
            _ => false,
        }
    }

    /// Writes it in MessagePack.
    pub(crate) fn write(&self, writer: &mut Writer) {
        match self {
            Tree::Nil => writer.nil(),
            Tree::UInt(value) => writer.uint(*value),
            Tree::Bool(value) => writer.bool(*value),
            Tree::Str(value) => writer.str(value),
            Tree::Value(value) => writer.value(value),
            Tree::Event(event, args) => {
                writer.array(1 + args.len());
                writer.str(event);
                for arg in *args {
                    writer.value(arg);
                }
            }
            Tree::Rooms(rooms) => {
                writer.array(rooms.len());
                for room in *rooms {
                    writer.str(room.as_str());
                }
            }
            Tree::Opts(opts) => write_opts(writer, opts),
            Tree::Sockets(sockets) => {
                writer.array(sockets.len());
                for socket in *sockets {
                    // Described through a value: handshake and data as Node sends them.
                    match roomcast::value::to_value(socket) {
                        Ok(value) => writer.value(&value),
                        Err(_) => writer.nil(),
                    }
                }
            }
            Tree::Map(entries) => {
                writer.map(entries.len());
                for (key, tree) in entries {
                    writer.str(key);
                    tree.write(writer);
                }
            }
        }
    }
}

impl Serialize for Tree<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Nil => serializer.serialize_unit(),
            Tree::UInt(value) => serializer.serialize_u64(*value),
            Tree::Bool(value) => serializer.serialize_bool(*value),
            Tree::Str(value) => serializer.serialize_str(value),
            Tree::Value(value) => NodeJson(value).serialize(serializer),
            Tree::Event(event, args) => {
                let mut seq = serializer.serialize_seq(Some(1 + args.len()))?;
                seq.serialize_element(event)?;
                for arg in *args {
                    seq.serialize_element(&NodeJson(arg))?;
                }
                seq.end()
            }
            Tree::Rooms(rooms) => serializer.collect_seq(rooms.iter().map(Room::as_str)),
            Tree::Opts(opts) => JsonOpts {
                opts,
                with_flags: true,
            }
            .serialize(serializer),
            Tree::Sockets(sockets) => sockets.serialize(serializer),
            Tree::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, tree) in entries {
                    map.serialize_entry(key, tree)?;
                }
                map.end()
            }
        }
    }
}

/// The envelope of this server's messages in one namespace: `uid` tells its messages apart.
#[derive(Debug)]
pub(crate) struct Envelope {
    uid: String,
    nsp: String,
}

impl Envelope {
    /// A fresh server id for namespace `nsp`.
    pub(crate) fn new(nsp: &str) -> Envelope {
        Envelope {
            uid: crate::ids::hex16(),
            nsp: nsp.to_owned(),
        }
    }

    /// An envelope with a given id, for tests.
    #[cfg(test)]
    pub(crate) fn fixed(uid: &str, nsp: &str) -> Envelope {
        Envelope {
            uid: uid.to_owned(),
            nsp: nsp.to_owned(),
        }
    }

    /// This server's id.
    pub(crate) fn uid(&self) -> &str {
        &self.uid
    }

    /// The namespace.
    pub(crate) fn nsp(&self) -> &str {
        &self.nsp
    }

    /// `{type, data, uid, nsp}` in MessagePack.
    pub(crate) fn msgpack(&self, kind: u64, data: &Tree<'_>) -> Vec<u8> {
        let mut writer = Writer::new();
        writer.map(4);
        writer.str("type");
        writer.uint(kind);
        writer.str("data");
        data.write(&mut writer);
        writer.str("uid");
        writer.str(&self.uid);
        writer.str("nsp");
        writer.str(&self.nsp);
        writer.finish()
    }

    /// `{type, data, uid, nsp}` in JSON, or in MessagePack when `data` has binary and the type
    /// may carry some (as Node decides it).
    pub(crate) fn json_unless_binary(&self, kind: u64, data: Tree<'_>) -> Vec<u8> {
        if may_carry_binary(kind) && data.has_binary() {
            return self.msgpack(kind, &data);
        }
        let envelope = Tree::Map(vec![
            ("type", Tree::UInt(kind)),
            ("data", data),
            ("uid", Tree::Str(&self.uid)),
            ("nsp", Tree::Str(&self.nsp)),
        ]);
        serde_json::to_vec(&envelope).unwrap_or_default()
    }

    /// Reads another server's message: `None` for this server's own and for other
    /// namespaces'.
    pub(crate) fn read(&self, value: &Value) -> Result<Option<Incoming>, WireError> {
        let fields = Fields::of(value, "message")?;
        let uid = fields.opt_str("uid")?;
        if uid == Some(self.uid.as_str()) || fields.opt_str("nsp")? != Some(self.nsp.as_str()) {
            return Ok(None);
        }
        let kind = fields.uint("type")?;
        let data = fields.get("data");
        let data = || -> Result<Fields<'_>, WireError> {
            Fields::of(data.ok_or_else(|| WireError::shape("no \"data\""))?, "data")
        };
        let request_id = |data: &Fields<'_>| -> Result<String, WireError> {
            Ok(data.str("requestId")?.to_owned())
        };
        let body = match kind {
            kind::BROADCAST => {
                let data = data()?;
                let packet = Fields::of(data.value("packet")?, "packet")?;
                let (event, args) = event_and_args(packet.value("data")?)?;
                let opts = read_opts(data.get("opts"))?;
                Body::Request(match data.opt_str("requestId")? {
                    Some(request_id) => Request::BroadcastWithAck {
                        request_id: request_id.to_owned(),
                        event,
                        args,
                        opts,
                    },
                    None => Request::Broadcast { event, args, opts },
                })
            }
            kind::SOCKETS_JOIN | kind::SOCKETS_LEAVE => {
                let data = data()?;
                let opts = read_opts(data.get("opts"))?;
                let rooms = read_rooms(data.get("rooms"))?;
                Body::Request(if kind == kind::SOCKETS_JOIN {
                    Request::SocketsJoin { opts, rooms }
                } else {
                    Request::SocketsLeave { opts, rooms }
                })
            }
            kind::DISCONNECT_SOCKETS => {
                let data = data()?;
                Body::Request(Request::DisconnectSockets {
                    opts: read_opts(data.get("opts"))?,
                    close: data.flag("close"),
                })
            }
            kind::FETCH_SOCKETS => {
                let data = data()?;
                Body::Request(Request::FetchSockets {
                    request_id: request_id(&data)?,
                    opts: read_opts(data.get("opts"))?,
                })
            }
            kind::SERVER_SIDE_EMIT => {
                let data = data()?;
                let (event, args) = event_and_args(data.value("packet")?)?;
                Body::Request(Request::ServerSideEmit {
                    request_id: data.opt_str("requestId")?.map(str::to_owned),
                    event,
                    args,
                })
            }
            kind::FETCH_SOCKETS_RESPONSE => {
                let data = data()?;
                Body::Response(Response::FetchSockets {
                    request_id: request_id(&data)?,
                    sockets: read_sockets(data.value("sockets")?)?,
                })
            }
            kind::SERVER_SIDE_EMIT_RESPONSE => {
                let data = data()?;
                Body::Response(Response::ServerSideEmit {
                    request_id: request_id(&data)?,
                    value: data.get("packet").cloned().unwrap_or(Value::Null),
                })
            }
            kind::BROADCAST_CLIENT_COUNT => {
                let data = data()?;
                Body::Response(Response::ClientCount {
                    request_id: request_id(&data)?,
                    count: usize::try_from(data.uint("clientCount")?).unwrap_or(usize::MAX),
                })
            }
            kind::BROADCAST_ACK => {
                let data = data()?;
                Body::Response(Response::Ack {
                    request_id: request_id(&data)?,
                    value: data.get("packet").cloned(),
                })
            }
            // Heartbeats and closes belong to the heartbeat variant of the protocol, which the
            // sharded adapter does not use.
            kind::INITIAL_HEARTBEAT | kind::HEARTBEAT | kind::ADAPTER_CLOSE => return Ok(None),
            other => return Err(WireError::shape(format!("unknown message type {other}"))),
        };
        Ok(Some(Incoming {
            offset: None,
            from: uid.map(str::to_owned),
            body,
        }))
    }
}

/// The types whose `data` Node writes in MessagePack when it holds binary.
pub(crate) fn may_carry_binary(kind: u64) -> bool {
    matches!(
        kind,
        kind::BROADCAST
            | kind::BROADCAST_ACK
            | kind::FETCH_SOCKETS_RESPONSE
            | kind::SERVER_SIDE_EMIT
            | kind::SERVER_SIDE_EMIT_RESPONSE
    )
}

/// `{packet: {type: 2, data: [event, ...args]}, requestId?, opts}`: a broadcast, asking for
/// acknowledgements when it has a request id.
pub(crate) fn broadcast<'a>(
    packet: &'a BroadcastPacket,
    opts: &'a BroadcastOptions,
    request_id: Option<&'a str>,
) -> Result<Tree<'a>, roomcast::Error> {
    let mut data = vec![(
        "packet",
        Tree::Map(vec![
            ("type", Tree::UInt(2)),
            ("data", Tree::Event(packet.event()?, packet.args()?)),
        ]),
    )];
    if let Some(request_id) = request_id {
        data.push(("requestId", Tree::Str(request_id)));
    }
    data.push(("opts", Tree::Opts(opts)));
    Ok(Tree::Map(data))
}

/// `{opts, rooms}`: the targeted sockets join or leave `rooms`.
pub(crate) fn rooms_change<'a>(opts: &'a BroadcastOptions, rooms: &'a [Room]) -> Tree<'a> {
    Tree::Map(vec![
        ("opts", Tree::Opts(opts)),
        ("rooms", Tree::Rooms(rooms)),
    ])
}

/// `{opts, close}`: the targeted sockets disconnect.
pub(crate) fn disconnect(opts: &BroadcastOptions, close: bool) -> Tree<'_> {
    Tree::Map(vec![
        ("opts", Tree::Opts(opts)),
        ("close", Tree::Bool(close)),
    ])
}

/// `{opts, requestId}`: describe the targeted sockets.
pub(crate) fn fetch_sockets<'a>(request_id: &'a str, opts: &'a BroadcastOptions) -> Tree<'a> {
    Tree::Map(vec![
        ("opts", Tree::Opts(opts)),
        ("requestId", Tree::Str(request_id)),
    ])
}

/// `{requestId?, packet: [event, ...args]}`: a server-side event.
pub(crate) fn server_side_emit<'a>(
    request_id: Option<&'a str>,
    event: &'a str,
    args: &'a [Value],
) -> Tree<'a> {
    let mut data = Vec::with_capacity(2);
    if let Some(request_id) = request_id {
        data.push(("requestId", Tree::Str(request_id)));
    }
    data.push(("packet", Tree::Event(event, args)));
    Tree::Map(data)
}

/// `{requestId, sockets}`: the answer to a fetch.
pub(crate) fn fetch_sockets_response<'a>(
    request_id: &'a str,
    sockets: &'a [SocketInfo],
) -> Tree<'a> {
    Tree::Map(vec![
        ("requestId", Tree::Str(request_id)),
        ("sockets", Tree::Sockets(sockets)),
    ])
}

/// `{requestId, packet}`: the answer to a server-side event.
pub(crate) fn server_side_emit_response<'a>(request_id: &'a str, value: &'a Value) -> Tree<'a> {
    Tree::Map(vec![
        ("requestId", Tree::Str(request_id)),
        ("packet", Tree::Value(value)),
    ])
}

/// `{requestId, clientCount}`: how many sockets a broadcast with acknowledgements reached here.
pub(crate) fn client_count(request_id: &str, count: usize) -> Tree<'_> {
    Tree::Map(vec![
        ("requestId", Tree::Str(request_id)),
        ("clientCount", Tree::UInt(count as u64)),
    ])
}

/// `{requestId, packet}`: one socket's acknowledgement; without a value, `packet` is left out
/// or, with `nil_when_missing`, nil (as `@msgpack/msgpack` writes `undefined`).
pub(crate) fn ack<'a>(
    request_id: &'a str,
    value: Option<&'a Value>,
    nil_when_missing: bool,
) -> Tree<'a> {
    let mut data = vec![("requestId", Tree::Str(request_id))];
    match value {
        Some(value) => data.push(("packet", Tree::Value(value))),
        None if nil_when_missing => data.push(("packet", Tree::Nil)),
        None => {}
    }
    Tree::Map(data)
}
