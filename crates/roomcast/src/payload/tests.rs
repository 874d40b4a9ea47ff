use bytes::{Bytes, BytesMut};
use serde::Serialize;

use super::*;
use crate::value::Value;
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
