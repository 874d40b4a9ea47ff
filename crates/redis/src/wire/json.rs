//! Values as `JSON.stringify` writes them in Node's JSON messages: binary as a Node `Buffer`
//! serializes, `{"type":"Buffer","data":[…]}`.

use roomcast::Value;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// A value written as Node writes it in JSON.
pub(crate) struct NodeJson<'a>(pub(crate) &'a Value);

impl Serialize for NodeJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Binary(bytes) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", "Buffer")?;
                map.serialize_entry("data", &bytes[..])?;
                map.end()
            }
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&NodeJson(item))?;
                }
                seq.end()
            }
            Value::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, item) in entries {
                    map.serialize_entry(key, &NodeJson(item))?;
                }
                map.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_is_written_as_a_node_buffer() {
        let value = Value::Array(vec![
            Value::from("a"),
            Value::Binary(bytes::Bytes::from_static(&[1, 2])),
        ]);
        assert_eq!(
            serde_json::to_string(&NodeJson(&value)).unwrap(),
            r#"["a",{"type":"Buffer","data":[1,2]}]"#
        );
    }
}
