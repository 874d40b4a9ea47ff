//! The sharded adapter's messages (`createShardedAdapter`, over socket.io-adapter's cluster
//! protocol): every message is `{type, data, uid, nsp}`, JSON unless it may carry binary and
//! does, then MessagePack; SPUBLISHed on `<prefix>#<nsp>#` (or a room's channel), answers on
//! `<prefix>#<nsp>#<requester uid>#`.

use std::time::Duration;

use roomcast::adapter::{BroadcastOptions, BroadcastPacket, SocketInfo};
use roomcast::{Room, Value};

use super::cluster::{self, kind, Envelope, Tree};
use super::message::{Count, Incoming, Outgoing, Publish, Subscriptions, WireError};
use super::protocol::Protocol;
use super::read::read_json_or_msgpack;
use super::stream::StreamSide;
use crate::mode::SubscriptionMode;

/// The sharded adapter of one namespace.
pub(crate) struct Sharded {
    envelope: Envelope,
    /// `<prefix>#<nsp>#`.
    channel: String,
    mode: SubscriptionMode,
}

impl Sharded {
    pub(crate) fn new(prefix: &str, nsp: &str, mode: SubscriptionMode) -> Sharded {
        Sharded {
            envelope: Envelope::new(nsp),
            channel: format!("{prefix}#{nsp}#"),
            mode,
        }
    }

    /// `<prefix>#<nsp>#<name>#`: a server's answers (by its uid) or a room's messages.
    fn sub_channel(&self, name: &str) -> String {
        format!("{}{name}#", self.channel)
    }

    fn publish(&self, channel: String, kind: u64, data: Tree<'_>) -> Publish {
        Publish {
            channel,
            payload: self.envelope.json_unless_binary(kind, data),
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
}

impl Protocol for Sharded {
    fn uid(&self) -> &str {
        self.envelope.uid()
    }

    fn request_id(&self) -> String {
        crate::ids::hex16()
    }

    fn sharded_mode(&self) -> Option<SubscriptionMode> {
        Some(self.mode)
    }

    fn fetch_timeout(&self, opts: &BroadcastOptions, default: Duration) -> Duration {
        opts.flags.timeout.unwrap_or(default)
    }

    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            patterns: Vec::new(),
            channels: Vec::new(),
            shard_channels: vec![self.channel.clone(), self.sub_channel(self.uid())],
        }
    }

    fn count(&self) -> Count {
        Count::ShardNumSub(self.channel.clone())
    }

    fn log(&self) -> Option<&StreamSide> {
        None
    }

    fn broadcast(
        &self,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Outgoing, roomcast::Error> {
        let data = cluster::broadcast(packet, opts, None)?;
        Ok(Outgoing::Publish(self.publish(
            self.broadcast_channel(opts),
            kind::BROADCAST,
            data,
        )))
    }

    fn broadcast_with_ack(
        &self,
        request_id: &str,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
    ) -> Result<Publish, roomcast::Error> {
        let data = cluster::broadcast(packet, opts, Some(request_id))?;
        Ok(self.to_all(kind::BROADCAST, data))
    }

    fn sockets_join(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Outgoing {
        Outgoing::Publish(self.to_all(kind::SOCKETS_JOIN, cluster::rooms_change(opts, rooms)))
    }

    fn sockets_leave(&self, opts: &BroadcastOptions, rooms: &[Room]) -> Outgoing {
        Outgoing::Publish(self.to_all(kind::SOCKETS_LEAVE, cluster::rooms_change(opts, rooms)))
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> Outgoing {
        Outgoing::Publish(self.to_all(kind::DISCONNECT_SOCKETS, cluster::disconnect(opts, close)))
    }

    fn fetch_sockets(&self, request_id: &str, opts: &BroadcastOptions) -> Publish {
        self.to_all(
            kind::FETCH_SOCKETS,
            cluster::fetch_sockets(request_id, opts),
        )
    }

    fn all_rooms(&self, _request_id: &str) -> Option<Publish> {
        None
    }

    fn server_side_emit(&self, request_id: Option<&str>, event: &str, args: &[Value]) -> Publish {
        let data = cluster::server_side_emit(request_id, event, args);
        self.to_all(kind::SERVER_SIDE_EMIT, data)
    }

    fn fetch_sockets_response(
        &self,
        to: &str,
        request_id: &str,
        sockets: &[SocketInfo],
    ) -> Publish {
        let data = cluster::fetch_sockets_response(request_id, sockets);
        self.publish(self.sub_channel(to), kind::FETCH_SOCKETS_RESPONSE, data)
    }

    fn all_rooms_response(&self, _to: &str, _request_id: &str, _rooms: &[Room]) -> Option<Publish> {
        None
    }

    fn server_side_emit_response(&self, to: &str, request_id: &str, value: &Value) -> Publish {
        let data = cluster::server_side_emit_response(request_id, value);
        self.publish(self.sub_channel(to), kind::SERVER_SIDE_EMIT_RESPONSE, data)
    }

    fn client_count_response(&self, to: &str, request_id: &str, count: usize) -> Publish {
        let data = cluster::client_count(request_id, count);
        self.publish(self.sub_channel(to), kind::BROADCAST_CLIENT_COUNT, data)
    }

    fn ack_response(&self, to: &str, request_id: &str, value: Option<&Value>) -> Publish {
        let data = cluster::ack(request_id, value, false);
        self.publish(self.sub_channel(to), kind::BROADCAST_ACK, data)
    }

    fn legacy_response(&self, _request_id: &str, _sockets: Option<&[String]>) -> Option<Publish> {
        None
    }

    fn decode(&self, channel: &str, payload: &[u8]) -> Result<Option<Incoming>, WireError> {
        if !channel.starts_with(&self.channel) {
            return Ok(None);
        }
        self.envelope.read(&read_json_or_msgpack(payload)?)
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
    use crate::wire::message::{Body, Response};
    use bytes::Bytes;

    fn sharded(mode: SubscriptionMode) -> Sharded {
        Sharded {
            envelope: Envelope::fixed("2fe9751071111966", "/"),
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
        let published = adapter.broadcast(&packet, &opts).unwrap().published();
        assert_eq!(published.channel, "socket.io#/#r1#");
        assert!(published.sharded);
        assert_eq!(
            String::from_utf8(published.payload).unwrap(),
            r#"{"type":3,"data":{"packet":{"type":2,"data":["ev",1,"x"]},"opts":{"rooms":["r1"],"except":[],"flags":{}}},"uid":"2fe9751071111966","nsp":"/"}"#
        );
        let join = adapter
            .sockets_join(&BroadcastOptions::default(), &[room("j1")])
            .published();
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
            .unwrap()
            .published();
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
