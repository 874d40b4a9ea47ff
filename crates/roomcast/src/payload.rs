//! Event and ack arguments: from user types to the wire and back.
//!
//! # Outgoing: any `T: Serialize`
//!
//! A Socket.IO event carries a list of arguments. A Rust value maps onto it
//! like this:
//!
//! * a tuple (anything serialized with `serialize_tuple`) is spread into
//!   several arguments: `("a", 1)` → `"a", 1`;
//! * `()` means no argument;
//! * anything else (a `Vec`, a slice, a struct, a map, a string, a number, a
//!   [`Value`] …) is **one** argument: `vec![1, 2]` → `[1,2]`.
//!
//! Serde serializes fixed-size arrays (`[T; N]`) with `serialize_tuple` too,
//! so they are spread like tuples; pass a slice (`&arr[..]`) or a `Vec` to send
//! an array as one argument. [`Spread`] turns a slice of values into several
//! arguments.
//!
//! Binary data is whatever serializes with `serialize_bytes` (`bytes::Bytes`,
//! `serde_bytes::ByteBuf`, [`Value::Binary`]); the encoder writes a
//! `{"_placeholder":true,"num":n}` in its place and collects the bytes as an
//! attachment, in one pass over the value.
//!
//! ```
//! use bytes::BytesMut;
//! use roomcast::payload::write_args;
//!
//! let mut buf = BytesMut::new();
//! let attachments = write_args(&mut buf, Some("move"), &("north", 3)).unwrap();
//! assert_eq!(&buf[..], br#"["move","north",3]"#);
//! assert!(attachments.is_empty());
//! ```
//!
//! # Incoming: [`Args`]
//!
//! [`Args`] holds the arguments of a received event or ack. Without binary
//! attachments it keeps each argument as the JSON text it arrived in, checked
//! once on arrival, deserializes straight from that text when asked, and writes
//! it back unchanged when the arguments are sent on. The rule mirrors the
//! outgoing one: a tuple type takes the arguments positionally (missing
//! trailing arguments read as `null`, extra ones are ignored), `()` ignores the
//! arguments, and any other type is built from the first argument (`null` when
//! there is none, so `Option<T>` works).

use std::cell::Cell;
use std::fmt;
use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::ser::{self, SerializeStruct as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::raw_args::RawArgs;
use crate::value::{self, Value, ValueError, ValueSerializer};

/// Most argument kinds listed in an [`ArgsError`] before it abbreviates.
const MAX_DESCRIBED_ARGS: usize = 8;

// ---------------------------------------------------------------------------
// Spread

/// Sends each element of a slice as its own argument.
///
/// ```
/// use bytes::BytesMut;
/// use roomcast::payload::{write_args, Spread};
/// use roomcast::Value;
///
/// let args = vec![Value::from("a"), Value::from(1)];
/// let mut buf = BytesMut::new();
/// write_args(&mut buf, Some("e"), &Spread(&args)).unwrap();
/// assert_eq!(&buf[..], br#"["e","a",1]"#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Spread<'a, T>(pub &'a [T]);

impl<T: Serialize> Serialize for Spread<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeTuple as _;
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for item in self.0 {
            tuple.serialize_element(item)?;
        }
        tuple.end()
    }
}

// ---------------------------------------------------------------------------
// Binary-intercepting serializer wrapper

type AttachmentList = Cell<Vec<Bytes>>;

/// Forwards everything to `inner`, except `serialize_bytes`, which records an
/// attachment and writes a placeholder instead.
struct BinSer<'c, S> {
    inner: S,
    att: &'c AttachmentList,
}

/// A value whose serialization goes through [`BinSer`].
struct Intercept<'c, 'v, T: ?Sized> {
    value: &'v T,
    att: &'c AttachmentList,
}

impl<T: Serialize + ?Sized> Serialize for Intercept<'_, '_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(BinSer {
            inner: serializer,
            att: self.att,
        })
    }
}

/// Compound state of [`BinSer`]: wraps every element in [`Intercept`].
struct BinCompound<'c, C> {
    inner: C,
    att: &'c AttachmentList,
}

impl<'c, C> BinCompound<'c, C> {
    fn wrap<'v, T: ?Sized>(&self, value: &'v T) -> Intercept<'c, 'v, T> {
        Intercept {
            value,
            att: self.att,
        }
    }
}

fn push_attachment(att: &AttachmentList, bytes: &[u8]) -> usize {
    let mut list = att.take();
    let num = list.len();
    list.push(Bytes::copy_from_slice(bytes));
    att.set(list);
    num
}

macro_rules! forward_plain {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method(self, $($arg: $ty),*) -> Result<Self::Ok, Self::Error> {
            self.inner.$method($($arg),*)
        }
    )*};
}

impl<'c, S: Serializer> Serializer for BinSer<'c, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = BinCompound<'c, S::SerializeSeq>;
    type SerializeTuple = BinCompound<'c, S::SerializeTuple>;
    type SerializeTupleStruct = BinCompound<'c, S::SerializeTupleStruct>;
    type SerializeTupleVariant = BinCompound<'c, S::SerializeTupleVariant>;
    type SerializeMap = BinCompound<'c, S::SerializeMap>;
    type SerializeStruct = BinCompound<'c, S::SerializeStruct>;
    type SerializeStructVariant = BinCompound<'c, S::SerializeStructVariant>;

    forward_plain! {
        serialize_bool(v: bool); serialize_i8(v: i8); serialize_i16(v: i16);
        serialize_i32(v: i32); serialize_i64(v: i64); serialize_i128(v: i128);
        serialize_u8(v: u8); serialize_u16(v: u16); serialize_u32(v: u32);
        serialize_u64(v: u64); serialize_u128(v: u128); serialize_f32(v: f32);
        serialize_f64(v: f64); serialize_char(v: char); serialize_str(v: &str);
        serialize_none(); serialize_unit(); serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        let num = push_attachment(self.att, v);
        let mut placeholder = self.inner.serialize_struct("Placeholder", 2)?;
        placeholder.serialize_field("_placeholder", &true)?;
        placeholder.serialize_field("num", &num)?;
        placeholder.end()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.serialize_some(&Intercept {
            value,
            att: self.att,
        })
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_newtype_struct(
            name,
            &Intercept {
                value,
                att: self.att,
            },
        )
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_newtype_variant(
            name,
            index,
            variant,
            &Intercept {
                value,
                att: self.att,
            },
        )
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Ok(BinCompound {
            inner: self.inner.serialize_seq(len)?,
            att: self.att,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Ok(BinCompound {
            inner: self.inner.serialize_tuple(len)?,
            att: self.att,
        })
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Ok(BinCompound {
            inner: self.inner.serialize_tuple_struct(name, len)?,
            att: self.att,
        })
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Ok(BinCompound {
            inner: self
                .inner
                .serialize_tuple_variant(name, index, variant, len)?,
            att: self.att,
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Ok(BinCompound {
            inner: self.inner.serialize_map(len)?,
            att: self.att,
        })
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(BinCompound {
            inner: self.inner.serialize_struct(name, len)?,
            att: self.att,
        })
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Ok(BinCompound {
            inner: self
                .inner
                .serialize_struct_variant(name, index, variant, len)?,
            att: self.att,
        })
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// The compound states of [`BinSer`]: every element, key and field is wrapped so that binary
/// data inside it becomes a placeholder too (`=> skip_field` forwards skipped struct fields).
macro_rules! bin_compound_impl {
    ($($trait:ident { $($method:ident($($arg:ident: $ty:ty),*);)* $(=> $skip:ident)? })*) => {$(
        impl<C: ser::$trait> ser::$trait for BinCompound<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;
            $(
                fn $method<T: Serialize + ?Sized>(
                    &mut self,
                    $($arg: $ty,)*
                    value: &T,
                ) -> Result<(), C::Error> {
                    let value = self.wrap(value);
                    self.inner.$method($($arg,)* &value)
                }
            )*
            $(
                fn $skip(&mut self, key: &'static str) -> Result<(), C::Error> {
                    self.inner.$skip(key)
                }
            )?
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    )*};
}

bin_compound_impl! {
    SerializeSeq { serialize_element(); }
    SerializeTuple { serialize_element(); }
    SerializeTupleStruct { serialize_field(); }
    SerializeTupleVariant { serialize_field(); }
    SerializeMap { serialize_key(); serialize_value(); }
    SerializeStruct { serialize_field(key: &'static str); => skip_field }
    SerializeStructVariant { serialize_field(key: &'static str); => skip_field }
}

// ---------------------------------------------------------------------------
// Top level: spreading a value into JSON arguments

/// Appends to a `BytesMut`, writing a `,` first when a separator is pending.
///
/// A separator is pending after the event name and after each argument; every
/// JSON value writes at least one byte, so it always lands right before the
/// next argument (and is dropped when none follows).
struct SepWriter<'b> {
    buf: &'b mut BytesMut,
    sep: &'b Cell<bool>,
}

impl io::Write for SepWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.sep.replace(false) {
            self.buf.put_u8(b',');
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

type JsonSer<'s, 'b> = &'s mut serde_json::Serializer<SepWriter<'b>>;
type SingleJson<'s, 'b> = BinSer<'s, JsonSer<'s, 'b>>;

/// Top-level serializer: a tuple becomes several arguments, `()` none, any
/// other value one argument.
struct SpreadJson<'s, 'b> {
    ser: JsonSer<'s, 'b>,
    sep: &'s Cell<bool>,
    att: &'s AttachmentList,
}

impl<'s, 'b> SpreadJson<'s, 'b> {
    fn single(self) -> SingleJson<'s, 'b> {
        BinSer {
            inner: self.ser,
            att: self.att,
        }
    }
}

/// Tuple state of [`SpreadJson`]: each element is one argument.
struct SpreadJsonTuple<'s, 'b> {
    ser: JsonSer<'s, 'b>,
    sep: &'s Cell<bool>,
    att: &'s AttachmentList,
}

impl ser::SerializeTuple for SpreadJsonTuple<'_, '_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        value.serialize(BinSer {
            inner: &mut *self.ser,
            att: self.att,
        })?;
        self.sep.set(true);
        Ok(())
    }
    fn end(self) -> Result<(), Self::Error> {
        Ok(())
    }
}

macro_rules! forward_single {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method(self, $($arg: $ty),*) -> Result<Self::Ok, Self::Error> {
            Self::wrap(self.single().$method($($arg),*))
        }
    )*};
}

macro_rules! forward_single_compound {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $assoc:ident;)*) => {$(
        fn $method(self, $($arg: $ty),*) -> Result<Self::$assoc, Self::Error> {
            Ok(Self::wrap_compound(self.single().$method($($arg),*)?))
        }
    )*};
}

macro_rules! forward_single_scalars {
    () => {
        forward_single! {
            serialize_bool(v: bool); serialize_i8(v: i8); serialize_i16(v: i16);
            serialize_i32(v: i32); serialize_i64(v: i64); serialize_i128(v: i128);
            serialize_u8(v: u8); serialize_u16(v: u16); serialize_u32(v: u32);
            serialize_u64(v: u64); serialize_u128(v: u128); serialize_f32(v: f32);
            serialize_f64(v: f64); serialize_char(v: char); serialize_str(v: &str);
            serialize_bytes(v: &[u8]); serialize_none();
            serialize_unit_struct(name: &'static str);
            serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
        }

        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, Self::Error> {
            Self::wrap(self.single().serialize_some(value))
        }

        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            name: &'static str,
            value: &T,
        ) -> Result<Self::Ok, Self::Error> {
            Self::wrap(self.single().serialize_newtype_struct(name, value))
        }

        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            name: &'static str,
            index: u32,
            variant: &'static str,
            value: &T,
        ) -> Result<Self::Ok, Self::Error> {
            Self::wrap(
                self.single()
                    .serialize_newtype_variant(name, index, variant, value),
            )
        }

        forward_single_compound! {
            serialize_seq(len: Option<usize>) -> SerializeSeq;
            serialize_tuple_struct(name: &'static str, len: usize) -> SerializeTupleStruct;
            serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> SerializeTupleVariant;
            serialize_map(len: Option<usize>) -> SerializeMap;
            serialize_struct(name: &'static str, len: usize) -> SerializeStruct;
            serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> SerializeStructVariant;
        }
    };
}

impl SpreadJson<'_, '_> {
    fn wrap(r: Result<(), serde_json::Error>) -> Result<(), serde_json::Error> {
        r
    }

    fn wrap_compound<C>(c: C) -> C {
        c
    }
}

impl<'s, 'b> Serializer for SpreadJson<'s, 'b> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = <SingleJson<'s, 'b> as Serializer>::SerializeSeq;
    type SerializeTuple = SpreadJsonTuple<'s, 'b>;
    type SerializeTupleStruct = <SingleJson<'s, 'b> as Serializer>::SerializeTupleStruct;
    type SerializeTupleVariant = <SingleJson<'s, 'b> as Serializer>::SerializeTupleVariant;
    type SerializeMap = <SingleJson<'s, 'b> as Serializer>::SerializeMap;
    type SerializeStruct = <SingleJson<'s, 'b> as Serializer>::SerializeStruct;
    type SerializeStructVariant = <SingleJson<'s, 'b> as Serializer>::SerializeStructVariant;

    forward_single_scalars!();

    fn serialize_unit(self) -> Result<(), serde_json::Error> {
        Ok(())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, serde_json::Error> {
        Ok(SpreadJsonTuple {
            ser: self.ser,
            sep: self.sep,
            att: self.att,
        })
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), serde_json::Error> {
        self.single().collect_str(value)
    }
}

/// Writes the JSON data array of an event (`event` is `Some`) or an ack
/// (`event` is `None`) to `buf` and returns the binary attachments found, in
/// placeholder order.
///
/// `args` follows the spreading rule of this module: a tuple is several
/// arguments, `()` none, anything else one. On error `buf` keeps what was
/// written before the failure.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use roomcast::payload::write_args;
///
/// let mut buf = BytesMut::new();
/// let file = Bytes::from_static(&[1, 2, 3]);
/// let attachments = write_args(&mut buf, None, &("ok", &file)).unwrap();
/// assert_eq!(&buf[..], br#"["ok",{"_placeholder":true,"num":0}]"#);
/// assert_eq!(attachments, vec![file]);
/// ```
pub fn write_args<T: Serialize + ?Sized>(
    buf: &mut BytesMut,
    event: Option<&str>,
    args: &T,
) -> Result<Vec<Bytes>, serde_json::Error> {
    let sep = Cell::new(false);
    let att = AttachmentList::default();
    buf.put_u8(b'[');
    {
        let mut ser = serde_json::Serializer::new(SepWriter {
            buf: &mut *buf,
            sep: &sep,
        });
        if let Some(event) = event {
            Serializer::serialize_str(&mut ser, event)?;
            sep.set(true);
        }
        args.serialize(SpreadJson {
            ser: &mut ser,
            sep: &sep,
            att: &att,
        })?;
    }
    buf.put_u8(b']');
    Ok(att.take())
}

// ---------------------------------------------------------------------------
// Top level: spreading a value into a list of Values

/// Converts `args` into the list of Socket.IO arguments it stands for, with
/// the spreading rule of this module (a tuple is several arguments, `()`
/// none, anything else one). Binary data becomes [`Value::Binary`].
///
/// ```
/// use roomcast::payload::to_arg_values;
/// use roomcast::Value;
///
/// assert_eq!(to_arg_values(&("a", 1)).unwrap(), vec![Value::from("a"), Value::from(1)]);
/// assert_eq!(to_arg_values(&vec![1, 2]).unwrap(), vec![Value::from(vec![1, 2])]);
/// assert!(to_arg_values(&()).unwrap().is_empty());
/// ```
pub fn to_arg_values<T: Serialize + ?Sized>(args: &T) -> Result<Vec<Value>, ValueError> {
    args.serialize(SpreadValues)
}

struct SpreadValues;

impl SpreadValues {
    fn single(self) -> ValueSerializer {
        ValueSerializer
    }

    fn wrap(r: Result<Value, ValueError>) -> Result<Vec<Value>, ValueError> {
        r.map(|v| vec![v])
    }

    fn wrap_compound<C>(inner: C) -> One<C> {
        One(inner)
    }
}

/// Compound state of [`SpreadValues`] for a single argument.
struct One<C>(C);

macro_rules! one_impl {
    ($($trait:ident { $($method:ident($($arg:ident: $ty:ty),*);)* })*) => {$(
        impl<C: ser::$trait<Ok = Value, Error = ValueError>> ser::$trait for One<C> {
            type Ok = Vec<Value>;
            type Error = ValueError;
            $(
                fn $method<T: Serialize + ?Sized>(&mut self, $($arg: $ty,)* value: &T) -> Result<(), ValueError> {
                    self.0.$method($($arg,)* value)
                }
            )*
            fn end(self) -> Result<Vec<Value>, ValueError> {
                self.0.end().map(|v| vec![v])
            }
        }
    )*};
}

one_impl! {
    SerializeSeq { serialize_element(); }
    SerializeTupleStruct { serialize_field(); }
    SerializeTupleVariant { serialize_field(); }
    SerializeMap { serialize_key(); serialize_value(); }
    SerializeStruct { serialize_field(key: &'static str); }
    SerializeStructVariant { serialize_field(key: &'static str); }
}

/// Tuple state of [`SpreadValues`]: each element is one argument.
struct SpreadValuesTuple(Vec<Value>);

impl ser::SerializeTuple for SpreadValuesTuple {
    type Ok = Vec<Value>;
    type Error = ValueError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        self.0.push(value::to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Vec<Value>, ValueError> {
        Ok(self.0)
    }
}

impl Serializer for SpreadValues {
    type Ok = Vec<Value>;
    type Error = ValueError;
    type SerializeSeq = One<<ValueSerializer as Serializer>::SerializeSeq>;
    type SerializeTuple = SpreadValuesTuple;
    type SerializeTupleStruct = One<<ValueSerializer as Serializer>::SerializeTupleStruct>;
    type SerializeTupleVariant = One<<ValueSerializer as Serializer>::SerializeTupleVariant>;
    type SerializeMap = One<<ValueSerializer as Serializer>::SerializeMap>;
    type SerializeStruct = One<<ValueSerializer as Serializer>::SerializeStruct>;
    type SerializeStructVariant = One<<ValueSerializer as Serializer>::SerializeStructVariant>;

    forward_single_scalars!();

    fn serialize_unit(self) -> Result<Vec<Value>, ValueError> {
        Ok(Vec::new())
    }

    fn serialize_tuple(self, len: usize) -> Result<SpreadValuesTuple, ValueError> {
        Ok(SpreadValuesTuple(Vec::with_capacity(len.min(64))))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    fn json_args(data: &str) -> Args {
        Args::from_json(
            crate::raw_args::scan_json_array(data, false)
                .expect("array")
                .rest,
        )
    }

    /// The JSON data array written and the attachments collected.
    type Written = (String, Vec<Bytes>);

    fn write(event: Option<&str>, args: &(impl Serialize + ?Sized)) -> Written {
        let mut buf = BytesMut::new();
        let att = write_args(&mut buf, event, args).expect("serialize");
        (String::from_utf8(buf.to_vec()).expect("utf8"), att)
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct File {
        name: String,
        data: Bytes,
    }

    #[derive(Serialize)]
    struct Newtype((u8, u8));

    #[derive(Serialize)]
    struct Unit;

    #[test]
    fn spreading_rule_table() {
        let b = Bytes::from_static(&[9]);
        let ev = Some("e");
        // (what was written, expected JSON data array, attachment count)
        let cases: Vec<(Written, &str, usize)> = vec![
            (write(ev, &()), r#"["e"]"#, 0),
            (write(ev, &("a", 1)), r#"["e","a",1]"#, 0),
            (write(ev, &vec![1, 2]), r#"["e",[1,2]]"#, 0),
            (write(ev, &&[1, 2][..]), r#"["e",[1,2]]"#, 0),
            // serde serializes fixed-size arrays as tuples: they spread.
            (write(ev, &[1, 2]), r#"["e",1,2]"#, 0),
            (write(ev, &"s"), r#"["e","s"]"#, 0),
            (write(ev, &None::<u8>), r#"["e",null]"#, 0),
            (write(ev, &Some(((), 1))), r#"["e",[null,1]]"#, 0),
            (write(ev, &((1, 2),)), r#"["e",[1,2]]"#, 0),
            (write(ev, &Newtype((1, 2))), r#"["e",[1,2]]"#, 0),
            (write(ev, &Unit), r#"["e",null]"#, 0),
            (
                write(ev, &(&b, &b)),
                r#"["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
                2,
            ),
            (write(None, &()), "[]", 0),
            (write(None, &1), "[1]", 0),
            (write(None, &(1, "x", true)), r#"[1,"x",true]"#, 0),
            (write(None, &BTreeMap::from([("k", 1)])), r#"[{"k":1}]"#, 0),
            (write(None, &b), r#"[{"_placeholder":true,"num":0}]"#, 1),
            (write(Some("he\"y"), &(1,)), r#"["he\"y",1]"#, 0),
        ];
        for ((got, attachments), want, count) in cases {
            assert_eq!(got, want);
            assert_eq!(attachments.len(), count, "{want}");
            assert!(attachments.iter().all(|a| *a == b), "{want}");
        }
    }

    #[test]
    fn nested_binary_becomes_placeholders_in_order() {
        let a = Bytes::from_static(b"a");
        let b = Bytes::from_static(b"bb");
        let c = Bytes::from_static(b"ccc");
        let file = File {
            name: "f".into(),
            data: b.clone(),
        };
        let mut map = BTreeMap::new();
        map.insert("z", vec![Value::Binary(c.clone()), Value::from(1)]);
        let (text, att) = write(Some("up"), &(&a, file, map));
        assert_eq!(
            text,
            concat!(
                r#"["up",{"_placeholder":true,"num":0},"#,
                r#"{"name":"f","data":{"_placeholder":true,"num":1}},"#,
                r#"{"z":[{"_placeholder":true,"num":2},1]}]"#
            )
        );
        assert_eq!(att, vec![a, b, c]);
    }

    #[test]
    fn args_serialize_back_as_spread() {
        let args = json_args(r#"[ "x" , {"a":[1,2]} ]"#);
        let (text, att) = write(Some("ev"), &args);
        assert_eq!(text, r#"["ev","x",{"a":[1,2]}]"#);
        assert!(att.is_empty());
        let bin = Args::from_values(vec![Value::Binary(Bytes::from_static(b"q"))]);
        let (text, att) = write(None, &bin);
        assert_eq!(text, r#"[{"_placeholder":true,"num":0}]"#);
        assert_eq!(att.len(), 1);
        assert_eq!(
            to_arg_values(&args).expect("values"),
            vec![Value::from("x"), [("a", vec![1, 2])].into_iter().collect()]
        );
    }

    #[test]
    fn to_arg_values_table() {
        let b = Bytes::from_static(b"z");
        let cases: Vec<(Vec<Value>, Vec<Value>)> = vec![
            (to_arg_values(&()).expect("unit"), vec![]),
            (to_arg_values(&(1,)).expect("1-tuple"), vec![1.into()]),
            (
                to_arg_values(&("a", &b)).expect("tuple"),
                vec!["a".into(), Value::Binary(b.clone())],
            ),
            (
                to_arg_values(&vec!["a", "b"]).expect("vec"),
                vec![Value::from(vec!["a", "b"])],
            ),
            (
                to_arg_values(&File {
                    name: "n".into(),
                    data: b.clone(),
                })
                .expect("struct"),
                vec![[
                    ("name", Value::from("n")),
                    ("data", Value::Binary(b.clone())),
                ]
                .into_iter()
                .collect()],
            ),
            (to_arg_values(&None::<u8>).expect("none"), vec![Value::Null]),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Msg {
        text: String,
    }

    #[test]
    fn deserialize_json_args() {
        let args = json_args(r#"["a",{"text":"t"},3]"#);
        assert_eq!(args.len(), 3);
        let t: (String, Msg, u8) = args.deserialize().expect("tuple");
        assert_eq!(t, ("a".into(), Msg { text: "t".into() }, 3));
        let first: String = args.deserialize().expect("first");
        assert_eq!(first, "a");
        let borrowed: &str = args.deserialize().expect("borrowed");
        assert_eq!(borrowed, "a");
        let two: (String, Msg) = args.deserialize().expect("extra ignored");
        assert_eq!(two.1.text, "t");
        let padded: (String, Msg, u8, Option<u8>) = args.deserialize().expect("padded");
        assert_eq!(padded.3, None);
        args.deserialize::<()>().expect("unit ignores");
        let values: Vec<Value> = args.to_values().expect("values");
        assert_eq!(values.len(), 3);

        let empty = json_args("[]");
        let none: Option<Msg> = empty.deserialize().expect("option");
        assert_eq!(none, None);
        empty.deserialize::<()>().expect("unit");
        assert!(empty.is_empty());
    }

    #[test]
    fn deserialize_errors_name_type_and_input() {
        let args = json_args(r#"["a",1]"#);
        let err = args.deserialize::<Msg>().expect_err("string is not Msg");
        assert!(err.expected().ends_with("Msg"), "{err}");
        assert_eq!(err.received(), "2 arguments (string, number)");
        assert!(err.to_string().contains("invalid type"), "{err}");

        let err = json_args("[]")
            .deserialize::<u32>()
            .expect_err("missing arg");
        assert_eq!(err.received(), "no arguments");

        let err = args.deserialize::<(String, String)>().expect_err("2nd arg");
        assert!(err
            .to_string()
            .contains("(alloc::string::String, alloc::string::String)"));

        let many = json_args("[1,2,3,4,5,6,7,8,9,10]");
        let err = many.deserialize::<String>().expect_err("number");
        assert!(err.received().starts_with("10 arguments (number"), "{err}");
        assert!(err.received().ends_with(", …)"), "{err}");

        let bin = Args::from_values(vec![Value::Binary(Bytes::from_static(b"x"))]);
        let err = bin.deserialize::<u32>().expect_err("binary");
        assert_eq!(err.received(), "1 argument (binary)");
    }

    #[test]
    fn deserialize_value_args() {
        let b = Bytes::from_static(b"\x00\x01");
        let args = Args::from_values(vec![
            Value::from("up"),
            [
                ("name", Value::from("f")),
                ("data", Value::Binary(b.clone())),
            ]
            .into_iter()
            .collect(),
        ]);
        assert!(args.has_binary());
        let (s, f): (String, File) = args.deserialize().expect("tuple");
        assert_eq!(s, "up");
        assert_eq!(f.data, b);
        let first: Value = args.deserialize().expect("value");
        assert_eq!(first, Value::from("up"));
        let padded: (String, File, Option<u8>) = args.deserialize().expect("padded");
        assert_eq!(padded.2, None);
        assert_eq!(args.clone().into_values().expect("values").len(), 2);
    }

    #[test]
    fn serde_bytes_types_are_binary() {
        let buf = serde_bytes::ByteBuf::from(vec![1u8, 2]);
        let (text, att) = write(Some("f"), &(&buf, serde_bytes::Bytes::new(b"z")));
        assert_eq!(
            text,
            r#"["f",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
        assert_eq!(
            att,
            vec![Bytes::from_static(&[1, 2]), Bytes::from_static(b"z")]
        );

        let args = Args::from_values(att.into_iter().map(Value::Binary).collect());
        let (a, b): (serde_bytes::ByteBuf, serde_bytes::ByteBuf) =
            args.deserialize().expect("byte bufs");
        assert_eq!((a.as_slice(), b.as_slice()), (&[1u8, 2][..], &b"z"[..]));
        let plain: Vec<u8> = args.deserialize().expect("Vec<u8> from binary");
        assert_eq!(plain, vec![1, 2]);
    }

    #[test]
    fn many_arguments_read_and_write_back_like_few() {
        for count in [1, 8, 9, 40] {
            let items: Vec<String> = (0..count).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
            let data = format!("[{}]", items.join(","));
            let args = json_args(&data);
            assert_eq!(args.len(), count);
            assert_eq!(write(None, &args), (data.clone(), vec![]));
            let values = args.to_values().expect("values");
            assert_eq!(values.len(), count);
            let (first, last): (Value, Option<Value>) = args.deserialize().expect("pair");
            assert_eq!(first, values[0]);
            assert_eq!(last, values.get(1).cloned());
            assert_eq!(to_arg_values(&args).expect("spread"), values);
            assert_eq!(args, Args::from_values(values));
        }
    }

    #[test]
    fn args_as_a_handler_type_take_every_argument() {
        let mut decoder = crate::packet::Decoder::new();
        let packet = decoder
            .decode_text(r#"2["e",1,"two",{"three":3}]"#)
            .unwrap()
            .unwrap();
        let crate::packet::PacketData::Event(event) = packet.data else {
            panic!("not an event");
        };
        let all: Args = event.args().deserialize().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(&all, event.args());
        let none: Args = Args::default().deserialize().unwrap();
        assert!(none.is_empty());
        let values = Args::from_values(vec![
            Value::from(1),
            Value::Binary(Bytes::from_static(b"x")),
        ]);
        let copied: Args = values.deserialize().unwrap();
        assert_eq!(copied, values);
    }
}
