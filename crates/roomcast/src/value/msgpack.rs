//! MessagePack as Node writes and reads it (socket.io-msgpack-parser and the Redis adapters) (notepack.io 3): the smallest integer
//! encoding for integral numbers, float64 for the rest, `str8` from 32 bytes, `bin` for binary;
//! maps written in the key order the caller gives. Reading accepts every MessagePack value and
//! maps it the way notepack does (binary and the legacy ext 0 to bytes, timestamps to the ISO
//! date string JavaScript would print, `undefined` and nil to null).

use super::{Map, Number, Value};
use bytes::Bytes;
use rmpv::Value as Msg;

/// A MessagePack buffer being written.
///
/// ```
/// use roomcast::value::{msgpack, Value};
///
/// let mut writer = msgpack::Writer::new();
/// writer.value(&Value::from("hi"));
/// let bytes = writer.finish();
/// assert_eq!(bytes, [0xa2, b'h', b'i']);
/// assert_eq!(msgpack::decode(&bytes).unwrap(), Value::from("hi"));
/// ```
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

// Writing into a Vec cannot fail: the results of rmp's writers are infallible here.
impl Writer {
    /// An empty buffer.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// What was written.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    /// `nil`.
    pub fn nil(&mut self) {
        let _ = rmp::encode::write_nil(&mut self.buf);
    }

    /// A boolean.
    pub fn bool(&mut self, value: bool) {
        let _ = rmp::encode::write_bool(&mut self.buf, value);
    }

    /// An unsigned integer, in its smallest encoding.
    pub fn uint(&mut self, value: u64) {
        let _ = rmp::encode::write_uint(&mut self.buf, value);
    }

    /// A signed integer, in its smallest encoding.
    pub fn int(&mut self, value: i64) {
        match u64::try_from(value) {
            Ok(value) => self.uint(value),
            Err(_) => {
                let _ = rmp::encode::write_sint(&mut self.buf, value);
            }
        }
    }

    /// A string.
    pub fn str(&mut self, value: &str) {
        let _ = rmp::encode::write_str(&mut self.buf, value);
    }

    /// Binary data.
    pub fn bin(&mut self, value: &[u8]) {
        let _ = rmp::encode::write_bin(&mut self.buf, value);
    }

    /// The head of an array of `len` values (written next).
    pub fn array(&mut self, len: usize) {
        let _ = rmp::encode::write_array_len(&mut self.buf, u32::try_from(len).unwrap_or(u32::MAX));
    }

    /// The head of a map of `len` key-value pairs (written next).
    pub fn map(&mut self, len: usize) {
        let _ = rmp::encode::write_map_len(&mut self.buf, u32::try_from(len).unwrap_or(u32::MAX));
    }

    /// A JavaScript number: integral values in the smallest integer encoding, others as
    /// float64 (as notepack writes any JS number).
    pub fn number(&mut self, number: &Number) {
        if let Some(value) = number.as_u64() {
            return self.uint(value);
        }
        if let Some(value) = number.as_i64() {
            return self.int(value);
        }
        let value = number.as_f64().unwrap_or(f64::NAN);
        if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e18 {
            // Integral and within i64: the cast is exact.
            return self.int(value as i64);
        }
        let _ = rmp::encode::write_f64(&mut self.buf, value);
    }

    /// Any value; object keys in their (sorted) order.
    pub fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.nil(),
            Value::Bool(value) => self.bool(*value),
            Value::Number(number) => self.number(number),
            Value::String(text) => self.str(text),
            Value::Binary(bytes) => self.bin(bytes),
            Value::Array(items) => {
                self.array(items.len());
                for item in items {
                    self.value(item);
                }
            }
            Value::Object(map) => {
                self.map(map.len());
                for (key, item) in map {
                    self.str(key);
                    self.value(item);
                }
            }
        }
    }
}

/// Why bytes are not one MessagePack value.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not MessagePack, truncated, or nested too deep.
    #[error("invalid MessagePack: {0}")]
    Invalid(#[from] rmpv::decode::Error),
    /// More bytes after the value.
    #[error("{0} trailing bytes after the MessagePack value")]
    Trailing(usize),
}

/// Nesting deeper than this is refused (a hostile message cannot exhaust the stack).
const MAX_DEPTH: usize = 128;

/// Reads exactly one value.
pub fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut rest = bytes;
    let msg = rmpv::decode::read_value_with_max_depth(&mut rest, MAX_DEPTH)?;
    if !rest.is_empty() {
        return Err(DecodeError::Trailing(rest.len()));
    }
    Ok(to_value(msg))
}

fn to_value(msg: Msg) -> Value {
    match msg {
        Msg::Nil => Value::Null,
        Msg::Boolean(value) => Value::Bool(value),
        Msg::Integer(value) => match (value.as_u64(), value.as_i64()) {
            (Some(value), _) => Value::from(value),
            (None, Some(value)) => Value::from(value),
            (None, None) => Value::Null,
        },
        Msg::F32(value) => float(f64::from(value)),
        Msg::F64(value) => float(value),
        Msg::String(text) => match text.into_str() {
            Some(text) => Value::String(text),
            None => Value::Null,
        },
        Msg::Binary(bytes) => Value::Binary(Bytes::from(bytes)),
        Msg::Array(items) => Value::Array(items.into_iter().map(to_value).collect()),
        Msg::Map(entries) => {
            let mut map = Map::new();
            for (key, item) in entries {
                map.insert(key_string(key), to_value(item));
            }
            Value::Object(map)
        }
        Msg::Ext(kind, data) => ext(kind, data),
    }
}

/// A map key as JavaScript's `String(key)` writes it: an object is `[object Object]`, an array
/// its elements' strings joined with commas (null ones empty). Linear in the key's size, however
/// deeply it nests.
fn key_string(key: Msg) -> String {
    let mut out = String::new();
    write_js_string(&key, &mut out, true);
    out
}

fn write_js_string(msg: &Msg, out: &mut String, top: bool) {
    match msg {
        Msg::String(text) => out.push_str(text.as_str().unwrap_or_default()),
        Msg::Nil if top => out.push_str("null"),
        Msg::Nil => {}
        Msg::Binary(bytes) => out.push_str(&String::from_utf8_lossy(bytes)),
        Msg::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_js_string(item, out, false);
            }
        }
        Msg::Map(_) => out.push_str("[object Object]"),
        other => match to_value(other.clone()) {
            Value::String(text) => out.push_str(&text),
            Value::Null if !top => {}
            Value::Object(_) => out.push_str("[object Object]"),
            value => out.push_str(&serde_json::to_string(&value).unwrap_or_default()),
        },
    }
}

fn float(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// notepack's extensions: -1 timestamps (a `Date`), 0 the legacy `ArrayBuffer` (or, one
/// byte long, `undefined`), anything else `[type, bytes]`.
fn ext(kind: i8, data: Vec<u8>) -> Value {
    match (kind, data.len()) {
        (-1, _) => timestamp(&data).map_or(Value::Null, Value::String),
        (0, 1) => Value::Null,
        (0, _) => Value::Binary(Bytes::from(data)),
        (kind, _) => Value::Array(vec![Value::from(kind), Value::Binary(Bytes::from(data))]),
    }
}

/// A MessagePack timestamp as `Date.prototype.toJSON` prints it, e.g.
/// `1970-01-01T00:00:01.500Z`.
fn timestamp(data: &[u8]) -> Option<String> {
    let (seconds, nanos): (i64, u32) = match data.len() {
        4 => (i64::from(u32::from_be_bytes(data.try_into().ok()?)), 0),
        8 => {
            let raw = u64::from_be_bytes(data.try_into().ok()?);
            ((raw & 0x3_ffff_ffff) as i64, (raw >> 34) as u32)
        }
        12 => (
            i64::from_be_bytes(data.get(4..12)?.try_into().ok()?),
            u32::from_be_bytes(data.get(0..4)?.try_into().ok()?),
        ),
        _ => return None,
    };
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (year, month, day) = civil(days);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        nanos / 1_000_000
    ))
}

/// Days since 1970-01-01 to (year, month, day).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn written(value: &Value) -> String {
        let mut writer = Writer::new();
        writer.value(value);
        hex(&writer.finish())
    }

    #[test]
    fn numbers_and_strings_are_written_as_notepack_writes_them() {
        let thirty_two_x = format!("d920{}", "78".repeat(32));
        let cases: Vec<(Value, &str)> = vec![
            (Value::from(1), "01"),
            (Value::from(255), "ccff"),
            (Value::from(65536), "ce00010000"),
            (Value::from(4_294_967_296u64), "cf0000000100000000"),
            (Value::from(-33), "d0df"),
            (Value::from(-1), "ff"),
            (Value::from(1.5), "cb3ff8000000000000"),
            (Value::from(2.0), "02"),
            (Value::from("é"), "a2c3a9"),
            (Value::from("x".repeat(32)), &thirty_two_x),
            (Value::Binary(Bytes::from_static(&[1, 2, 3])), "c403010203"),
            (Value::Null, "c0"),
        ];
        for (value, want) in cases {
            assert_eq!(written(&value), want, "{value:?}");
        }
        assert!(written(&Value::from("y".repeat(256))).starts_with("da0100"));
    }

    #[test]
    fn values_read_back_as_notepack_reads_them() {
        let read = |hex: &str| {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            decode(&bytes).unwrap()
        };
        assert_eq!(
            read("c403010203"),
            Value::Binary(Bytes::from_static(&[1, 2, 3]))
        );
        assert_eq!(
            read("d6ff00000000"),
            Value::from("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(
            read("d7ff7735940000000001"),
            Value::from("1970-01-01T00:00:01.500Z")
        );
        assert_eq!(read("d40000"), Value::Null);
        assert_eq!(
            read("c70200abcd"),
            Value::Binary(Bytes::from_static(&[0xab, 0xcd]))
        );
        assert_eq!(read("8101a0"), {
            let mut map = Map::new();
            map.insert("1".into(), Value::from(""));
            Value::Object(map)
        });
        assert!(decode(&[0x92, 0x01]).is_err());
        assert!(matches!(
            decode(&[0x01, 0x02]),
            Err(DecodeError::Trailing(1))
        ));
        // Deeply nested arrays are refused, not followed.
        let deep: Vec<u8> = std::iter::repeat_n(0x91u8, 10_000).chain([0x01]).collect();
        assert!(decode(&deep).is_err());
    }

    #[test]
    fn map_keys_read_as_javascript_strings_in_linear_time() {
        // {1: a, true: b, null: c, [1, [2, null]]: d, {x: 1}: e}
        let bytes = [
            0x85, 0x01, 0xa1, b'a', 0xc3, 0xa1, b'b', 0xc0, 0xa1, b'c', 0x92, 0x01, 0x92, 0x02,
            0xc0, 0xa1, b'd', 0x81, 0xa1, b'x', 0x01, 0xa1, b'e',
        ];
        let Value::Object(map) = decode(&bytes).unwrap() else {
            panic!("a map")
        };
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(keys, ["1", "1,2,", "[object Object]", "null", "true"]);
        // Maps nested as keys 60 deep: each level is `[object Object]`, not its escaped JSON.
        let mut nested = vec![0x81; 60];
        nested.extend_from_slice(&[0xa1, b'k', 0x01]);
        nested.extend(std::iter::repeat_n(0x01, 59));
        if let Err(error) = decode(&nested) {
            panic!("{error}");
        }
    }
}
