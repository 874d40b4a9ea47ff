//! Broadcast options on the wire, `{rooms, except, flags}`, as Node writes and reads them.

use std::time::Duration;

use roomcast::adapter::{BroadcastFlags, BroadcastOptions};
use roomcast::{Room, Value};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::message::WireError;
use super::read::{truthy, Fields};
use roomcast::value::msgpack::Writer;

/// Options written as JSON: `{"rooms":[…],"except":[…]}`, then `"flags":{…}` when
/// `with_flags` (the cluster protocol always has them; the classic requests never).
pub(crate) struct JsonOpts<'a> {
    pub(crate) opts: &'a BroadcastOptions,
    pub(crate) with_flags: bool,
}

impl Serialize for JsonOpts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("rooms", &names(&self.opts.rooms))?;
        map.serialize_entry("except", &names(&self.opts.except))?;
        if self.with_flags {
            map.serialize_entry("flags", &JsonFlags(&self.opts.flags))?;
        }
        map.end()
    }
}

fn names(rooms: &[Room]) -> Vec<&str> {
    rooms.iter().map(Room::as_str).collect()
}

/// The flags Node sets: `volatile`, `compress`, `timeout` (ms); `local` never travels.
struct JsonFlags<'a>(&'a BroadcastFlags);

impl Serialize for JsonFlags<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let flags = self.0;
        let mut map = serializer.serialize_map(None)?;
        if flags.volatile {
            map.serialize_entry("volatile", &true)?;
        }
        if let Some(compress) = flags.compress {
            map.serialize_entry("compress", &compress)?;
        }
        if let Some(timeout) = flags.timeout {
            map.serialize_entry("timeout", &millis(timeout))?;
        }
        map.end()
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Writes `{rooms, except, flags}` (the order Node's adapters use) in MessagePack.
pub(crate) fn write_opts(writer: &mut Writer, opts: &BroadcastOptions) {
    writer.map(3);
    writer.str("rooms");
    write_rooms(writer, &opts.rooms);
    writer.str("except");
    write_rooms(writer, &opts.except);
    writer.str("flags");
    write_flags(writer, &opts.flags);
}

/// Writes `{rooms, flags, except}`, the order of `@socket.io/redis-emitter`.
pub(crate) fn write_emitter_opts(writer: &mut Writer, opts: &BroadcastOptions) {
    writer.map(3);
    writer.str("rooms");
    write_rooms(writer, &opts.rooms);
    writer.str("flags");
    write_flags(writer, &opts.flags);
    writer.str("except");
    write_rooms(writer, &opts.except);
}

fn write_rooms(writer: &mut Writer, rooms: &[Room]) {
    writer.array(rooms.len());
    for room in rooms {
        writer.str(room.as_str());
    }
}

fn write_flags(writer: &mut Writer, flags: &BroadcastFlags) {
    let len = usize::from(flags.volatile)
        + usize::from(flags.compress.is_some())
        + usize::from(flags.timeout.is_some());
    writer.map(len);
    if flags.volatile {
        writer.str("volatile");
        writer.bool(true);
    }
    if let Some(compress) = flags.compress {
        writer.str("compress");
        writer.bool(compress);
    }
    if let Some(timeout) = flags.timeout {
        writer.str("timeout");
        writer.uint(millis(timeout));
    }
}

/// Reads `{rooms, except, flags}`; every part may be missing (Node reads a missing list as
/// empty). Room names are whatever Node allows, numbers included.
pub(crate) fn read_opts(value: Option<&Value>) -> Result<BroadcastOptions, WireError> {
    let Some(value) = value else {
        return Ok(BroadcastOptions::default());
    };
    let fields = Fields::of(value, "opts")?;
    let mut opts = BroadcastOptions {
        rooms: read_rooms(fields.get("rooms"))?,
        except: read_rooms(fields.get("except"))?,
        flags: BroadcastFlags::default(),
    };
    if let Some(flags) = fields.get("flags") {
        let flags = Fields::of(flags, "flags")?;
        opts.flags.volatile = flags.flag("volatile");
        opts.flags.compress = flags.get("compress").map(truthy);
        opts.flags.timeout = flags
            .get("timeout")
            .and_then(Value::as_f64)
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| Duration::from_millis(ms as u64));
    }
    Ok(opts)
}

/// Reads a list of room names (strings, or numbers as their text); a single name stands for a
/// list of one, as Node's `socketsJoin("room")` writes it.
pub(crate) fn read_rooms(value: Option<&Value>) -> Result<Vec<Room>, WireError> {
    let name = |value: &Value| match value {
        Value::String(text) => Ok(Room::from_peer(text.as_str())),
        Value::Number(number) => Ok(Room::from_peer(number.to_string())),
        other => Err(WireError::shape(format!(
            "room name is {}, not a string",
            other.kind()
        ))),
    };
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(name).collect(),
        Some(single) => Ok(vec![name(single)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_as_node_writes_them() {
        let value: Value = serde_json::from_str(
            r#"{"rooms":["a",42],"except":[],"flags":{"volatile":true,"timeout":1000,"expectSingleResponse":true}}"#,
        )
        .unwrap();
        let opts = read_opts(Some(&value)).unwrap();
        assert_eq!(
            opts.rooms,
            vec![Room::from_peer("a"), Room::from_peer("42")]
        );
        assert!(opts.flags.volatile);
        assert_eq!(opts.flags.timeout, Some(Duration::from_secs(1)));
        assert!(read_opts(None).unwrap().rooms.is_empty());
        assert!(read_opts(Some(&Value::from(3))).is_err());
    }

    #[test]
    fn options_are_written_in_node_order() {
        let opts = BroadcastOptions {
            rooms: vec![Room::new("r1").unwrap()],
            ..BroadcastOptions::default()
        };
        let json = serde_json::to_string(&JsonOpts {
            opts: &opts,
            with_flags: true,
        })
        .unwrap();
        assert_eq!(json, r#"{"rooms":["r1"],"except":[],"flags":{}}"#);
        let mut writer = Writer::new();
        write_opts(&mut writer, &opts);
        let hex: String = writer.finish().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "83a5726f6f6d7391a27231a665786365707490a5666c61677380");
    }
}
