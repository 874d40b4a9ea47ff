//! Outgoing arguments: any `T: Serialize` spread into the JSON arguments of a packet, with its
//! binary parts collected as attachments, or into a list of [`Value`]s.

use std::cell::Cell;
use std::fmt;
use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use serde::ser::{self, SerializeStruct as _};
use serde::{Serialize, Serializer};

use crate::value::{self, Value, ValueError, ValueSerializer};

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
