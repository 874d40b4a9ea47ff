//! The classic adapter's messages (`@socket.io/redis-adapter` 8, `createAdapter`), byte for
//! byte: broadcasts as the MessagePack array `[uid, packet, opts]` on `<key>#<nsp>#` (or
//! `<key>#<nsp>#<room>#` for one room), requests as JSON (or MessagePack for broadcasts with
//! acknowledgements) on `<key>-request#<nsp>#`, responses on `<key>-response#<nsp>#`.

use std::time::Duration;

use roomcast::adapter::{BroadcastOptions, BroadcastPacket, SocketInfo};
use roomcast::{Room, Value};
use serde::Serialize;

use super::json::NodeJson;
use super::message::{
    Body, Count, Incoming, Outgoing, Publish, RemoteAction, Request, Response, Subscriptions,
    WireError,
};
use super::opts::{read_opts, read_rooms, write_emitter_opts, write_opts, JsonOpts};
use super::protocol::Protocol;
use super::read::{event_and_args, read_json_or_msgpack, read_sockets, Fields};
use super::stream::StreamSide;
use roomcast::value::msgpack::{self, Writer};

/// Request and response types (`RequestType` in the adapter's source).
mod kind {
    pub(super) const SOCKETS: u64 = 0;
    pub(super) const ALL_ROOMS: u64 = 1;
    pub(super) const REMOTE_JOIN: u64 = 2;
    pub(super) const REMOTE_LEAVE: u64 = 3;
    pub(super) const REMOTE_DISCONNECT: u64 = 4;
    pub(super) const REMOTE_FETCH: u64 = 5;
    pub(super) const SERVER_SIDE_EMIT: u64 = 6;
    pub(super) const BROADCAST: u64 = 7;
    pub(super) const BROADCAST_CLIENT_COUNT: u64 = 8;
    pub(super) const BROADCAST_ACK: u64 = 9;
}

/// The channels of one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Channels {
    nsp: String,
    /// `<key>#<nsp>#`, the broadcast channel (room channels add `<room>#`).
    broadcast: String,
    request: String,
    response: String,
}

impl Channels {
    pub(crate) fn new(key: &str, nsp: &str) -> Channels {
        Channels {
            nsp: nsp.to_owned(),
            broadcast: format!("{key}#{nsp}#"),
            request: format!("{key}-request#{nsp}#"),
            response: format!("{key}-response#{nsp}#"),
        }
    }

    /// Where a broadcast to `opts` goes: the room's channel for exactly one room.
    fn broadcast_channel(&self, opts: &BroadcastOptions) -> String {
        match opts.rooms.as_slice() {
            [room] => format!("{}{}#", self.broadcast, room.as_str()),
            _ => self.broadcast.clone(),
        }
    }

    fn publish(channel: String, payload: Vec<u8>) -> Publish {
        Publish {
            channel,
            payload,
            sharded: false,
        }
    }

    fn request(&self, payload: Vec<u8>) -> Publish {
        Channels::publish(self.request.clone(), payload)
    }
}

/// A broadcast as `[uid, {type: 2, data: [event, ...args], nsp}, opts]`; the emitter writes
/// its options in another order.
pub(crate) fn broadcast_message(
    uid: &str,
    nsp: &str,
    event: &str,
    args: &[Value],
    opts: &BroadcastOptions,
    emitter_order: bool,
) -> Vec<u8> {
    let mut writer = Writer::new();
    writer.array(3);
    writer.str(uid);
    write_packet(&mut writer, nsp, event, args);
    if emitter_order {
        write_emitter_opts(&mut writer, opts);
    } else {
        write_opts(&mut writer, opts);
    }
    writer.finish()
}

/// `{type: 2, data: [event, ...args], nsp}`.
fn write_packet(writer: &mut Writer, nsp: &str, event: &str, args: &[Value]) {
    writer.map(3);
    writer.str("type");
    writer.uint(2);
    writer.str("data");
    writer.array(1 + args.len());
    writer.str(event);
    for arg in args {
        writer.value(arg);
    }
    writer.str("nsp");
    writer.str(nsp);
}

/// `socketsJoin` / `socketsLeave` as JSON; `uid` is absent in the emitter's.
#[derive(Serialize)]
struct RoomsRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(rename = "type")]
    kind: u64,
    opts: JsonOpts<'a>,
    rooms: Vec<&'a str>,
}

#[derive(Serialize)]
struct DisconnectRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(rename = "type")]
    kind: u64,
    opts: JsonOpts<'a>,
    close: bool,
}

#[derive(Serialize)]
struct SideEmitRequest<'a> {
    uid: &'a str,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: u64,
    data: SideEmitData<'a>,
}

/// `[event, ...args]` as Node's JSON writes it.
struct SideEmitData<'a>(&'a str, &'a [Value]);

impl Serialize for SideEmitData<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(1 + self.1.len()))?;
        seq.serialize_element(self.0)?;
        for arg in self.1 {
            seq.serialize_element(&NodeJson(arg))?;
        }
        seq.end()
    }
}

/// JSON text of a message (the types here always serialize).
fn json(message: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(message).unwrap_or_default()
}

pub(crate) fn sockets_join(uid: Option<&str>, opts: &BroadcastOptions, rooms: &[Room]) -> Vec<u8> {
    rooms_request(uid, kind::REMOTE_JOIN, opts, rooms)
}

pub(crate) fn sockets_leave(uid: Option<&str>, opts: &BroadcastOptions, rooms: &[Room]) -> Vec<u8> {
    rooms_request(uid, kind::REMOTE_LEAVE, opts, rooms)
}

fn rooms_request(uid: Option<&str>, kind: u64, opts: &BroadcastOptions, rooms: &[Room]) -> Vec<u8> {
    json(&RoomsRequest {
        uid,
        kind,
        opts: JsonOpts {
            opts,
            with_flags: false,
        },
        rooms: rooms.iter().map(Room::as_str).collect(),
    })
}

pub(crate) fn disconnect_sockets(
    uid: Option<&str>,
    opts: &BroadcastOptions,
    close: bool,
) -> Vec<u8> {
    json(&DisconnectRequest {
        uid,
        kind: kind::REMOTE_DISCONNECT,
        opts: JsonOpts {
            opts,
            with_flags: false,
        },
        close,
    })
}

pub(crate) fn server_side_emit(
    uid: &str,
    request_id: Option<&str>,
    event: &str,
    args: &[Value],
) -> Vec<u8> {
    json(&SideEmitRequest {
        uid,
        request_id,
        kind: kind::SERVER_SIDE_EMIT,
        data: SideEmitData(event, args),
    })
}

/// The classic adapter of one namespace.
pub(crate) struct Classic {
    uid: String,
    channels: Channels,
    /// Answer on `<key>-response#<nsp>#<requester uid>#` (Node's
    /// `publishOnSpecificResponseChannel`).
    specific_responses: bool,
}

impl Classic {
    pub(crate) fn new(key: &str, nsp: &str, specific_responses: bool) -> Classic {
        Classic {
            uid: crate::ids::uid2(),
            channels: Channels::new(key, nsp),
            specific_responses,
        }
    }

    /// The channel answers to `to` go on.
    fn response_channel(&self, to: &str) -> String {
        if self.specific_responses && !to.is_empty() {
            format!("{}{to}#", self.channels.response)
        } else {
            self.channels.response.clone()
        }
    }

    fn respond(&self, to: &str, payload: Vec<u8>) -> Publish {
        Channels::publish(self.response_channel(to), payload)
    }

    fn decode_broadcast(&self, payload: &[u8]) -> Result<Option<Incoming>, WireError> {
        let message = msgpack::decode(payload)?;
        let parts = message
            .as_array()
            .ok_or_else(|| WireError::shape("broadcast is not an array"))?;
        let [uid, packet, opts] = parts.as_slice() else {
            return Err(WireError::shape("broadcast is not [uid, packet, opts]"));
        };
        let uid = uid.as_str();
        if uid == Some(self.uid.as_str()) {
            return Ok(None);
        }
        let packet = Fields::of(packet, "packet")?;
        let nsp = packet.opt_str("nsp")?.unwrap_or("/");
        if nsp != self.channels.nsp {
            return Ok(None);
        }
        let (event, args) = event_and_args(packet.value("data")?)?;
        Ok(Some(Incoming {
            offset: None,
            from: uid.map(str::to_owned),
            body: Body::Request(Request::Broadcast {
                event,
                args,
                opts: read_opts(Some(opts))?,
            }),
        }))
    }

    fn decode_request(&self, payload: &[u8]) -> Result<Option<Incoming>, WireError> {
        let message = read_json_or_msgpack(payload)?;
        let fields = Fields::of(&message, "request")?;
        let from = fields.opt_str("uid")?.map(str::to_owned);
        let request_id = fields.opt_str("requestId")?.map(str::to_owned);
        let required_id = || {
            request_id
                .clone()
                .ok_or_else(|| WireError::shape("no requestId"))
        };
        let request = match fields.uint("type")? {
            kind::SOCKETS => Request::Sockets {
                request_id: required_id()?,
                rooms: read_rooms(fields.get("rooms"))?,
            },
            kind::ALL_ROOMS => Request::AllRooms {
                request_id: required_id()?,
            },
            kind @ (kind::REMOTE_JOIN | kind::REMOTE_LEAVE) => match fields.get("opts") {
                Some(opts) => {
                    let opts = read_opts(Some(opts))?;
                    let rooms = read_rooms(fields.get("rooms"))?;
                    if kind == kind::REMOTE_JOIN {
                        Request::SocketsJoin { opts, rooms }
                    } else {
                        Request::SocketsLeave { opts, rooms }
                    }
                }
                None => {
                    let room = Room::from_peer(fields.str("room")?);
                    Request::RemoteSocket {
                        request_id,
                        sid: fields.str("sid")?.to_owned(),
                        action: if kind == kind::REMOTE_JOIN {
                            RemoteAction::Join(room)
                        } else {
                            RemoteAction::Leave(room)
                        },
                    }
                }
            },
            kind::REMOTE_DISCONNECT => match fields.get("opts") {
                Some(opts) => Request::DisconnectSockets {
                    opts: read_opts(Some(opts))?,
                    close: fields.flag("close"),
                },
                None => Request::RemoteSocket {
                    request_id,
                    sid: fields.str("sid")?.to_owned(),
                    action: RemoteAction::Disconnect {
                        close: fields.flag("close"),
                    },
                },
            },
            kind::REMOTE_FETCH => Request::FetchSockets {
                request_id: required_id()?,
                opts: read_opts(fields.get("opts"))?,
            },
            kind::SERVER_SIDE_EMIT => {
                let (event, args) = event_and_args(fields.value("data")?)?;
                Request::ServerSideEmit {
                    request_id,
                    event,
                    args,
                }
            }
            kind::BROADCAST => {
                let packet = Fields::of(fields.value("packet")?, "packet")?;
                let (event, args) = event_and_args(packet.value("data")?)?;
                Request::BroadcastWithAck {
                    request_id: required_id()?,
                    event,
                    args,
                    opts: read_opts(fields.get("opts"))?,
                }
            }
            other => return Err(WireError::shape(format!("unknown request type {other}"))),
        };
        Ok(Some(Incoming {
            offset: None,
            from,
            body: Body::Request(request),
        }))
    }

    fn decode_response(&self, payload: &[u8]) -> Result<Option<Incoming>, WireError> {
        let message = read_json_or_msgpack(payload)?;
        let fields = Fields::of(&message, "response")?;
        let request_id = fields.str("requestId")?.to_owned();
        let kind = fields.get("type").and_then(Value::as_u64);
        let response = if kind == Some(kind::BROADCAST_CLIENT_COUNT) {
            Response::ClientCount {
                request_id,
                count: usize::try_from(fields.uint("clientCount")?).unwrap_or(usize::MAX),
            }
        } else if kind == Some(kind::BROADCAST_ACK) {
            Response::Ack {
                request_id,
                value: fields.get("packet").cloned(),
            }
        } else if kind == Some(kind::SERVER_SIDE_EMIT) {
            Response::ServerSideEmit {
                request_id,
                value: fields.get("data").cloned().unwrap_or(Value::Null),
            }
        } else if let Some(sockets) = fields.get("sockets") {
            Response::FetchSockets {
                request_id,
                sockets: read_sockets(sockets)?,
            }
        } else if let Some(rooms) = fields.get("rooms") {
            Response::AllRooms {
                request_id,
                rooms: read_rooms(Some(rooms))?,
            }
        } else {
            // A legacy acknowledgement (`{requestId}`): nothing this server waits for.
            return Ok(None);
        };
        Ok(Some(Incoming {
            offset: None,
            from: None,
            body: Body::Response(response),
        }))
    }
}

#[derive(Serialize)]
struct FetchRequest<'a> {
    uid: &'a str,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    #[serde(rename = "type")]
    kind: u64,
    opts: JsonOpts<'a>,
}

#[derive(Serialize)]
struct AllRoomsRequest<'a> {
    uid: &'a str,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    #[serde(rename = "type")]
    kind: u64,
}

#[derive(Serialize)]
struct SocketsAnswer<'a, T: Serialize> {
    #[serde(rename = "requestId")]
    request_id: &'a str,
    sockets: T,
}

#[derive(Serialize)]
struct RoomsAnswer<'a> {
    #[serde(rename = "requestId")]
    request_id: &'a str,
    rooms: Vec<&'a str>,
}

#[derive(Serialize)]
struct TypedAnswer<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: u64,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct Data<'a> {
    data: NodeJson<'a>,
}

#[derive(Serialize)]
struct ClientCount {
    #[serde(rename = "clientCount")]
    client_count: usize,
}

#[derive(Serialize)]
struct LegacyAnswer<'a> {
    #[serde(rename = "requestId")]
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sockets: Option<&'a [String]>,
}

impl Protocol for Classic {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn request_id(&self) -> String {
        crate::ids::uid2()
    }

    fn sharded_mode(&self) -> Option<crate::mode::SubscriptionMode> {
        None
    }

    fn fetch_timeout(&self, _opts: &BroadcastOptions, default: Duration) -> Duration {
        default
    }

    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            patterns: vec![format!("{}*", self.channels.broadcast)],
            channels: vec![
                self.channels.request.clone(),
                self.channels.response.clone(),
                format!("{}{}#", self.channels.response, self.uid),
            ],
            shard_channels: Vec::new(),
        }
    }

    fn count(&self) -> Count {
        Count::NumSub(self.channels.request.clone())
    }

    fn log(&self) -> Option<&StreamSide> {
        None
    }

    fn broadcast(
        &self,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Outgoing, roomcast::Error> {
        let payload = broadcast_message(
            &self.uid,
            &self.channels.nsp,
            packet.event()?,
            packet.args()?,
            opts,
            false,
        );
        Ok(Outgoing::Publish(Channels::publish(
            self.channels.broadcast_channel(opts),
            payload,
        )))
    }

    fn broadcast_with_ack(
        &self,
        request_id: &str,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Publish, roomcast::Error> {
        let mut writer = Writer::new();
        writer.map(5);
        writer.str("uid");
        writer.str(&self.uid);
        writer.str("requestId");
        writer.str(request_id);
        writer.str("type");
        writer.uint(kind::BROADCAST);
        writer.str("packet");
        write_packet(
            &mut writer,
            &self.channels.nsp,
            packet.event()?,
            packet.args()?,
        );
        writer.str("opts");
        write_opts(&mut writer, opts);
        Ok(self.channels.request(writer.finish()))
    }

    fn sockets_join(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Outgoing {
        Outgoing::Publish(
            self.channels
                .request(sockets_join(Some(&self.uid), opts, rooms)),
        )
    }

    fn sockets_leave(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Outgoing {
        Outgoing::Publish(
            self.channels
                .request(sockets_leave(Some(&self.uid), opts, rooms)),
        )
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Outgoing {
        Outgoing::Publish(
            self.channels
                .request(disconnect_sockets(Some(&self.uid), opts, close)),
        )
    }

    fn fetch_sockets(&self, request_id: &str, opts: &BroadcastOptions) -> Publish {
        self.channels.request(json(&FetchRequest {
            uid: &self.uid,
            request_id,
            kind: kind::REMOTE_FETCH,
            opts: JsonOpts {
                opts,
                with_flags: false,
            },
        }))
    }

    fn all_rooms(&self, request_id: &str) -> Option<Publish> {
        Some(self.channels.request(json(&AllRoomsRequest {
            uid: &self.uid,
            request_id,
            kind: kind::ALL_ROOMS,
        })))
    }

    fn server_side_emit(&self, request_id: Option<&str>, event: &str, args: &[Value]) -> Publish {
        self.channels
            .request(server_side_emit(&self.uid, request_id, event, args))
    }

    fn fetch_sockets_response(
        &self,
        to: &str,
        request_id: &str,
        sockets: &[SocketInfo],
    ) -> Publish {
        self.respond(
            to,
            json(&SocketsAnswer {
                request_id,
                sockets,
            }),
        )
    }

    fn all_rooms_response(&self, to: &str, request_id: &str, rooms: &[Room]) -> Option<Publish> {
        Some(self.respond(
            to,
            json(&RoomsAnswer {
                request_id,
                rooms: rooms.iter().map(Room::as_str).collect(),
            }),
        ))
    }

    fn server_side_emit_response(&self, _to: &str, request_id: &str, value: &Value) -> Publish {
        // Always the common response channel, whatever `publishOnSpecificResponseChannel` says.
        Channels::publish(
            self.channels.response.clone(),
            json(&TypedAnswer {
                kind: kind::SERVER_SIDE_EMIT,
                request_id,
                body: Data {
                    data: NodeJson(value),
                },
            }),
        )
    }

    fn client_count_response(&self, to: &str, request_id: &str, count: usize) -> Publish {
        self.respond(
            to,
            json(&TypedAnswer {
                kind: kind::BROADCAST_CLIENT_COUNT,
                request_id,
                body: ClientCount {
                    client_count: count,
                },
            }),
        )
    }

    fn ack_response(&self, to: &str, request_id: &str, value: Option<&Value>) -> Publish {
        let mut writer = Writer::new();
        writer.map(if value.is_some() { 3 } else { 2 });
        writer.str("type");
        writer.uint(kind::BROADCAST_ACK);
        writer.str("requestId");
        writer.str(request_id);
        if let Some(value) = value {
            writer.str("packet");
            writer.value(value);
        }
        self.respond(to, writer.finish())
    }

    fn legacy_response(&self, request_id: &str, sockets: Option<&[String]>) -> Option<Publish> {
        Some(Channels::publish(
            self.channels.response.clone(),
            json(&LegacyAnswer {
                request_id,
                sockets,
            }),
        ))
    }

    fn decode(&self, channel: &str, payload: &[u8]) -> Result<Option<Incoming>, WireError> {
        if channel.starts_with(&self.channels.broadcast) {
            self.decode_broadcast(payload)
        } else if channel.starts_with(&self.channels.response) {
            self.decode_response(payload)
        } else if channel == self.channels.request {
            self.decode_request(payload)
        } else {
            Ok(None)
        }
    }

    fn room_of_channel<'c>(&self, channel: &'c str) -> Option<&'c str> {
        channel
            .strip_prefix(self.channels.broadcast.as_str())
            .and_then(|rest| rest.strip_suffix('#'))
            .filter(|room| !room.is_empty())
    }

    fn room_channel(&self, _room: &Room) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn a_broadcast_is_the_bytes_node_writes() {
        let opts = BroadcastOptions::to(vec![Room::new("r1").unwrap()]);
        let payload = broadcast_message(
            "abc123",
            "/",
            "ev",
            &[Value::from(1), Value::from("x")],
            &opts,
            false,
        );
        assert_eq!(
            hex(&payload),
            "93a6616263313233\
             83a47479706502a46461746193a2657601a178a36e7370a12f\
             83a5726f6f6d7391a27231a665786365707490a5666c61677380"
        );
        let channels = Channels::new("socket.io", "/");
        assert_eq!(channels.broadcast_channel(&opts), "socket.io#/#r1#");
        assert_eq!(
            channels.broadcast_channel(&BroadcastOptions::default()),
            "socket.io#/#"
        );
    }

    #[test]
    fn binary_travels_as_bin_in_a_type_2_packet() {
        let payload = broadcast_message(
            "abc123",
            "/",
            "ev",
            &[Value::Binary(bytes::Bytes::from_static(&[1, 2, 3]))],
            &BroadcastOptions::default(),
            false,
        );
        assert_eq!(
            hex(&payload),
            "93a6616263313233\
             83a47479706502a46461746192a26576c403010203a36e7370a12f\
             83a5726f6f6d7390a665786365707490a5666c61677380"
        );
    }

    #[test]
    fn the_emitter_writes_its_options_in_its_own_order() {
        let opts = BroadcastOptions::to(vec![Room::new("r1").unwrap()]);
        let payload = broadcast_message("emitter", "/", "ev", &[Value::from(1)], &opts, true);
        assert_eq!(
            hex(&payload),
            "93a7656d6974746572\
             83a47479706502a46461746192a2657601a36e7370a12f\
             83a5726f6f6d7391a27231a5666c61677380a665786365707490"
        );
    }

    #[test]
    fn requests_are_the_json_node_writes() {
        let opts = BroadcastOptions::to(vec![Room::new("a").unwrap()]);
        let rooms = [Room::new("j").unwrap()];
        assert_eq!(
            String::from_utf8(sockets_join(Some("U"), &opts, &rooms)).unwrap(),
            r#"{"uid":"U","type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["j"]}"#
        );
        assert_eq!(
            String::from_utf8(sockets_leave(None, &opts, &rooms)).unwrap(),
            r#"{"type":3,"opts":{"rooms":["a"],"except":[]},"rooms":["j"]}"#
        );
        assert_eq!(
            String::from_utf8(disconnect_sockets(Some("U"), &opts, true)).unwrap(),
            r#"{"uid":"U","type":4,"opts":{"rooms":["a"],"except":[]},"close":true}"#
        );
        assert_eq!(
            String::from_utf8(server_side_emit("U", Some("R"), "hi", &[Value::from(1)])).unwrap(),
            r#"{"uid":"U","requestId":"R","type":6,"data":["hi",1]}"#
        );
        let classic = Classic::new("socket.io", "/", false);
        let fetch = classic.fetch_sockets("R", &opts);
        assert_eq!(fetch.channel, "socket.io-request#/#");
        assert_eq!(
            String::from_utf8(fetch.payload).unwrap(),
            format!(
                r#"{{"uid":"{}","requestId":"R","type":5,"opts":{{"rooms":["a"],"except":[]}}}}"#,
                classic.uid
            )
        );
        let count = classic.client_count_response("X", "R", 3);
        assert_eq!(count.channel, "socket.io-response#/#");
        assert_eq!(
            String::from_utf8(count.payload).unwrap(),
            r#"{"type":8,"requestId":"R","clientCount":3}"#
        );
        let ack = classic.ack_response("X", "req123", Some(&Value::from("pong")));
        assert_eq!(
            hex(&ack.payload),
            "83a474797065 09 a9726571756573744964 a6726571313233 a67061636b6574 a4706f6e67"
                .replace(' ', "")
        );
        let sse = classic.server_side_emit_response("X", "R", &Value::from("ok"));
        assert_eq!(
            String::from_utf8(sse.payload).unwrap(),
            r#"{"type":6,"requestId":"R","data":"ok"}"#
        );
    }

    #[test]
    fn messages_from_node_read_back() {
        let classic = Classic::new("socket.io", "/chat", false);
        // A Node broadcast to one room, then the same from this server: skipped.
        let opts = BroadcastOptions::to(vec![Room::new("r1").unwrap()]);
        let node = broadcast_message("nodeid", "/chat", "ev", &[Value::from(1)], &opts, false);
        let incoming = classic
            .decode("socket.io#/chat#r1#", &node)
            .unwrap()
            .unwrap();
        assert_eq!(incoming.from.as_deref(), Some("nodeid"));
        assert!(matches!(
            incoming.body,
            Body::Request(Request::Broadcast { ref event, ref args, ref opts })
                if event == "ev" && args == &[Value::from(1)] && opts.rooms.len() == 1
        ));
        let own = broadcast_message(&classic.uid, "/chat", "ev", &[], &opts, false);
        assert!(classic.decode("socket.io#/chat#", &own).unwrap().is_none());
        // Another namespace's packet on this channel is not this namespace's.
        let other = broadcast_message("nodeid", "/", "ev", &[], &opts, false);
        assert!(classic
            .decode("socket.io#/chat#", &other)
            .unwrap()
            .is_none());
        assert_eq!(classic.room_of_channel("socket.io#/chat#r1#"), Some("r1"));
        assert_eq!(classic.room_of_channel("socket.io#/chat#"), None);

        let fetch = br#"{"uid":"n","requestId":"R","type":5,"opts":{"rooms":["a"],"except":[]}}"#;
        let incoming = classic
            .decode("socket.io-request#/chat#", fetch)
            .unwrap()
            .unwrap();
        assert!(matches!(
            incoming.body,
            Body::Request(Request::FetchSockets { .. })
        ));
        let join = br#"{"type":2,"opts":{"rooms":[],"except":[]},"rooms":"solo"}"#;
        let incoming = classic
            .decode("socket.io-request#/chat#", join)
            .unwrap()
            .unwrap();
        assert!(incoming.from.is_none());
        assert!(matches!(
            incoming.body,
            Body::Request(Request::SocketsJoin { ref rooms, .. }) if rooms == &[Room::from_peer("solo")]
        ));
        let count = br#"{"type":8,"requestId":"R","clientCount":2}"#;
        let incoming = classic
            .decode("socket.io-response#/chat#", count)
            .unwrap()
            .unwrap();
        assert!(matches!(
            incoming.body,
            Body::Response(Response::ClientCount { count: 2, .. })
        ));
        for garbage in [&b"\xc1"[..], b"{\"type\":5}", b"[1,2", b"\x93\x01\x02"] {
            assert!(
                classic.decode("socket.io-request#/chat#", garbage).is_err()
                    || classic.decode("socket.io#/chat#", garbage).is_err(),
                "{garbage:?}"
            );
        }
    }
}
