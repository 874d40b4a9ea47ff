//! Stream entries as Redis returns them from `XRANGE` and `XREAD`: an id (`<ms>-<seq>`) and
//! field–value pairs, read from the raw reply so that nothing a foreign writer put there can
//! make reading fail as a whole.

use redis::Value;

/// One entry of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) id: String,
    pub(crate) fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Entry {
    /// A field's value; the last one when the name repeats (as Node reads an entry).
    pub(crate) fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .rev()
            .find(|(key, _)| key == name.as_bytes())
            .map(|(_, value)| value.as_slice())
    }

    /// A field's value as text (`None` when missing or not UTF-8).
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.field(name)
            .and_then(|value| std::str::from_utf8(value).ok())
    }
}

/// The entries of an `XRANGE` reply: `[[id, [field, value, …]], …]`.
pub(crate) fn range_reply(reply: &Value) -> Result<Vec<Entry>, String> {
    let Value::Array(items) = reply else {
        return Err(format!("XRANGE reply is not an array: {reply:?}"));
    };
    items.iter().map(entry).collect()
}

/// The entries of an `XREAD` reply for one stream: nil when the wait timed out, else
/// `[[stream, entries]]` (RESP2) or `{stream: entries}` (RESP3).
pub(crate) fn read_reply(reply: &Value) -> Result<Vec<Entry>, String> {
    match reply {
        Value::Nil => Ok(Vec::new()),
        Value::Array(streams) => match streams.first() {
            Some(Value::Array(pair)) if pair.len() == 2 => range_reply(&pair[1]),
            None => Ok(Vec::new()),
            Some(other) => Err(format!("XREAD reply holds {other:?}")),
        },
        Value::Map(streams) => match streams.first() {
            Some((_, entries)) => range_reply(entries),
            None => Ok(Vec::new()),
        },
        other => Err(format!("XREAD reply is {other:?}")),
    }
}

fn entry(item: &Value) -> Result<Entry, String> {
    let Value::Array(pair) = item else {
        return Err(format!("stream entry is not an array: {item:?}"));
    };
    let [id, fields] = pair.as_slice() else {
        return Err(format!("stream entry has {} parts", pair.len()));
    };
    let id = bytes(id).ok_or_else(|| format!("stream entry id is {id:?}"))?;
    let id = String::from_utf8(id).map_err(|_| "stream entry id is not UTF-8".to_owned())?;
    let fields = match fields {
        Value::Array(flat) => flat
            .chunks(2)
            .filter_map(|pair| match pair {
                [key, value] => Some((bytes(key)?, bytes(value)?)),
                _ => None,
            })
            .collect(),
        // A deleted entry still listed (XAUTOCLAIM / XREADGROUP histories): no fields.
        Value::Nil => Vec::new(),
        other => return Err(format!("stream entry fields are {other:?}")),
    };
    Ok(Entry { id, fields })
}

fn bytes(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes.clone()),
        Value::SimpleString(text) => Some(text.clone().into_bytes()),
        Value::Int(n) => Some(n.to_string().into_bytes()),
        _ => None,
    }
}

/// The id right after `id` (`<ms>-<seq + 1>`), for reading on from an entry inclusively, as
/// Node's adapter does; `None` when `id` is not an entry id.
pub(crate) fn next_id(id: &str) -> Option<String> {
    let (ms, seq) = parse_id(id)?;
    Some(match seq.checked_add(1) {
        Some(seq) => format!("{ms}-{seq}"),
        None => format!("{}-0", ms.checked_add(1)?),
    })
}

/// `<ms>-<seq>`, both decimal (Node's `/^[0-9]+-[0-9]+$/`, within the range Redis allows).
pub(crate) fn parse_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(ms) || !digits(seq) {
        return None;
    }
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn replies_read_as_entries() {
        let one = Value::Array(vec![
            bulk("1-0"),
            Value::Array(vec![bulk("nsp"), bulk("/"), bulk("nsp"), bulk("/x")]),
        ]);
        let entries = range_reply(&Value::Array(vec![one.clone()])).unwrap();
        assert_eq!(entries[0].id, "1-0");
        assert_eq!(entries[0].text("nsp"), Some("/x"), "the last one wins");
        assert_eq!(entries[0].field("data"), None);
        let read = Value::Array(vec![Value::Array(vec![
            bulk("socket.io"),
            Value::Array(vec![one.clone()]),
        ])]);
        assert_eq!(read_reply(&read).unwrap().len(), 1);
        let resp3 = Value::Map(vec![(bulk("socket.io"), Value::Array(vec![one]))]);
        assert_eq!(read_reply(&resp3).unwrap().len(), 1);
        assert!(read_reply(&Value::Nil).unwrap().is_empty());
        assert!(range_reply(&Value::Int(3)).is_err());
        assert!(range_reply(&Value::Array(vec![Value::Array(vec![bulk("1-0")])])).is_err());
    }

    #[test]
    fn ids_are_checked_as_node_does() {
        assert_eq!(parse_id("1796516085564-0"), Some((1796516085564, 0)));
        for bad in [
            "",
            "1",
            "1-",
            "-1",
            "a-1",
            "1-0-0",
            "+1-0",
            "1 -0",
            "99999999999999999999-0",
        ] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
        assert_eq!(next_id("5-1").as_deref(), Some("5-2"));
        assert_eq!(next_id(&format!("5-{}", u64::MAX)).as_deref(), Some("6-0"));
        assert_eq!(next_id("x"), None);
    }
}
