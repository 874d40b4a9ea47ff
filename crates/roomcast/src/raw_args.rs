//! Received JSON arguments, kept as their text: scanned once without building a tree, read into
//! a type on demand, written back as they came.

use std::fmt;

use serde::de::{self, Deserializer as _, SeqAccess, Visitor};
use serde::ser::{SerializeStruct, SerializeTuple};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::value::JSON_RAW_TOKEN;

/// Up to this many arguments are each kept in their own box; past it they share one allocation,
/// whatever their number.
const BOXED_ARGS: usize = 8;

/// The JSON text of each received argument, validated on arrival.
#[derive(Debug, Clone)]
pub(crate) enum RawArgs {
    /// A few arguments, one box each.
    Boxed(Vec<Box<RawValue>>),
    /// Many arguments: byte ranges of one copy of the packet's data array, so that a packet of
    /// many tiny arguments costs no allocation per argument.
    Spans {
        text: Box<str>,
        spans: Vec<(usize, usize)>,
    },
}

impl RawArgs {
    pub(crate) fn len(&self) -> usize {
        match self {
            RawArgs::Boxed(args) => args.len(),
            RawArgs::Spans { spans, .. } => spans.len(),
        }
    }

    /// The JSON text of argument `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        match self {
            RawArgs::Boxed(args) => args.get(index).map(|raw| raw.get()),
            RawArgs::Spans { text, spans } => spans
                .get(index)
                .and_then(|&(start, end)| text.get(start..end)),
        }
    }

    /// The JSON text of every argument, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// Serializes every argument as an element of `tuple`, as the JSON it is.
    pub(crate) fn serialize_into<T: SerializeTuple>(&self, tuple: &mut T) -> Result<(), T::Error> {
        for text in self.iter() {
            tuple.serialize_element(&Validated(text))?;
        }
        Ok(())
    }
}

/// JSON text validated on arrival, serialized the way serde_json serializes a `RawValue`: its
/// serializer writes the text as it is (and roomcast's `Value` serializer parses it), without
/// checking it again.
struct Validated<'a>(&'a str);

impl Serialize for Validated<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut raw = serializer.serialize_struct(JSON_RAW_TOKEN, 1)?;
        raw.serialize_field(JSON_RAW_TOKEN, self.0)?;
        raw.end()
    }
}

/// Result of [`scan_json_array`] on text that is not a JSON array.
#[derive(Debug)]
pub(crate) enum ScanError {
    /// The text is not valid JSON.
    Json(serde_json::Error),
    /// The text is valid JSON but not an array.
    NotArray,
}

/// The elements of a JSON array; the first one apart, borrowed from the input, when asked for
/// (an event name).
#[derive(Debug)]
pub(crate) struct Scanned<'a> {
    pub(crate) first: Option<&'a str>,
    pub(crate) rest: RawArgs,
}

/// Validates `text` as a JSON array, in one pass and without building a tree, and returns its
/// elements as JSON text. With `split_first`, the first element is returned apart.
pub(crate) fn scan_json_array(text: &str, split_first: bool) -> Result<Scanned<'_>, ScanError> {
    if !text.trim_start().starts_with('[') {
        return match serde_json::from_str::<de::IgnoredAny>(text) {
            Ok(_) => Err(ScanError::NotArray),
            Err(e) => Err(ScanError::Json(e)),
        };
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let scanned = de
        .deserialize_seq(ElementsVisitor {
            base: text,
            split_first,
        })
        .map_err(ScanError::Json)?;
    de.end().map_err(ScanError::Json)?;
    Ok(scanned)
}

struct ElementsVisitor<'a> {
    base: &'a str,
    split_first: bool,
}

impl<'de> ElementsVisitor<'de> {
    /// The byte range of `element`, a slice of the input.
    fn span<E: de::Error>(&self, element: &str) -> Result<(usize, usize), E> {
        let start = (element.as_ptr() as usize)
            .checked_sub(self.base.as_ptr() as usize)
            .ok_or_else(|| E::custom("element outside of the input"))?;
        let end = start
            .checked_add(element.len())
            .filter(|&end| end <= self.base.len())
            .ok_or_else(|| E::custom("element outside of the input"))?;
        Ok((start, end))
    }
}

impl<'de> Visitor<'de> for ElementsVisitor<'de> {
    type Value = Scanned<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let first = if self.split_first {
            seq.next_element::<&'de RawValue>()?.map(RawValue::get)
        } else {
            None
        };
        let mut few: [Option<&'de RawValue>; BOXED_ARGS] = [None; BOXED_ARGS];
        let mut count = 0;
        let mut spans = Vec::new();
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            if let Some(slot) = few.get_mut(count) {
                *slot = Some(raw);
            } else {
                if spans.is_empty() {
                    for kept in few.iter().flatten() {
                        spans.push(self.span(kept.get())?);
                    }
                }
                spans.push(self.span(raw.get())?);
            }
            count += 1;
        }
        let rest = if count <= BOXED_ARGS {
            RawArgs::Boxed(few.iter().flatten().map(|raw| (*raw).to_owned()).collect())
        } else {
            RawArgs::Spans {
                text: self.base.into(),
                spans,
            }
        };
        Ok(Scanned { first, rest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(args: &RawArgs) -> Vec<&str> {
        args.iter().collect()
    }

    #[test]
    fn scan_rejects_non_arrays() {
        let scan = |text| scan_json_array(text, false);
        assert!(matches!(scan("{}"), Err(ScanError::NotArray)));
        assert!(matches!(scan("1"), Err(ScanError::NotArray)));
        assert!(matches!(scan("[1,"), Err(ScanError::Json(_))));
        assert!(matches!(scan("[1] x"), Err(ScanError::Json(_))));
        assert!(matches!(scan("nope"), Err(ScanError::Json(_))));
    }

    #[test]
    fn elements_come_as_their_text() {
        let scanned = scan_json_array(r#" [1, "é", {"a":[]}] "#, false).expect("ok");
        assert_eq!(texts(&scanned.rest), ["1", r#""é""#, r#"{"a":[]}"#]);
        assert!(matches!(scanned.rest, RawArgs::Boxed(_)));
        let split = scan_json_array(r#"["e", 2]"#, true).expect("ok");
        assert_eq!(split.first, Some(r#""e""#));
        assert_eq!(texts(&split.rest), ["2"]);
        let empty = scan_json_array("[]", true).expect("ok");
        assert_eq!((empty.first, empty.rest.len()), (None, 0));
    }

    #[test]
    fn many_elements_share_one_text() {
        let items: Vec<String> = (0..BOXED_ARGS + 3).map(|i| format!("[{i}]")).collect();
        let text = format!(r#"["name", {}]"#, items.join(" , "));
        let scanned = scan_json_array(&text, true).expect("ok");
        assert_eq!(scanned.first, Some(r#""name""#));
        assert!(matches!(scanned.rest, RawArgs::Spans { .. }));
        assert_eq!(texts(&scanned.rest), items);
        let at_limit: Vec<String> = (0..BOXED_ARGS).map(|i| i.to_string()).collect();
        let text = format!("[{}]", at_limit.join(","));
        let scanned = scan_json_array(&text, false).expect("ok");
        assert!(matches!(scanned.rest, RawArgs::Boxed(_)));
        assert_eq!(texts(&scanned.rest), at_limit);
    }
}
