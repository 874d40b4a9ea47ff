//! Incoming arguments: [`Args`], the arguments of a received event or ack, and how they are
//! read into a type.

use std::fmt;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::ser;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::raw_args::RawArgs;
use crate::value::{Value, ValueError};

/// Most argument kinds listed in an [`ArgsError`] before it abbreviates.
const MAX_DESCRIBED_ARGS: usize = 8;

// ---------------------------------------------------------------------------
// Incoming arguments

/// The arguments of a received event or ack.
///
/// Without binary attachments this keeps each argument's JSON text, validated
/// once when the packet arrived, so reading them into a type parses the text
/// directly, without an intermediate tree. With attachments the arguments are
/// [`Value`]s in which placeholders were replaced by [`Value::Binary`].
///
/// `Args` serializes as a tuple, so passing it back to an encoder sends the
/// same arguments again (JSON arguments as the very text they arrived in).
///
/// ```
/// use roomcast::packet::{Decoder, PacketData};
///
/// let mut decoder = Decoder::new();
/// let packet = decoder.decode_text(r#"2["chat",{"text":"hi"},3]"#).unwrap().unwrap();
/// let PacketData::Event(event) = packet.data else { unreachable!() };
///
/// #[derive(serde::Deserialize)]
/// struct Message { text: String }
/// // A tuple takes the arguments positionally ...
/// let (msg, n): (Message, u32) = event.args().deserialize().unwrap();
/// assert_eq!((msg.text.as_str(), n), ("hi", 3));
/// // ... any other type is built from the first argument.
/// let msg: Message = event.args().deserialize().unwrap();
/// assert_eq!(msg.text, "hi");
/// ```
#[derive(Debug, Clone)]
pub struct Args {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    /// Each argument's JSON text, as received (an event name is not an
    /// argument).
    Json(RawArgs),
    Values(Vec<Value>),
}

/// Arguments are equal when they hold the same values, whether they are
/// kept as JSON text or as [`Value`]s.
impl PartialEq for Args {
    fn eq(&self, other: &Self) -> bool {
        match (self.to_values(), other.to_values()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl Default for Args {
    fn default() -> Self {
        Args::from_values(Vec::new())
    }
}

impl From<Vec<Value>> for Args {
    fn from(values: Vec<Value>) -> Self {
        Args::from_values(values)
    }
}

static NULL: Value = Value::Null;

impl Args {
    /// Arguments from already built values (for instance from another codec).
    pub fn from_values(values: Vec<Value>) -> Args {
        Args {
            repr: Repr::Values(values),
        }
    }

    /// Arguments kept as the JSON text of each, already validated.
    pub(crate) fn from_json(args: RawArgs) -> Args {
        Args {
            repr: Repr::Json(args),
        }
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Json(args) => args.len(),
            Repr::Values(v) => v.len(),
        }
    }

    /// Whether there is no argument.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether any argument contains binary data.
    pub fn has_binary(&self) -> bool {
        match &self.repr {
            Repr::Json(_) => false,
            Repr::Values(v) => v.iter().any(Value::has_binary),
        }
    }

    /// Reads the arguments as a `T`: a tuple type takes them positionally
    /// (missing trailing ones read as `null`, extra ones are ignored), `()`
    /// ignores them, and any other type is built from the first argument
    /// (`null` when there is none).
    ///
    /// The error names the expected type and describes what was received.
    /// To get every argument whatever their number, use [`Args::to_values`].
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, ArgsError> {
        let result = match &self.repr {
            Repr::Json(args) => {
                T::deserialize(JsonArgs { args }).map_err(|e| (e.to_string(), self.describe()))
            }
            Repr::Values(values) => {
                T::deserialize(ValueArgs { values }).map_err(|e| (e.to_string(), self.describe()))
            }
        };
        result.map_err(|(reason, received)| ArgsError {
            expected: std::any::type_name::<T>(),
            received,
            reason,
        })
    }

    /// The arguments as [`Value`]s.
    pub fn to_values(&self) -> Result<Vec<Value>, ArgsError> {
        match &self.repr {
            Repr::Json(args) => args
                .iter()
                .map(|raw| {
                    serde_json::from_str::<Value>(raw).map_err(|e| ArgsError {
                        expected: "roomcast::value::Value",
                        received: self.describe(),
                        reason: e.to_string(),
                    })
                })
                .collect(),
            Repr::Values(v) => Ok(v.clone()),
        }
    }

    /// The arguments as [`Value`]s, consuming `self`.
    pub fn into_values(self) -> Result<Vec<Value>, ArgsError> {
        match self.repr {
            Repr::Values(v) => Ok(v),
            Repr::Json(_) => self.to_values(),
        }
    }

    /// A short description such as `2 arguments (string, object)`.
    fn describe(&self) -> String {
        let kinds: Vec<&'static str> = match &self.repr {
            Repr::Json(args) => args
                .iter()
                .take(MAX_DESCRIBED_ARGS + 1)
                .map(|raw| json_kind(raw.as_bytes().first().copied()))
                .collect(),
            Repr::Values(v) => v
                .iter()
                .take(MAX_DESCRIBED_ARGS + 1)
                .map(Value::kind)
                .collect(),
        };
        describe_kinds(self.len(), &kinds)
    }
}

pub(crate) fn json_kind(first_byte: Option<u8>) -> &'static str {
    match first_byte {
        Some(b'"') => "string",
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        Some(_) => "number",
        None => "nothing",
    }
}

fn describe_kinds(count: usize, kinds: &[&str]) -> String {
    if count == 0 {
        return "no arguments".to_owned();
    }
    let mut out = format!("{count} argument{} (", if count == 1 { "" } else { "s" });
    for (i, kind) in kinds.iter().take(MAX_DESCRIBED_ARGS).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(kind);
    }
    if count > MAX_DESCRIBED_ARGS {
        out.push_str(", …");
    }
    out.push(')');
    out
}

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeTuple as _;
        let mut tuple = serializer.serialize_tuple(self.len())?;
        match &self.repr {
            Repr::Json(args) => args.serialize_into(&mut tuple)?,
            Repr::Values(values) => {
                for v in values {
                    tuple.serialize_element(v)?;
                }
            }
        }
        tuple.end()
    }
}

/// Reading received arguments into a type failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {received} as `{expected}`: {reason}")]
pub struct ArgsError {
    expected: &'static str,
    received: String,
    reason: String,
}

impl ArgsError {
    /// A parameter of type `expected` that is not there to take (`reason` says why).
    pub(crate) fn unavailable(expected: &'static str, reason: impl Into<String>) -> ArgsError {
        ArgsError {
            expected,
            received: "nothing".to_owned(),
            reason: reason.into(),
        }
    }

    /// The name of the type that was asked for.
    pub fn expected(&self) -> &'static str {
        self.expected
    }

    /// What was received, e.g. `2 arguments (string, number)`.
    pub fn received(&self) -> &str {
        &self.received
    }

    /// The underlying deserialization error.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

// ---------------------------------------------------------------------------
// Argument-list deserializers

/// The tuple length that asks an argument list for every argument it has (what
/// `Args`'s own `Deserialize` requests).
const ALL_ARGS: usize = usize::MAX;

/// `Args` as a handler's type takes every argument, whatever their number.
impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Args, D::Error> {
        struct AllArgs;

        impl<'de> Visitor<'de> for AllArgs {
            type Value = Args;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of arguments")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Args, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(value) = seq.next_element::<Value>()? {
                    values.push(value);
                }
                Ok(Args::from_values(values))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Args, E> {
                Ok(Args::default())
            }
        }

        deserializer.deserialize_tuple(ALL_ARGS, AllArgs)
    }
}

/// Deserializes the argument list of a JSON packet.
struct JsonArgs<'a> {
    args: &'a RawArgs,
}

impl<'a> JsonArgs<'a> {
    fn arg(&self, index: usize) -> &'a str {
        self.args.get(index).unwrap_or("null")
    }
}

fn from_json_arg<'a, R>(
    text: &'a str,
    f: impl FnOnce(
        &mut serde_json::Deserializer<serde_json::de::StrRead<'a>>,
    ) -> Result<R, serde_json::Error>,
) -> Result<R, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let out = f(&mut de)?;
    de.end()?;
    Ok(out)
}

struct JsonArgsSeq<'a> {
    args: JsonArgs<'a>,
    index: usize,
    len: usize,
}

impl<'de> SeqAccess<'de> for JsonArgsSeq<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, serde_json::Error> {
        if self.index >= self.len {
            return Ok(None);
        }
        let text = self.args.arg(self.index);
        self.index += 1;
        from_json_arg(text, |de| seed.deserialize(de)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len.saturating_sub(self.index))
    }
}

macro_rules! first_arg_json {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
            from_json_arg(self.arg(0), |de| de.$method($($arg,)* visitor))
        }
    )*};
}

impl<'de> Deserializer<'de> for JsonArgs<'de> {
    type Error = serde_json::Error;

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        let len = if len == ALL_ARGS {
            self.args.len()
        } else {
            len
        };
        visitor.visit_seq(JsonArgsSeq {
            args: self,
            index: 0,
            len,
        })
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        visitor.visit_unit()
    }

    first_arg_json! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16();
        deserialize_i32(); deserialize_i64(); deserialize_i128(); deserialize_u8();
        deserialize_u16(); deserialize_u32(); deserialize_u64(); deserialize_u128();
        deserialize_f32(); deserialize_f64(); deserialize_char(); deserialize_str();
        deserialize_string(); deserialize_bytes(); deserialize_byte_buf();
        deserialize_option(); deserialize_seq(); deserialize_map();
        deserialize_identifier(); deserialize_ignored_any();
        deserialize_newtype_struct(name: &'static str);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }
}

/// Deserializes an argument list of [`Value`]s.
struct ValueArgs<'a> {
    values: &'a [Value],
}

impl<'a> ValueArgs<'a> {
    fn arg(&self, index: usize) -> &'a Value {
        self.values.get(index).unwrap_or(&NULL)
    }
}

struct ValueArgsSeq<'a> {
    args: ValueArgs<'a>,
    index: usize,
    len: usize,
}

impl<'de> SeqAccess<'de> for ValueArgsSeq<'_> {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        if self.index >= self.len {
            return Ok(None);
        }
        let value = self.args.arg(self.index);
        self.index += 1;
        seed.deserialize(value).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len.saturating_sub(self.index))
    }
}

macro_rules! first_arg_value {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
            self.arg(0).$method($($arg,)* visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for ValueArgs<'_> {
    type Error = ValueError;

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        let len = if len == ALL_ARGS {
            self.values.len()
        } else {
            len
        };
        visitor.visit_seq(ValueArgsSeq {
            args: self,
            index: 0,
            len,
        })
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_unit()
    }

    first_arg_value! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16();
        deserialize_i32(); deserialize_i64(); deserialize_i128(); deserialize_u8();
        deserialize_u16(); deserialize_u32(); deserialize_u64(); deserialize_u128();
        deserialize_f32(); deserialize_f64(); deserialize_char(); deserialize_str();
        deserialize_string(); deserialize_bytes(); deserialize_byte_buf();
        deserialize_option(); deserialize_seq(); deserialize_map();
        deserialize_identifier(); deserialize_ignored_any();
        deserialize_newtype_struct(name: &'static str);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }
}
