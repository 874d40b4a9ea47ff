//! The sharded adapter's messages (`createShardedAdapter`, over socket.io-adapter's cluster
//! protocol): every message is `{type, data, uid, nsp}`, JSON unless it may carry binary and
//! does, then MessagePack; SPUBLISHed on `<prefix>#<nsp>#` (or a room's channel), answers on
//! `<prefix>#<nsp>#<requester uid>#`.

use roomcast::adapter::{BroadcastOptions, BroadcastPacket, SocketInfo};
use roomcast::{Room, Value};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::json::NodeJson;
use super::opts::{read_opts, read_rooms, write_opts, JsonOpts};
use super::read::{event_and_args, read_json_or_msgpack, read_sockets, Fields};
use super::{
    Body, Count, Incoming, Protocol, Publish, Request, Response, Subscriptions, WireError,
};
use crate::mode::SubscriptionMode;
use crate::msgpack::Writer;

/// Message types of the cluster protocol (`MessageType` in socket.io-adapter).
mod kind {
    pub(super) const INITIAL_HEARTBEAT: u64 = 1;
    pub(super) const HEARTBEAT: u64 = 2;
    pub(super) const BROADCAST: u64 = 3;
    pub(super) const SOCKETS_JOIN: u64 = 4;
    pub(super) const SOCKETS_LEAVE: u64 = 5;
    pub(super) const DISCONNECT_SOCKETS: u64 = 6;
    pub(super) const FETCH_SOCKETS: u64 = 7;
    pub(super) const FETCH_SOCKETS_RESPONSE: u64 = 8;
    pub(super) const SERVER_SIDE_EMIT: u64 = 9;
    pub(super) const SERVER_SIDE_EMIT_RESPONSE: u64 = 10;
    pub(super) const BROADCAST_CLIENT_COUNT: u64 = 11;
    pub(super) const BROADCAST_ACK: u64 = 12;
    pub(super) const ADAPTER_CLOSE: u64 = 13;
}

/// A message body, written in the order given, as JSON or MessagePack.
enum Tree<'a> {
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
    fn has_binary(&self) -> bool {
        match self {
            Tree::Value(value) => value.has_binary(),
            Tree::Event(_, args) => args.iter().any(Value::has_binary),
            Tree::Sockets(sockets) => sockets.iter().any(|socket| socket.data.has_binary()),
            Tree::Map(entries) => entries.iter().any(|(_, tree)| tree.has_binary()),
            _ => false,
        }
    }

    fn write(&self, writer: &mut Writer) {
        match self {
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

/// The sharded adapter of one namespace.
pub(crate) struct Sharded {
    uid: String,
    nsp: String,
    /// `<prefix>#<nsp>#`.
    channel: String,
    mode: SubscriptionMode,
}

impl Sharded {
    pub(crate) fn new(prefix: &str, nsp: &str, mode: SubscriptionMode) -> Sharded {
        Sharded {
            uid: crate::ids::hex16(),
            nsp: nsp.to_owned(),
            channel: format!("{prefix}#{nsp}#"),
            mode,
        }
    }

    /// `<prefix>#<nsp>#<name>#`: a server's answers (by its uid) or a room's messages.
    fn sub_channel(&self, name: &str) -> String {
        format!("{}{name}#", self.channel)
    }

    /// `{type, data, uid, nsp}`, in MessagePack when `data` has binary and the type may carry
    /// some (as Node decides it), else JSON.
    fn message(&self, kind: u64, data: Tree<'_>) -> Vec<u8> {
        let may_carry_binary = matches!(
            kind,
            kind::BROADCAST
                | kind::BROADCAST_ACK
                | kind::FETCH_SOCKETS_RESPONSE
                | kind::SERVER_SIDE_EMIT
                | kind::SERVER_SIDE_EMIT_RESPONSE
        );
        if may_carry_binary && data.has_binary() {
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
            return writer.finish();
        }
        let envelope = Tree::Map(vec![
            ("type", Tree::UInt(kind)),
            ("data", data),
            ("uid", Tree::Str(&self.uid)),
            ("nsp", Tree::Str(&self.nsp)),
        ]);
        serde_json::to_vec(&envelope).unwrap_or_default()
    }

    fn publish(&self, channel: String, kind: u64, data: Tree<'_>) -> Publish {
        Publish {
            channel,
            payload: self.message(kind, data),
            sharded: true,
        }
    }

    fn to_all(&self, kind: u64, data: Tree<'_>) -> Publish {
        self.publish(self.channel.clone(), kind, data)
    }

    /// Node's `computeChannel`: a broadcast to exactly one room goes to the room's channel
    /// when the mode gives that room one (in `dynamic`, a 20-character name is taken for a
    /// socket id and stays on the namespace's channel).
    fn broadcast_channel(&self, opts: &BroadcastOptions) -> String {
        match (opts.rooms.as_slice(), self.mode) {
            ([room], SubscriptionMode::DynamicPrivate) => self.sub_channel(room.as_str()),
            ([room], SubscriptionMode::Dynamic) if room.as_str().chars().count() != 20 => {
                self.sub_channel(room.as_str())
            }
            _ => self.channel.clone(),
        }
    }

    fn read(&self, value: &Value) -> Result<Option<Incoming>, WireError> {
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
            from: uid.map(str::to_owned),
            body,
        }))
    }
}

impl Protocol for Sharded {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn request_id(&self) -> String {
        crate::ids::hex16()
    }

    fn sharded_mode(&self) -> Option<SubscriptionMode> {
        Some(self.mode)
    }

    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            patterns: Vec::new(),
            channels: Vec::new(),
            shard_channels: vec![self.channel.clone(), self.sub_channel(&self.uid)],
        }
    }

    fn count(&self) -> Count {
        Count::ShardNumSub(self.channel.clone())
    }

    fn broadcast(
        &self,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Publish, roomcast::Error> {
        let data = Tree::Map(vec![
            (
                "packet",
                Tree::Map(vec![
                    ("type", Tree::UInt(2)),
                    ("data", Tree::Event(packet.event()?, packet.args()?)),
                ]),
            ),
            ("opts", Tree::Opts(opts)),
        ]);
        Ok(self.publish(self.broadcast_channel(opts), kind::BROADCAST, data))
    }

    fn broadcast_with_ack(
        &self,
        request_id: &str,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Publish, roomcast::Error> {
        let data = Tree::Map(vec![
            (
                "packet",
                Tree::Map(vec![
                    ("type", Tree::UInt(2)),
                    ("data", Tree::Event(packet.event()?, packet.args()?)),
                ]),
            ),
            ("requestId", Tree::Str(request_id)),
            ("opts", Tree::Opts(opts)),
        ]);
        Ok(self.to_all(kind::BROADCAST, data))
    }

    fn sockets_join(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Publish {
        let data = Tree::Map(vec![
            ("opts", Tree::Opts(opts)),
            ("rooms", Tree::Rooms(rooms)),
        ]);
        self.to_all(kind::SOCKETS_JOIN, data)
    }

    fn sockets_leave(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Publish {
        let data = Tree::Map(vec![
            ("opts", Tree::Opts(opts)),
            ("rooms", Tree::Rooms(rooms)),
        ]);
        self.to_all(kind::SOCKETS_LEAVE, data)
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Publish {
        let data = Tree::Map(vec![
            ("opts", Tree::Opts(opts)),
            ("close", Tree::Bool(close)),
        ]);
        self.to_all(kind::DISCONNECT_SOCKETS, data)
    }

    fn fetch_sockets(&self, request_id: &str, opts: &BroadcastOptions) -> Publish {
        let data = Tree::Map(vec![
            ("opts", Tree::Opts(opts)),
            ("requestId", Tree::Str(request_id)),
        ]);
        self.to_all(kind::FETCH_SOCKETS, data)
    }

    fn all_rooms(&self, _request_id: &str) -> Option<Publish> {
        None
    }

    fn server_side_emit(&self, request_id: Option<&str>, event: &str, args: &[Value]) -> Publish {
        let mut data = Vec::with_capacity(2);
        if let Some(request_id) = request_id {
            data.push(("requestId", Tree::Str(request_id)));
        }
        data.push(("packet", Tree::Event(event, args)));
        self.to_all(kind::SERVER_SIDE_EMIT, Tree::Map(data))
    }

    fn fetch_sockets_response(
        &self,
        to: &str,
        request_id: &str,
        sockets: &[SocketInfo],
    ) -> Publish {
        let data = Tree::Map(vec![
            ("requestId", Tree::Str(request_id)),
            ("sockets", Tree::Sockets(sockets)),
        ]);
        self.publish(self.sub_channel(to), kind::FETCH_SOCKETS_RESPONSE, data)
    }

    fn all_rooms_response(&self, _to: &str, _request_id: &str, _rooms: &[Room]) -> Option<Publish> {
        None
    }

    fn server_side_emit_response(&self, to: &str, request_id: &str, value: &Value) -> Publish {
        let data = Tree::Map(vec![
            ("requestId", Tree::Str(request_id)),
            ("packet", Tree::Value(value)),
        ]);
        self.publish(self.sub_channel(to), kind::SERVER_SIDE_EMIT_RESPONSE, data)
    }

    fn client_count_response(&self, to: &str, request_id: &str, count: usize) -> Publish {
        let data = Tree::Map(vec![
            ("requestId", Tree::Str(request_id)),
            ("clientCount", Tree::UInt(count as u64)),
        ]);
        self.publish(self.sub_channel(to), kind::BROADCAST_CLIENT_COUNT, data)
    }

    fn ack_response(&self, to: &str, request_id: &str, value: Option<&Value>) -> Publish {
        let mut data = vec![("requestId", Tree::Str(request_id))];
        if let Some(value) = value {
            data.push(("packet", Tree::Value(value)));
        }
        self.publish(self.sub_channel(to), kind::BROADCAST_ACK, Tree::Map(data))
    }

    fn legacy_response(&self, _request_id: &str, _sockets: Option<&[String]>) -> Option<Publish> {
        None
    }

    fn decode(&self, channel: &str, payload: &[u8]) -> Result<Option<Incoming>, WireError> {
        if !channel.starts_with(&self.channel) {
            return Ok(None);
        }
        self.read(&read_json_or_msgpack(payload)?)
    }

    fn room_of_channel<'c>(&self, _channel: &'c str) -> Option<&'c str> {
        None
    }

    fn room_channel(&self, room: &Room) -> Option<String> {
        (self.mode != SubscriptionMode::Static).then(|| self.sub_channel(room.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn sharded(mode: SubscriptionMode) -> Sharded {
        Sharded {
            uid: "2fe9751071111966".into(),
            nsp: "/".into(),
            channel: "socket.io#/#".into(),
            mode,
        }
    }

    fn room(name: &str) -> Room {
        Room::new(name).unwrap()
    }

    #[test]
    fn messages_are_the_json_node_writes() {
        let adapter = sharded(SubscriptionMode::Dynamic);
        let packet =
            BroadcastPacket::new("/", "ev", vec![Value::from(1), Value::from("x")], None).unwrap();
        let opts = BroadcastOptions::to(vec![room("r1")]);
        let published = adapter.broadcast(&packet, &opts).unwrap();
        assert_eq!(published.channel, "socket.io#/#r1#");
        assert!(published.sharded);
        assert_eq!(
            String::from_utf8(published.payload).unwrap(),
            r#"{"type":3,"data":{"packet":{"type":2,"data":["ev",1,"x"]},"opts":{"rooms":["r1"],"except":[],"flags":{}}},"uid":"2fe9751071111966","nsp":"/"}"#
        );
        let join = adapter.sockets_join(&BroadcastOptions::default(), &[room("j1")]);
        assert_eq!(join.channel, "socket.io#/#");
        assert_eq!(
            String::from_utf8(join.payload).unwrap(),
            r#"{"type":4,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["j1"]},"uid":"2fe9751071111966","nsp":"/"}"#
        );
        let fetch = adapter.fetch_sockets("fb9aa30387ae8065", &BroadcastOptions::default());
        assert_eq!(
            String::from_utf8(fetch.payload).unwrap(),
            r#"{"type":7,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"requestId":"fb9aa30387ae8065"},"uid":"2fe9751071111966","nsp":"/"}"#
        );
        let sse = adapter.server_side_emit(Some("c6"), "ping-srv", &[Value::from(1)]);
        assert_eq!(
            String::from_utf8(sse.payload).unwrap(),
            r#"{"type":9,"data":{"requestId":"c6","packet":["ping-srv",1]},"uid":"2fe9751071111966","nsp":"/"}"#
        );
        let count = adapter.client_count_response("abcd", "46", 1);
        assert_eq!(count.channel, "socket.io#/#abcd#");
    }

    #[test]
    fn binary_switches_to_messagepack() {
        let adapter = sharded(SubscriptionMode::Static);
        let packet = BroadcastPacket::new(
            "/",
            "ev",
            vec![Value::Binary(Bytes::from_static(&[1, 2, 3]))],
            None,
        )
        .unwrap();
        let published = adapter
            .broadcast(&packet, &BroadcastOptions::default())
            .unwrap();
        let hex: String = published
            .payload
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "84a47479706503a46461746182a67061636b657482a47479706502a46461746192a26576c403010203\
             a46f70747383a5726f6f6d7390a665786365707490a5666c61677380\
             a3756964b030313233343536373839616263646566a36e7370a12f"
                .replace(
                    "30313233343536373839616263646566",
                    "32666539373531303731313131393636"
                )
        );
        // And back.
        let incoming = sharded(SubscriptionMode::Static).decode("socket.io#/#", &published.payload);
        // Its own message: skipped.
        assert!(incoming.unwrap().is_none());
    }

    #[test]
    fn channels_follow_the_subscription_mode() {
        let one = |name: &str| BroadcastOptions::to(vec![room(name)]);
        let socket_like = "abcdefghijabcdefghij";
        let dynamic = sharded(SubscriptionMode::Dynamic);
        assert_eq!(dynamic.broadcast_channel(&one("r")), "socket.io#/#r#");
        assert_eq!(dynamic.broadcast_channel(&one(socket_like)), "socket.io#/#");
        let private = sharded(SubscriptionMode::DynamicPrivate);
        assert_eq!(
            private.broadcast_channel(&one(socket_like)),
            format!("socket.io#/#{socket_like}#")
        );
        let fixed = sharded(SubscriptionMode::Static);
        assert_eq!(fixed.broadcast_channel(&one("r")), "socket.io#/#");
        assert_eq!(fixed.room_channel(&room("r")), None);
    }

    #[test]
    fn node_messages_read_back() {
        let adapter = sharded(SubscriptionMode::Dynamic);
        let from_node =
            br#"{"type":11,"data":{"requestId":"46","clientCount":1},"uid":"aaaa","nsp":"/"}"#;
        let incoming = adapter
            .decode("socket.io#/#2fe9751071111966#", from_node)
            .unwrap()
            .unwrap();
        assert!(matches!(
            incoming.body,
            Body::Response(Response::ClientCount { count: 1, .. })
        ));
        let other_nsp =
            br#"{"type":4,"data":{"opts":{},"rooms":["x"]},"uid":"aaaa","nsp":"/chat"}"#;
        assert!(adapter.decode("socket.io#/#", other_nsp).unwrap().is_none());
        let unknown = br#"{"type":99,"uid":"aaaa","nsp":"/"}"#;
        assert!(adapter.decode("socket.io#/#", unknown).is_err());
        assert!(adapter.decode("socket.io#/#", b"{not json").is_err());
    }
}
