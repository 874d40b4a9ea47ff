//! The stream side of the streams adapter (`@socket.io/redis-streams-adapter` 0.3) in one
//! namespace: the entries it appends — `uid`, `nsp`, `type` and `data`, the data JSON, or
//! base64 of MessagePack when a broadcast carries binary — reading every server's entries, and
//! the sessions of connection state recovery it keeps in Redis (base64 of MessagePack
//! `{sid, pid, rooms, data}`).

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use roomcast::adapter::{BroadcastOptions, BroadcastPacket, Session};
use roomcast::packet::Parser;
use roomcast::Value;

use super::cluster::{kind, Envelope, Tree};
use super::message::{Append, Incoming, WireError};
use super::opts::{read_opts, read_rooms};
use super::read::{event_and_args, Fields};
use crate::entry::Entry;
use roomcast::value::msgpack::{self, Writer};

/// Base64 as Node's `Buffer.from(text, "base64")` reads it: padding or not (URL-safe
/// characters are mapped to the standard ones first).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How a namespace writes to and reads from its stream.
#[derive(Debug)]
pub(crate) struct StreamSide {
    pub(super) envelope: Envelope,
    /// The stream's key.
    pub(crate) stream: String,
    max_len: usize,
    only_plaintext: bool,
    session_prefix: String,
}

/// A broadcast read back from the stream for a recovering session.
#[derive(Debug)]
pub(crate) struct Replayed {
    pub(crate) packet: BroadcastPacket,
    pub(crate) opts: BroadcastOptions,
}

impl StreamSide {
    pub(crate) fn new(
        envelope: Envelope,
        stream: String,
        max_len: usize,
        only_plaintext: bool,
        session_prefix: String,
    ) -> StreamSide {
        StreamSide {
            envelope,
            stream,
            max_len,
            only_plaintext,
            session_prefix,
        }
    }

    /// The entry of a message: its data as JSON, or as base64 of MessagePack when it is a
    /// broadcast with binary (unless only plain text is written).
    pub(super) fn append(&self, kind: u64, data: &Tree<'_>) -> Append {
        let data = if kind == kind::BROADCAST && !self.only_plaintext && data.has_binary() {
            let mut writer = Writer::new();
            data.write(&mut writer);
            STANDARD.encode(writer.finish()).into_bytes()
        } else {
            serde_json::to_vec(data).unwrap_or_default()
        };
        Append {
            stream: self.stream.clone(),
            max_len: self.max_len,
            fields: vec![
                ("uid", self.envelope.uid().as_bytes().to_vec()),
                ("nsp", self.envelope.nsp().as_bytes().to_vec()),
                ("type", kind.to_string().into_bytes()),
                ("data", data),
            ],
        }
    }

    /// Reads another server's entry: `None` for this server's own, another namespace's, or
    /// one without a namespace.
    pub(crate) fn decode_entry(&self, entry: &Entry) -> Result<Option<Incoming>, WireError> {
        if entry.text("nsp") != Some(self.envelope.nsp()) {
            return Ok(None);
        }
        let message = message_of(entry)?;
        let incoming = self.envelope.read(&message)?;
        Ok(incoming.map(|incoming| Incoming {
            offset: Some(entry.id.clone()),
            ..incoming
        }))
    }

    /// A broadcast of this namespace read back for a recovering session, whoever sent it, with
    /// its offset as last argument (Node replays every broadcast entry, `volatile` ones
    /// included); `None` for the other entries.
    pub(crate) fn replayed(
        &self,
        entry: &Entry,
        parser: Parser,
    ) -> Result<Option<Replayed>, WireError> {
        if entry.text("nsp") != Some(self.envelope.nsp())
            || entry.text("type") != Some(&kind::BROADCAST.to_string())
        {
            return Ok(None);
        }
        let data = read_data(entry.field("data").unwrap_or_default())?;
        let data = Fields::of(&data, "data")?;
        let packet = Fields::of(data.value("packet")?, "packet")?;
        let (event, args) = event_and_args(packet.value("data")?)?;
        let opts = read_opts(Some(data.value("opts")?))?;
        let packet = BroadcastPacket::encode(parser, self.envelope.nsp(), &event, args, None)
            .and_then(|packet| packet.with_offset(&entry.id))
            .map_err(|error| WireError::shape(format!("broadcast not replayable: {error}")))?;
        Ok(Some(Replayed { packet, opts }))
    }

    /// The key of a session.
    pub(crate) fn session_key(&self, pid: &str) -> String {
        format!("{}{pid}", self.session_prefix)
    }

    /// A session as Node keeps it: base64 of MessagePack `{sid, pid, rooms, data}`.
    pub(crate) fn encode_session(session: &Session) -> String {
        let mut writer = Writer::new();
        writer.map(4);
        writer.str("sid");
        writer.str(&session.sid);
        writer.str("pid");
        writer.str(&session.pid);
        writer.str("rooms");
        writer.array(session.rooms.len());
        for room in &session.rooms {
            writer.str(room.as_str());
        }
        writer.str("data");
        writer.value(&session.data);
        STANDARD.encode(writer.finish())
    }

    /// A session kept by any server of the cluster.
    pub(crate) fn decode_session(raw: &[u8]) -> Result<Session, WireError> {
        let value = msgpack::decode(&decode_base64(raw)?)?;
        let fields = Fields::of(&value, "session")?;
        Ok(Session {
            sid: fields.str("sid")?.to_owned(),
            pid: fields.str("pid")?.to_owned(),
            rooms: read_rooms(fields.get("rooms"))?,
            data: fields.get("data").cloned().unwrap_or(Value::Null),
        })
    }
}

/// An entry as the message `{uid, nsp, type, data}` it carries.
fn message_of(entry: &Entry) -> Result<Value, WireError> {
    let kind: u64 = entry
        .text("type")
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| WireError::shape("no numeric \"type\" field"))?;
    let mut message = roomcast::value::Map::new();
    if let Some(uid) = entry.text("uid") {
        message.insert("uid".to_owned(), Value::from(uid));
    }
    if let Some(nsp) = entry.text("nsp") {
        message.insert("nsp".to_owned(), Value::from(nsp));
    }
    message.insert("type".to_owned(), Value::from(kind));
    if let Some(data) = entry.field("data").filter(|data| !data.is_empty()) {
        message.insert("data".to_owned(), read_data(data)?);
    }
    Ok(Value::Object(message))
}

/// An entry's data: JSON when it starts with `{`, else base64 of MessagePack.
fn read_data(data: &[u8]) -> Result<Value, WireError> {
    if data.first() == Some(&b'{') {
        return Ok(serde_json::from_slice(data)?);
    }
    Ok(msgpack::decode(&decode_base64(data)?)?)
}

fn decode_base64(text: &[u8]) -> Result<Vec<u8>, WireError> {
    let standard: Vec<u8> = text
        .iter()
        .map(|&byte| match byte {
            b'-' => b'+',
            b'_' => b'/',
            other => other,
        })
        .collect();
    Ok(LENIENT.decode(standard)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use roomcast::Room;

    fn side() -> StreamSide {
        StreamSide::new(
            Envelope::fixed("1ec873d32fd6ab49", "/"),
            "socket.io".into(),
            10_000,
            false,
            "sio:session:".into(),
        )
    }

    fn entry(id: &str, fields: &[(&str, &[u8])]) -> Entry {
        Entry {
            id: id.to_owned(),
            fields: fields
                .iter()
                .map(|(key, value)| (key.as_bytes().to_vec(), value.to_vec()))
                .collect(),
        }
    }

    fn text(append: &Append, field: &str) -> String {
        let (_, value) = append.fields.iter().find(|(key, _)| *key == field).unwrap();
        String::from_utf8(value.clone()).unwrap()
    }

    #[test]
    fn entries_are_the_ones_node_appends() {
        let side = side();
        let packet =
            BroadcastPacket::new("/", "hello", vec![Value::from(1), Value::from("x")], None)
                .unwrap();
        let opts = BroadcastOptions {
            except: vec![Room::new("room2").unwrap()],
            ..BroadcastOptions::to(vec![Room::new("room1").unwrap()])
        };
        let data = super::super::cluster::broadcast(&packet, &opts, None).unwrap();
        let append = side.append(kind::BROADCAST, &data);
        assert_eq!(append.stream, "socket.io");
        let names: Vec<&str> = append.fields.iter().map(|(key, _)| *key).collect();
        assert_eq!(names, ["uid", "nsp", "type", "data"]);
        assert_eq!(text(&append, "uid"), "1ec873d32fd6ab49");
        assert_eq!(text(&append, "type"), "3");
        assert_eq!(
            text(&append, "data"),
            r#"{"packet":{"type":2,"data":["hello",1,"x"]},"opts":{"rooms":["room1"],"except":["room2"],"flags":{}}}"#
        );
    }

    #[test]
    fn binary_broadcasts_are_base64_of_messagepack() {
        // Node: io.emit("bin", Buffer[1,2,3], {nested: Uint8Array[4,5]}).
        let args = vec![
            Value::Binary(Bytes::from_static(&[1, 2, 3])),
            Value::Object(
                [(
                    "nested".to_owned(),
                    Value::Binary(Bytes::from_static(&[4, 5])),
                )]
                .into_iter()
                .collect(),
            ),
        ];
        let packet = BroadcastPacket::new("/", "bin", args, None).unwrap();
        let opts = BroadcastOptions::default();
        let data = super::super::cluster::broadcast(&packet, &opts, None).unwrap();
        let append = side().append(kind::BROADCAST, &data);
        assert_eq!(
            text(&append, "data"),
            "gqZwYWNrZXSCpHR5cGUCpGRhdGGTo2JpbsQDAQIDgaZuZXN0ZWTEAgQFpG9wdHODpXJvb21zkKZleGNlcHSQpWZsYWdzgA=="
        );
    }

    #[test]
    fn node_entries_read_back_with_their_offset() {
        let side = side();
        let from_node = entry(
            "1796515941765-0",
            &[
                ("uid", b"f80bc3e9bd1b5de9"),
                ("nsp", b"/"),
                ("type", b"3"),
                ("data", br#"{"packet":{"type":2,"data":["r1",2]},"opts":{"rooms":["room1"],"except":["room2"],"flags":{}}}"#),
            ],
        );
        let incoming = side.decode_entry(&from_node).unwrap().unwrap();
        assert_eq!(incoming.offset.as_deref(), Some("1796515941765-0"));
        assert_eq!(incoming.from.as_deref(), Some("f80bc3e9bd1b5de9"));
        let binary = entry(
            "1-0",
            &[
                ("uid", b"f80bc3e9bd1b5de9"),
                ("nsp", b"/"),
                ("type", b"3"),
                ("data", b"gqZwYWNrZXSCpHR5cGUCpGRhdGGSqm1pc3NlZC1iaW7EAt6tpG9wdHODpXJvb21zkaFypmV4Y2VwdJClZmxhZ3OA"),
            ],
        );
        let replayed = side.replayed(&binary, Parser::Json).unwrap().unwrap();
        assert_eq!(
            replayed.packet.frames()[0].as_bytes(),
            br#"451-["missed-bin",{"_placeholder":true,"num":0},"1-0"]"#
        );
        assert_eq!(replayed.packet.frames()[1].as_bytes(), [0xde, 0xad]);
        assert_eq!(replayed.opts.rooms, [Room::new("r").unwrap()]);
        // Its own entries, other namespaces' and entries without one are not for it.
        let own = entry(
            "2-0",
            &[
                ("uid", b"1ec873d32fd6ab49"),
                ("nsp", b"/"),
                ("type", b"4"),
                ("data", b"{}"),
            ],
        );
        assert!(side.decode_entry(&own).unwrap().is_none());
        assert!(side
            .decode_entry(&entry("3-0", &[("nsp", b"/chat"), ("type", b"3")]))
            .unwrap()
            .is_none());
        assert!(side
            .decode_entry(&entry("4-0", &[("type", b"3")]))
            .unwrap()
            .is_none());
    }

    #[test]
    fn broken_entries_are_errors_not_panics() {
        let side = side();
        for fields in [
            vec![("uid", &b"x"[..]), ("nsp", b"/"), ("type", b"3")],
            vec![
                ("uid", b"x"),
                ("nsp", b"/"),
                ("type", b"three"),
                ("data", b"{}"),
            ],
            vec![
                ("uid", b"x"),
                ("nsp", b"/"),
                ("type", b"3"),
                ("data", b"{not json"),
            ],
            vec![
                ("uid", b"x"),
                ("nsp", b"/"),
                ("type", b"3"),
                ("data", b"!!!"),
            ],
            vec![
                ("uid", b"x"),
                ("nsp", b"/"),
                ("type", b"3"),
                ("data", br#"{"packet":{"data":"no"}}"#),
            ],
            vec![
                ("uid", b"x"),
                ("nsp", b"/"),
                ("type", b"99"),
                ("data", b"{}"),
            ],
        ] {
            let broken = entry("5-0", &fields);
            assert!(side.decode_entry(&broken).is_err(), "{fields:?}");
        }
        let no_opts = entry(
            "6-0",
            &[
                ("nsp", b"/"),
                ("type", b"3"),
                ("data", br#"{"packet":{"type":2,"data":["e"]}}"#),
            ],
        );
        assert!(side.replayed(&no_opts, Parser::Json).is_err());
    }

    #[test]
    fn sessions_are_kept_as_node_keeps_them() {
        // Written by Node for {sid, pid, rooms: [sid, "r"], data: {user: "alice", n: 1}}.
        let node = "hKNzaWS0UC01cHNERVpEaEdRMW96X0FBQUGjcGlktENldEFUSXQwUmpGRXhxZ1hBQUFCpXJvb21zkrRQLTVwc0RFWkRoR1Exb3pfQUFBQaFypGRhdGGCpHVzZXKlYWxpY2WhbgE=";
        let session = StreamSide::decode_session(node.as_bytes()).unwrap();
        assert_eq!(session.sid, "P-5psDEZDhGQ1oz_AAAA");
        assert_eq!(session.pid, "CetATIt0RjFExqgXAAAB");
        assert_eq!(
            session.rooms,
            [
                Room::from_peer("P-5psDEZDhGQ1oz_AAAA"),
                Room::from_peer("r")
            ]
        );
        assert_eq!(session.data.get("user"), Some(&Value::from("alice")));
        // Written back: the same bytes (our objects' keys are sorted, as Node's were here).
        let data = Value::Object(
            [
                ("n".to_owned(), Value::from(1)),
                ("user".to_owned(), Value::from("alice")),
            ]
            .into_iter()
            .collect(),
        );
        let ours = StreamSide::encode_session(&Session { data, ..session });
        assert_eq!(
            StreamSide::decode_session(ours.as_bytes())
                .unwrap()
                .data
                .get("n"),
            Some(&Value::from(1))
        );
        assert_eq!(side().session_key("abc"), "sio:session:abc");
        assert!(StreamSide::decode_session(b"!!").is_err());
        assert!(
            StreamSide::decode_session(b"kQ==").is_err(),
            "an array is no session"
        );
    }
}
