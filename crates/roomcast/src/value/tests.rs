use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::*;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Inner {
    id: u32,
    tag: Option<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Shape {
    Dot,
    Circle(f64),
    Rect { w: u32, h: u32 },
    Pair(i32, i32),
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Outer {
    name: String,
    inner: Vec<Inner>,
    blob: Bytes,
    shape: Shape,
    flag: bool,
    ratio: f64,
    neg: i64,
    pair: (u8, char),
    by_id: HashMap<u32, String>,
}

fn roundtrip<T: Serialize + DeserializeOwned + PartialEq + fmt::Debug>(v: T) {
    let value = to_value(&v).expect("to_value");
    let by_ref = T::deserialize(&value).expect("from &Value");
    assert_eq!(by_ref, v);
    let owned: T = from_value(value).expect("from Value");
    assert_eq!(owned, v);
}

#[test]
fn roundtrips_through_value() {
    roundtrip(Outer {
        name: "n".into(),
        inner: vec![
            Inner { id: 1, tag: None },
            Inner {
                id: 2,
                tag: Some("t".into()),
            },
        ],
        blob: Bytes::from_static(&[0, 1, 255]),
        shape: Shape::Rect { w: 2, h: 3 },
        flag: true,
        ratio: 0.5,
        neg: -4,
        pair: (7, 'x'),
        by_id: HashMap::from([(1, "one".to_string())]),
    });
    roundtrip(Shape::Dot);
    roundtrip(Shape::Circle(1.5));
    roundtrip(Shape::Pair(-1, 2));
    roundtrip(vec![Some(1u8), None]);
    roundtrip(());
    roundtrip(u64::MAX);
    roundtrip(i64::MIN);
    roundtrip("text".to_string());
}

#[test]
fn binary_deserializes_into_byte_types() {
    let v = Value::Binary(Bytes::from_static(b"abc"));
    let b: Bytes = Bytes::deserialize(&v).expect("bytes");
    assert_eq!(&b[..], b"abc");
    let vec: Vec<u8> = Vec::deserialize(&v).expect("vec via seq");
    assert_eq!(vec, b"abc");
    let arr: [u8; 3] = <[u8; 3]>::deserialize(v.clone()).expect("array via tuple");
    assert_eq!(&arr, b"abc");
    let back: Value = Value::deserialize(v.clone()).expect("value");
    assert_eq!(back, v);
    let back: Value = Value::deserialize(&v).expect("value by ref");
    assert_eq!(back, v);
}

#[test]
fn json_text_deserializes_into_value() {
    let v: Value = serde_json::from_str(r#"{"a":[1,-2,3.5,"s",null,true]}"#).expect("json");
    let expected: Value = [(
        "a",
        Value::Array(vec![
            1.into(),
            (-2).into(),
            3.5.into(),
            "s".into(),
            Value::Null,
            true.into(),
        ]),
    )]
    .into_iter()
    .collect();
    assert_eq!(v, expected);
    assert_eq!(
        serde_json::to_string(&v).expect("to json"),
        r#"{"a":[1,-2,3.5,"s",null,true]}"#
    );
}

#[test]
fn raw_json_serializes_into_tree() {
    let raw: Box<serde_json::value::RawValue> =
        serde_json::from_str(r#"{"k":[1,2]}"#).expect("raw");
    let v = to_value(&raw).expect("to_value");
    assert_eq!(v.get("k"), Some(&Value::from(vec![1, 2])));
}

#[test]
fn type_errors_are_reported() {
    let err = u32::deserialize(&Value::from("x")).expect_err("type mismatch");
    assert!(err.to_string().contains("invalid type"), "{err}");
    let err = <()>::deserialize(&Value::from(1)).expect_err("not unit");
    assert!(err.to_string().contains("invalid type"), "{err}");
    let err = <(u8, u8)>::deserialize(&Value::from(vec![1, 2, 3])).expect_err("length");
    assert!(err.to_string().contains("invalid length"), "{err}");
    let err = to_value(&HashMap::from([((1, 2), 3)])).expect_err("tuple key");
    assert!(err.to_string().contains("key"), "{err}");
}

#[test]
fn accessors_and_conversions() {
    assert_eq!(Value::from(f64::NAN), Value::Null);
    assert_eq!(Value::from(Some("a")).as_str(), Some("a"));
    assert_eq!(Value::from(None::<u8>), Value::Null);
    assert_eq!(Value::from(3u8).as_u64(), Some(3));
    assert_eq!(Value::from(-3).as_i64(), Some(-3));
    assert_eq!(Value::from(true).as_bool(), Some(true));
    let json = serde_json::json!({"a": [1, "b"]});
    let v = Value::from(json);
    assert_eq!(v.get("a").and_then(Value::as_array).map(Vec::len), Some(2));
    assert!(!v.has_binary());
    let nested = Value::from(vec![Value::from(Bytes::from_static(b"x"))]);
    assert!(nested.has_binary());
    assert_eq!(nested.kind(), "array");
}

#[test]
fn binary_never_reads_as_text() {
    let binary = Value::Binary(bytes::Bytes::from_static(b"hi"));
    assert!(String::deserialize(&binary).is_err());
    assert!(from_value::<String>(binary.clone()).is_err());
    assert!(from_value::<char>(Value::Binary(bytes::Bytes::from_static(b"h"))).is_err());
    assert_eq!(from_value::<String>(Value::from("hi")).unwrap(), "hi");
    assert_eq!(
        from_value::<bytes::Bytes>(binary).unwrap(),
        bytes::Bytes::from_static(b"hi")
    );
}
