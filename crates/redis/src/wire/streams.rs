//! The streams adapter's messages (`@socket.io/redis-streams-adapter` 0.3, over
//! socket.io-adapter's cluster protocol): broadcasts without acknowledgements, joins, leaves
//! and disconnections are entries of the namespace's stream (see [`super::stream`]); the
//! requests that need no history (broadcasts with acknowledgements, fetches, server-side
//! events) are MessagePack `{type, data, uid, nsp}` published on `<prefix>#<nsp>#`, and
//! answers on `<prefix>#<nsp>#<requester uid>#` (`SPUBLISH` with sharded pub/sub).

use std::time::Duration;

use roomcast::adapter::{BroadcastOptions, BroadcastPacket, SocketInfo};
use roomcast::{Room, Value};

use super::cluster::{self, kind, Envelope, Tree};
use super::message::{Count, Incoming, Outgoing, Publish, Subscriptions, WireError};
use super::protocol::Protocol;
use super::read::read_json_or_msgpack;
use super::stream::StreamSide;

/// Which stream a namespace uses, as Node computes it: `name` itself with one stream, else
/// `<name>-<i>` with `i` the Java-style hash of the namespace (UTF-16 units, wrapping 32-bit)
/// modulo `count`, its sign kept as JavaScript's `%` keeps it.
pub(crate) fn stream_name(name: &str, count: u32, nsp: &str) -> String {
    if count <= 1 {
        return name.to_owned();
    }
    let hash = nsp.encode_utf16().fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    });
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    format!("{name}-{}", hash % count)
}

/// What the streams adapter of every namespace shares.
#[derive(Debug, Clone)]
pub(crate) struct StreamsConfig {
    pub(crate) stream_name: String,
    pub(crate) stream_count: u32,
    pub(crate) channel_prefix: String,
    pub(crate) sharded: bool,
    pub(crate) max_len: usize,
    pub(crate) only_plaintext: bool,
    pub(crate) session_prefix: String,
}

/// The streams adapter of one namespace.
pub(crate) struct Streams {
    side: StreamSide,
    /// `<prefix>#<nsp>#`.
    channel: String,
    sharded: bool,
}

impl Streams {
    pub(crate) fn new(config: &StreamsConfig, nsp: &str) -> Streams {
        let stream = stream_name(&config.stream_name, config.stream_count, nsp);
        Streams {
            side: StreamSide::new(
                Envelope::new(nsp),
                stream,
                config.max_len,
                config.only_plaintext,
                config.session_prefix.clone(),
            ),
            channel: format!("{}#{nsp}#", config.channel_prefix),
            sharded: config.sharded,
        }
    }

    /// `<prefix>#<nsp>#<uid>#`: a server's answers.
    fn answers_of(&self, uid: &str) -> String {
        format!("{}{uid}#", self.channel)
    }

    fn publish(&self, channel: String, kind: u64, data: &Tree<'_>) -> Publish {
        Publish {
            channel,
            payload: self.side.envelope.msgpack(kind, data),
            sharded: self.sharded,
        }
    }

    fn to_all(&self, kind: u64, data: &Tree<'_>) -> Publish {
        self.publish(self.channel.clone(), kind, data)
    }

    fn append(&self, kind: u64, data: &Tree<'_>) -> Outgoing {
        Outgoing::Append(self.side.append(kind, data))
    }
}

impl Protocol for Streams {
    fn uid(&self) -> &str {
        self.side.envelope.uid()
    }

    fn request_id(&self) -> String {
        crate::ids::hex16()
    }

    fn sharded_mode(&self) -> Option<crate::mode::SubscriptionMode> {
        None
    }

    fn fetch_timeout(&self, opts: &BroadcastOptions, default: Duration) -> Duration {
        opts.flags.timeout.unwrap_or(default)
    }

    fn subscriptions(&self) -> Subscriptions {
        let channels = vec![self.channel.clone(), self.answers_of(self.uid())];
        if self.sharded {
            Subscriptions {
                shard_channels: channels,
                ..Subscriptions::default()
            }
        } else {
            Subscriptions {
                channels,
                ..Subscriptions::default()
            }
        }
    }

    fn count(&self) -> Count {
        if self.sharded {
            Count::ShardNumSub(self.channel.clone())
        } else {
            Count::NumSub(self.channel.clone())
        }
    }

    fn log(&self) -> Option<&StreamSide> {
        Some(&self.side)
    }

    fn broadcast(
        &self,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Outgoing, roomcast::Error> {
        let data = cluster::broadcast(packet, opts, None)?;
        Ok(self.append(kind::BROADCAST, &data))
    }

    fn broadcast_with_ack(
        &self,
        request_id: &str,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Publish, roomcast::Error> {
        let data = cluster::broadcast(packet, opts, Some(request_id))?;
        Ok(self.to_all(kind::BROADCAST, &data))
    }

    fn sockets_join(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Outgoing {
        self.append(kind::SOCKETS_JOIN, &cluster::rooms_change(opts, rooms))
    }

    fn sockets_leave(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Outgoing {
        self.append(kind::SOCKETS_LEAVE, &cluster::rooms_change(opts, rooms))
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Outgoing {
        self.append(kind::DISCONNECT_SOCKETS, &cluster::disconnect(opts, close))
    }

    fn fetch_sockets(&self, request_id: &str, opts: &BroadcastOptions) -> Publish {
        self.to_all(
            kind::FETCH_SOCKETS,
            &cluster::fetch_sockets(request_id, opts),
        )
    }

    fn all_rooms(&self, _request_id: &str) -> Option<Publish> {
        None
    }

    fn server_side_emit(&self, request_id: Option<&str>, event: &str, args: &[Value]) -> Publish {
        let data = cluster::server_side_emit(request_id, event, args);
        self.to_all(kind::SERVER_SIDE_EMIT, &data)
    }

    fn fetch_sockets_response(
        &self,
        to: &str,
        request_id: &str,
        sockets: &[SocketInfo],
    ) -> Publish {
        let data = cluster::fetch_sockets_response(request_id, sockets);
        self.publish(self.answers_of(to), kind::FETCH_SOCKETS_RESPONSE, &data)
    }

    fn all_rooms_response(&self, _to: &str, _request_id: &str, _rooms: &[Room]) -> Option<Publish> {
        None
    }

    fn server_side_emit_response(&self, to: &str, request_id: &str, value: &Value) -> Publish {
        let data = cluster::server_side_emit_response(request_id, value);
        self.publish(self.answers_of(to), kind::SERVER_SIDE_EMIT_RESPONSE, &data)
    }

    fn client_count_response(&self, to: &str, request_id: &str, count: usize) -> Publish {
        let data = cluster::client_count(request_id, count);
        self.publish(self.answers_of(to), kind::BROADCAST_CLIENT_COUNT, &data)
    }

    fn ack_response(&self, to: &str, request_id: &str, value: Option<&Value>) -> Publish {
        let data = cluster::ack(request_id, value, true);
        self.publish(self.answers_of(to), kind::BROADCAST_ACK, &data)
    }

    fn legacy_response(&self, _request_id: &str, _sockets: Option<&[String]>) -> Option<Publish> {
        None
    }

    fn decode(&self, channel: &str, payload: &[u8]) -> Result<Option<Incoming>, WireError> {
        if !channel.starts_with(&self.channel) {
            return Ok(None);
        }
        self.side.envelope.read(&read_json_or_msgpack(payload)?)
    }

    fn room_of_channel<'c>(&self, _channel: &'c str) -> Option<&'c str> {
        None
    }

    fn room_channel(&self, _room: &Room) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(count: u32, sharded: bool) -> StreamsConfig {
        StreamsConfig {
            stream_name: "socket.io".into(),
            stream_count: count,
            channel_prefix: "socket.io".into(),
            sharded,
            max_len: 10_000,
            only_plaintext: false,
            session_prefix: "sio:session:".into(),
        }
    }

    #[test]
    fn namespaces_share_streams_as_node_spreads_them() {
        assert_eq!(stream_name("socket.io", 1, "/chat"), "socket.io");
        for (nsp, stream) in [
            ("/", "socket.io-3"),
            ("/chat", "socket.io-3"),
            ("/admin", "socket.io-0"),
            ("/abcdefgh", "socket.io--1"),
            ("/café", "socket.io-0"),
            ("/😀", "socket.io-2"),
            ("/orders", "socket.io-0"),
        ] {
            assert_eq!(stream_name("socket.io", 4, nsp), stream, "{nsp}");
        }
        assert_eq!(stream_name("s", 8, "/abcdefgh"), "s--5");
    }

    #[test]
    fn requests_and_answers_are_messagepack_on_the_namespace_channels() {
        let streams = Streams::new(&config(1, false), "/");
        let uid = streams.uid().to_owned();
        assert_eq!(
            streams.subscriptions().channels,
            ["socket.io#/#".to_owned(), format!("socket.io#/#{uid}#")]
        );
        assert_eq!(streams.count(), Count::NumSub("socket.io#/#".into()));
        let sse = streams.server_side_emit(None, "sse", &[Value::from(1), Value::from("two")]);
        assert_eq!(sse.channel, "socket.io#/#");
        assert!(!sse.sharded);
        let expected = format!(
            "84a47479706509a46461746181a67061636b657493a373736501a374776fa3756964b0{}a36e7370a12f",
            uid.bytes().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let hex: String = sse.payload.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
        let ack = streams.ack_response("0123456789abcdef", "r1", None);
        assert_eq!(ack.channel, "socket.io#/#0123456789abcdef#");
        assert!(
            ack.payload
                .windows(8)
                .any(|window| window == b"\xa6packet\xc0"),
            "an answer without value keeps `packet`, nil"
        );
        // Broadcasts and room changes go to the stream.
        let join = streams.sockets_join(&BroadcastOptions::default(), &[Room::new("j1").unwrap()]);
        let Outgoing::Append(append) = join else {
            panic!("published")
        };
        assert_eq!(append.stream, "socket.io");
        assert_eq!(
            append.fields[3].1,
            br#"{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["j1"]}"#
        );
    }

    #[test]
    fn sharded_pub_sub_subscribes_and_counts_shard_channels() {
        let streams = Streams::new(&config(4, true), "/chat");
        assert_eq!(streams.subscriptions().shard_channels.len(), 2);
        assert!(streams.subscriptions().channels.is_empty());
        assert_eq!(
            streams.count(),
            Count::ShardNumSub("socket.io#/chat#".into())
        );
        assert_eq!(streams.log().unwrap().stream, "socket.io-3");
        let fetch = streams.fetch_sockets("f", &BroadcastOptions::default());
        assert!(fetch.sharded);
        // Node's messages read back; its JSON too, should one come.
        let other = Streams::new(&config(4, true), "/chat");
        let incoming = streams
            .decode(
                "socket.io#/chat#",
                &other
                    .fetch_sockets("f", &BroadcastOptions::default())
                    .payload,
            )
            .unwrap()
            .unwrap();
        assert_eq!(incoming.from.as_deref(), Some(other.uid()));
        assert!(streams.decode("socket.io#/chat#", b"\xc1").is_err());
    }
}
