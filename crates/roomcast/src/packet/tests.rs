use bytes::Bytes;

use super::*;
use crate::payload::Args;
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};

fn b(bytes: &'static [u8]) -> Bytes {
    Bytes::from_static(bytes)
}

/// Feeds a text message and its attachments to a fresh decoder.
fn decode_all(text: &str, attachments: &[Bytes]) -> Result<Packet, DecodeError> {
    let mut decoder = Decoder::new();
    let mut out = decoder.decode_text(text)?;
    for a in attachments {
        assert!(out.is_none(), "packet complete before its attachments");
        out = decoder.decode_binary(a.clone())?;
    }
    assert_eq!(decoder.pending_attachments(), 0);
    Ok(out.expect("packet complete after its attachments"))
}

fn render(v: &Value) -> String {
    match v {
        Value::Binary(b) => format!(
            "<{}>",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
        Value::Array(a) => format!("[{}]", a.iter().map(render).collect::<Vec<_>>().join(",")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k:?}:{}", render(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => serde_json::to_string(other).expect("json"),
    }
}

/// A one-line description of a packet, to compare against the tables.
fn summary(p: &Packet) -> String {
    let args = |a: &Args| render(&Value::Array(a.to_values().expect("values")));
    let body = match &p.data {
        PacketData::Connect(None) => "CONNECT".to_owned(),
        PacketData::Connect(Some(auth)) => format!("CONNECT {}", auth.get()),
        PacketData::Disconnect => "DISCONNECT".to_owned(),
        PacketData::Event(e) => {
            format!("EVENT {} ack={:?} {}", e.name(), e.ack_id(), args(e.args()))
        }
        PacketData::Ack(a) => format!("ACK {} {}", a.id(), args(a.args())),
        PacketData::ConnectError(raw) => format!("CONNECT_ERROR {}", raw.get()),
        PacketData::Empty(ty) => format!("EMPTY {ty}"),
    };
    format!("{} {body}", p.nsp)
}

struct Example {
    wire: &'static str,
    attachments: Vec<Bytes>,
    summary: &'static str,
    packet_type: PacketType,
    /// The same packet built with the typed encoders.
    typed: Result<EncodedPacket, EncodeError>,
}

fn protocol_examples() -> Vec<Example> {
    let bin = b(&[1, 2, 3, 4]);
    vec![
        Example {
            wire: "0",
            attachments: vec![],
            summary: "/ CONNECT",
            packet_type: PacketType::Connect,
            typed: Err(EncodeError::InvalidNamespace("no typed encoder".into())),
        },
        Example {
            wire: r#"0/admin,{"token":"123"}"#,
            attachments: vec![],
            summary: r#"/admin CONNECT {"token":"123"}"#,
            packet_type: PacketType::Connect,
            typed: Err(EncodeError::InvalidNamespace("no typed encoder".into())),
        },
        Example {
            wire: r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
            attachments: vec![],
            summary: r#"/ CONNECT {"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
            packet_type: PacketType::Connect,
            typed: encode_connect("/", "wZX3oN0bSVIhsaknAAAI", None),
        },
        Example {
            wire: r#"0/admin,{"sid":"s","pid":"p"}"#,
            attachments: vec![],
            summary: r#"/admin CONNECT {"sid":"s","pid":"p"}"#,
            packet_type: PacketType::Connect,
            typed: encode_connect("/admin", "s", Some("p")),
        },
        Example {
            wire: r#"2["foo"]"#,
            attachments: vec![],
            summary: "/ EVENT foo ack=None []",
            packet_type: PacketType::Event,
            typed: encode_event("/", "foo", &(), None),
        },
        Example {
            wire: r#"2/admin,["bar"]"#,
            attachments: vec![],
            summary: "/admin EVENT bar ack=None []",
            packet_type: PacketType::Event,
            typed: encode_event("/admin", "bar", &(), None),
        },
        Example {
            wire: r#"212["foo"]"#,
            attachments: vec![],
            summary: "/ EVENT foo ack=Some(12) []",
            packet_type: PacketType::Event,
            typed: encode_event("", "foo", &(), Some(12)),
        },
        Example {
            wire: r#"2/chat,12["ev",1,"two",{"x":null}]"#,
            attachments: vec![],
            summary: r#"/chat EVENT ev ack=Some(12) [1,"two",{"x":null}]"#,
            packet_type: PacketType::Event,
            typed: encode_event(
                "/chat",
                "ev",
                &(1, "two", BTreeMap::from([("x", ())])),
                Some(12),
            ),
        },
        Example {
            wire: r#"3/admin,13["bar"]"#,
            attachments: vec![],
            summary: r#"/admin ACK 13 ["bar"]"#,
            packet_type: PacketType::Ack,
            typed: encode_ack("/admin", 13, &"bar"),
        },
        Example {
            wire: "30[]",
            attachments: vec![],
            summary: "/ ACK 0 []",
            packet_type: PacketType::Ack,
            typed: encode_ack("/", 0, &()),
        },
        Example {
            wire: "1/admin,",
            attachments: vec![],
            summary: "/admin DISCONNECT",
            packet_type: PacketType::Disconnect,
            typed: encode_disconnect("/admin"),
        },
        Example {
            wire: "1",
            attachments: vec![],
            summary: "/ DISCONNECT",
            packet_type: PacketType::Disconnect,
            typed: encode_disconnect("/"),
        },
        Example {
            wire: r#"4{"message":"Not authorized"}"#,
            attachments: vec![],
            summary: r#"/ CONNECT_ERROR {"message":"Not authorized"}"#,
            packet_type: PacketType::ConnectError,
            typed: encode_connect_error("/", "Not authorized", None::<&()>),
        },
        Example {
            wire: r#"4/admin,{"message":"m","data":{"code":7}}"#,
            attachments: vec![],
            summary: r#"/admin CONNECT_ERROR {"message":"m","data":{"code":7}}"#,
            packet_type: PacketType::ConnectError,
            typed: encode_connect_error("/admin", "m", Some(&BTreeMap::from([("code", 7)]))),
        },
        Example {
            wire: r#"51-["baz",{"_placeholder":true,"num":0}]"#,
            attachments: vec![bin.clone()],
            summary: "/ EVENT baz ack=None [<01020304>]",
            packet_type: PacketType::BinaryEvent,
            typed: encode_event("/", "baz", &bin, None),
        },
        Example {
            wire: r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            attachments: vec![b(b"a"), b(b"b")],
            summary: "/admin EVENT baz ack=None [<61>,<62>]",
            packet_type: PacketType::BinaryEvent,
            typed: encode_event("/admin", "baz", &(b(b"a"), b(b"b")), None),
        },
        Example {
            wire: r#"52-/admin,7["up",{"file":{"_placeholder":true,"num":0},"parts":[1,{"_placeholder":true,"num":1}]}]"#,
            attachments: vec![b(b"a"), b(b"b")],
            summary: r#"/admin EVENT up ack=Some(7) [{"file":<61>,"parts":[1,<62>]}]"#,
            packet_type: PacketType::BinaryEvent,
            typed: encode_event(
                "/admin",
                "up",
                &BTreeMap::from([
                    ("file", Value::Binary(b(b"a"))),
                    (
                        "parts",
                        Value::Array(vec![1.into(), Value::Binary(b(b"b"))]),
                    ),
                ]),
                Some(7),
            ),
        },
        Example {
            wire: r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
            attachments: vec![bin.clone()],
            summary: r#"/ ACK 15 ["bar",<01020304>]"#,
            packet_type: PacketType::BinaryAck,
            typed: encode_ack("/", 15, &("bar", &bin)),
        },
    ]
}

#[test]
fn protocol_examples_decode() {
    for ex in protocol_examples() {
        let packet =
            decode_all(ex.wire, &ex.attachments).unwrap_or_else(|e| panic!("{}: {e}", ex.wire));
        assert_eq!(summary(&packet), ex.summary, "{}", ex.wire);
        assert_eq!(packet.packet_type(), ex.packet_type, "{}", ex.wire);
    }
}

#[test]
fn protocol_examples_encode() {
    for ex in protocol_examples() {
        let want = format!("4{}", ex.wire);
        let packet = decode_all(ex.wire, &ex.attachments).expect("decode");
        let again = packet.encode().expect("re-encode");
        assert_eq!(again.as_str(), want);
        assert_eq!(again.attachments, ex.attachments, "{}", ex.wire);
        match ex.typed {
            Ok(typed) => {
                assert_eq!(typed.as_str(), want);
                assert_eq!(typed.attachments, ex.attachments, "{}", ex.wire);
            }
            Err(EncodeError::InvalidNamespace(reason)) => {
                assert_eq!(reason, "no typed encoder")
            }
            Err(e) => panic!("{}: {e}", ex.wire),
        }
    }
}

#[test]
fn tuple_spreading_on_the_wire() {
    let cases: Vec<(EncodedPacket, &str)> = vec![
        (
            encode_event("/", "e", &("a", 1), None).expect("tuple"),
            r#"42["e","a",1]"#,
        ),
        (
            encode_event("/", "e", &vec![1, 2], None).expect("vec"),
            r#"42["e",[1,2]]"#,
        ),
        (
            encode_event("/", "e", &(), None).expect("unit"),
            r#"42["e"]"#,
        ),
        (
            encode_event("/", "e", &((1, 2),), None).expect("nested"),
            r#"42["e",[1,2]]"#,
        ),
        (
            encode_event("/", "e", &Some(1), None).expect("some"),
            r#"42["e",1]"#,
        ),
        (
            encode_ack("/", 3, &("a", 1)).expect("ack tuple"),
            r#"433["a",1]"#,
        ),
        (
            encode_ack("/", 3, &vec!["a"]).expect("ack vec"),
            r#"433[["a"]]"#,
        ),
        (
            encode_event("/", "é\n", &"ü", None).expect("escaping"),
            r#"42["é\n","ü"]"#,
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got.as_str(), want);
        assert!(got.attachments.is_empty());
    }
}

#[test]
fn nested_placeholders_roundtrip() {
    let tree = Value::Array(vec![
        [
            ("a", Value::Binary(b(b"1"))),
            ("b", Value::from(vec![Value::Binary(b(b"2"))])),
        ]
        .into_iter()
        .collect(),
        Value::Array(vec![Value::Array(vec![Value::Binary(b(b"3"))])]),
        Value::from("plain"),
    ]);
    let encoded = encode_event("/n", "deep", &tree, Some(5)).expect("encode");
    assert_eq!(
        encoded.as_str(),
        concat!(
            r#"453-/n,5["deep",[{"a":{"_placeholder":true,"num":0},"#,
            r#""b":[{"_placeholder":true,"num":1}]},"#,
            r#"[[{"_placeholder":true,"num":2}]],"plain"]]"#
        )
    );
    assert_eq!(encoded.attachments, vec![b(b"1"), b(b"2"), b(b"3")]);
    let text = encoded.as_str().strip_prefix('4').expect("prefix");
    let packet = decode_all(text, &encoded.attachments).expect("decode");
    let PacketData::Event(event) = &packet.data else {
        panic!("not an event")
    };
    assert_eq!(event.ack_id(), Some(5));
    let value: Value = event.args().deserialize().expect("first arg");
    assert_eq!(value, tree);

    // A placeholder may be referenced twice, and objects that only look
    // like placeholders are left alone.
    let wire = r#"51-["e",{"x":{"_placeholder":true,"num":0},"y":[{"_placeholder":true,"num":0}],"z":{"_placeholder":false,"num":9}}]"#;
    let packet = decode_all(wire, &[b(b"!")]).expect("decode");
    assert_eq!(
        summary(&packet),
        r#"/ EVENT e ack=None [{"x":<21>,"y":[<21>],"z":{"_placeholder":false,"num":9}}]"#
    );
}

#[test]
fn typed_arguments_from_packets() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Upload {
        name: String,
        data: Bytes,
    }
    let packet = decode_all(
        r#"51-["upload",{"name":"n","data":{"_placeholder":true,"num":0}},3]"#,
        &[b(b"xyz")],
    )
    .expect("decode");
    let PacketData::Event(event) = packet.data else {
        panic!("not an event")
    };
    let (upload, n): (Upload, u8) = event.args().deserialize().expect("typed");
    assert_eq!(upload.data, b(b"xyz"));
    assert_eq!(n, 3);
    let err = event
        .args()
        .deserialize::<(Upload, String)>()
        .expect_err("n is a number");
    assert_eq!(err.received(), "2 arguments (object, number)");
}

#[test]
fn encode_errors() {
    assert!(matches!(
        encode_event("admin", "e", &(), None),
        Err(EncodeError::InvalidNamespace(n)) if n == "admin"
    ));
    assert!(matches!(
        encode_disconnect("/a,b"),
        Err(EncodeError::InvalidNamespace(_))
    ));
    for name in RESERVED_EVENTS {
        assert!(matches!(
            encode_event("/", name, &(), None),
            Err(EncodeError::ReservedEvent(n)) if n == name
        ));
    }
    let bad_keys = HashMap::from([((1, 2), 3)]);
    assert!(matches!(
        encode_event("/", "e", &bad_keys, None),
        Err(EncodeError::Serialize(_))
    ));
}

type ErrorCheck = fn(&DecodeError) -> bool;

macro_rules! bad {
    ($input:expr, $pattern:pat) => {
        ($input, (|e| matches!(e, $pattern)) as ErrorCheck)
    };
}

#[test]
fn malformed_text_table() {
    let huge = "9".repeat(400);
    let huge_attachments = format!("5{huge}-[\"a\"]");
    let huge_id = format!("2{huge}[\"a\"]");
    let huge_id_after_nsp = format!("3/a,{huge}[]");
    let cases: Vec<(&str, ErrorCheck)> = vec![
        bad!("", DecodeError::Empty),
        bad!("9", DecodeError::UnknownType('9')),
        bad!("7[\"a\"]", DecodeError::UnknownType('7')),
        bad!("x", DecodeError::UnknownType('x')),
        bad!("é", DecodeError::UnknownType('é')),
        bad!("[\"a\"]", DecodeError::UnknownType('[')),
        bad!("5", DecodeError::UnterminatedAttachments),
        bad!("51", DecodeError::UnterminatedAttachments),
        bad!("5[\"a\"]", DecodeError::InvalidAttachments),
        bad!("5abc-[]", DecodeError::InvalidAttachments),
        bad!("5-[\"a\"]", DecodeError::InvalidAttachments),
        bad!("50-[\"a\"]", DecodeError::InvalidAttachments),
        bad!("51.5-[\"a\"]", DecodeError::InvalidAttachments),
        bad!("5 1-[\"a\"]", DecodeError::InvalidAttachments),
        bad!("511-[\"a\"]", DecodeError::TooManyAttachments { max: 10 }),
        bad!(
            "618446744073709551616-1[]",
            DecodeError::TooManyAttachments { .. }
        ),
        bad!(&huge_attachments, DecodeError::TooManyAttachments { .. }),
        bad!("2/admin[\"foo\",1]", DecodeError::InvalidJson(_)),
        bad!(
            "2/admin,\"foo\"",
            DecodeError::InvalidPayload {
                packet_type: PacketType::Event,
                got: "string",
                ..
            }
        ),
        bad!("2/admin,x", DecodeError::InvalidJson(_)),
        bad!("2,[\"a\"]", DecodeError::InvalidJson(_)),
        bad!("2[", DecodeError::InvalidJson(_)),
        bad!("2[\"a\"", DecodeError::InvalidJson(_)),
        bad!("2[\"a\",]", DecodeError::InvalidJson(_)),
        bad!("2[\"a\"]x", DecodeError::InvalidJson(_)),
        bad!("2[\"a\\x\"]", DecodeError::InvalidJson(_)),
        bad!("2[\"a\",01]", DecodeError::InvalidJson(_)),
        bad!("2[]", DecodeError::EmptyEvent),
        bad!("2 [ ]", DecodeError::EmptyEvent),
        bad!("2[\"connect\"]", DecodeError::ReservedEvent(_)),
        bad!("2[\"connect_error\",1]", DecodeError::ReservedEvent(_)),
        bad!("2[\"disconnect\"]", DecodeError::ReservedEvent(_)),
        bad!("2[\"disconnecting\"]", DecodeError::ReservedEvent(_)),
        bad!("2[\"newListener\"]", DecodeError::ReservedEvent(_)),
        bad!("2[\"removeListener\"]", DecodeError::ReservedEvent(_)),
        bad!("2[\"\\u0064isconnect\"]", DecodeError::ReservedEvent(_)),
        bad!(
            "2{\"a\":1}",
            DecodeError::InvalidPayload { got: "object", .. }
        ),
        bad!("2\"ev\"", DecodeError::InvalidPayload { got: "string", .. }),
        bad!("2[{}]", DecodeError::InvalidEventName("object")),
        bad!("2[null]", DecodeError::InvalidEventName("null")),
        bad!("2[true]", DecodeError::InvalidEventName("boolean")),
        bad!("2[[\"a\"]]", DecodeError::InvalidEventName("array")),
        bad!(&huge_id, DecodeError::AckIdOverflow),
        bad!("218446744073709551616[\"a\"]", DecodeError::AckIdOverflow),
        bad!(&huge_id_after_nsp, DecodeError::AckIdOverflow),
        bad!(
            "31{}",
            DecodeError::InvalidPayload {
                packet_type: PacketType::Ack,
                ..
            }
        ),
        bad!("31[", DecodeError::InvalidJson(_)),
        bad!(
            "1{}",
            DecodeError::UnexpectedPayload(PacketType::Disconnect)
        ),
        bad!(
            "1/admin,x",
            DecodeError::UnexpectedPayload(PacketType::Disconnect)
        ),
        bad!("11", DecodeError::UnexpectedAckId(PacketType::Disconnect)),
        bad!(
            "0[]",
            DecodeError::InvalidPayload {
                packet_type: PacketType::Connect,
                got: "array",
                ..
            }
        ),
        bad!(
            "0\"token\"",
            DecodeError::InvalidPayload {
                packet_type: PacketType::Connect,
                ..
            }
        ),
        bad!("0null", DecodeError::InvalidPayload { got: "null", .. }),
        bad!("0{", DecodeError::InvalidJson(_)),
        bad!("0/admin,{\"a\":1}}", DecodeError::InvalidJson(_)),
        bad!("01{}", DecodeError::UnexpectedAckId(PacketType::Connect)),
        bad!("4", DecodeError::MissingPayload(PacketType::ConnectError)),
        bad!(
            "4[1]",
            DecodeError::InvalidPayload {
                packet_type: PacketType::ConnectError,
                ..
            }
        ),
        bad!(
            "41\"x\"",
            DecodeError::UnexpectedAckId(PacketType::ConnectError)
        ),
        bad!("51-", DecodeError::MissingPayload(PacketType::BinaryEvent)),
        bad!(
            "51-{}",
            DecodeError::InvalidPayload {
                packet_type: PacketType::BinaryEvent,
                ..
            }
        ),
        bad!("51-[]", DecodeError::EmptyEvent),
        bad!(
            "51-[{\"_placeholder\":true,\"num\":0}]",
            DecodeError::InvalidEventName("object")
        ),
        bad!(
            "51-[\"connect\",{\"_placeholder\":true,\"num\":0}]",
            DecodeError::ReservedEvent(_)
        ),
        bad!("51-[\"a\",", DecodeError::InvalidJson(_)),
        bad!(
            "61-[\"a\"]",
            DecodeError::MissingAckId(PacketType::BinaryAck)
        ),
        bad!(
            "61-1{}",
            DecodeError::InvalidPayload {
                packet_type: PacketType::BinaryAck,
                ..
            }
        ),
        bad!(
            "51-[\"a\",{\"_placeholder\":true,\"num\":1}]",
            DecodeError::PlaceholderOutOfRange {
                num: 1,
                attachments: 1
            }
        ),
        bad!(
            "52-[\"a\",[{\"k\":{\"_placeholder\":true,\"num\":2}}]]",
            DecodeError::PlaceholderOutOfRange {
                num: 2,
                attachments: 2
            }
        ),
        bad!(
            "51-[\"a\",{\"_placeholder\":true,\"num\":-1}]",
            DecodeError::InvalidPlaceholder
        ),
        bad!(
            "51-[\"a\",{\"_placeholder\":true,\"num\":0.5}]",
            DecodeError::InvalidPlaceholder
        ),
        bad!(
            "51-[\"a\",{\"_placeholder\":true,\"num\":\"0\"}]",
            DecodeError::InvalidPlaceholder
        ),
        bad!(
            "51-[\"a\",{\"_placeholder\":true}]",
            DecodeError::InvalidPlaceholder
        ),
        bad!(
            "51-[\"a\",{\"_placeholder\":true,\"num\":1e300}]",
            DecodeError::PlaceholderOutOfRange { .. } | DecodeError::InvalidPlaceholder
        ),
        bad!(
            "51-[\"a\",{\"_placeholder\":true,\"num\":18446744073709551616}]",
            DecodeError::PlaceholderOutOfRange { .. } | DecodeError::InvalidPlaceholder
        ),
    ];
    for (input, check) in cases {
        let mut decoder = Decoder::new();
        match decoder.decode_text(input) {
            Err(e) => {
                assert!(check(&e), "{input:?}: unexpected error {e:?}");
                assert!(!e.to_string().is_empty());
            }
            Ok(p) => panic!("{input:?} decoded as {p:?}"),
        }
        assert_eq!(decoder.pending_attachments(), 0, "{input:?}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("51-[\"a\",{}1{}]", "[".repeat(1000), "]".repeat(1000));
    assert!(matches!(
        Decoder::new().decode_text(&deep),
        Err(DecodeError::InvalidJson(_))
    ));
    let deep = format!("2[\"a\",{}1{}]", "[".repeat(1000), "]".repeat(1000));
    if let Ok(Some(Packet {
        data: PacketData::Event(event),
        ..
    })) = Decoder::new().decode_text(&deep)
    {
        assert!(event.args().deserialize::<Value>().is_err());
    }
}

#[test]
fn attachment_limit_is_configurable() {
    let mut decoder = Decoder::with_max_attachments(2);
    assert!(matches!(
        decoder.decode_text("53-[\"a\"]"),
        Err(DecodeError::TooManyAttachments { max: 2 })
    ));
    assert!(decoder
        .decode_text("52-[\"a\"]")
        .expect("2 allowed")
        .is_none());
    assert_eq!(decoder.pending_attachments(), 2);
    let mut decoder = Decoder::with_max_attachments(usize::MAX);
    assert!(decoder
        .decode_text("5999999999-[\"a\"]")
        .expect("allowed")
        .is_none());
    assert_eq!(decoder.pending_attachments(), 999_999_999);
}

#[test]
fn decoder_state_machine() {
    let header = r#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;

    // Binary with nothing pending.
    let mut decoder = Decoder::new();
    assert!(matches!(
        decoder.decode_binary(b(b"x")),
        Err(DecodeError::UnexpectedBinary)
    ));

    // Text while attachments are pending, then the state is reset.
    assert!(decoder.decode_text(header).expect("header").is_none());
    assert!(decoder.decode_binary(b(b"1")).expect("first").is_none());
    assert_eq!(decoder.pending_attachments(), 1);
    assert!(matches!(
        decoder.decode_text(r#"2["b"]"#),
        Err(DecodeError::UnexpectedText { pending: 1 })
    ));
    assert_eq!(decoder.pending_attachments(), 0);
    assert!(matches!(
        decoder.decode_binary(b(b"2")),
        Err(DecodeError::UnexpectedBinary)
    ));

    // A complete packet, then one attachment too many.
    assert!(decoder.decode_text(header).expect("header").is_none());
    assert!(decoder.decode_binary(b(b"1")).expect("first").is_none());
    let packet = decoder
        .decode_binary(b(b"2"))
        .expect("second")
        .expect("complete");
    assert_eq!(summary(&packet), "/ EVENT a ack=None [<31>,<32>]");
    assert!(matches!(
        decoder.decode_binary(b(b"3")),
        Err(DecodeError::UnexpectedBinary)
    ));

    // Plain packets keep flowing, and reset() drops a partial packet.
    assert!(decoder.decode_text(r#"2["b"]"#).expect("plain").is_some());
    assert!(decoder.decode_text(header).expect("header").is_none());
    decoder.reset();
    assert!(decoder
        .decode_text(r#"2["b"]"#)
        .expect("after reset")
        .is_some());
}

#[test]
fn accepted_edge_cases() {
    let cases: Vec<(&str, &str)> = vec![
        ("1/admin", "/admin DISCONNECT"),
        ("0/admin", "/admin CONNECT"),
        ("0/admin,", "/admin CONNECT"),
        ("0 {} ", "/ CONNECT {}"),
        ("2/,[\"a\"]", "/ EVENT a ack=None []"),
        ("2012[\"a\"]", "/ EVENT a ack=Some(12) []"),
        ("2[1,2]", "/ EVENT 1 ack=None [2]"),
        ("2[-1.5]", "/ EVENT -1.5 ack=None []"),
        ("2[\"a\\\"b\"]", "/ EVENT a\"b ack=None []"),
        ("2/ü,[\"é\",\"ß\"]", "/ü EVENT é ack=None [\"ß\"]"),
        ("2/a/b,1[\"x\"]", "/a/b EVENT x ack=Some(1) []"),
        ("2 [ \"a\" , 1 ]", "/ EVENT a ack=None [1]"),
        ("318446744073709551615[]", "/ ACK 18446744073709551615 []"),
        ("4\"oops\"", "/ CONNECT_ERROR \"oops\""),
        ("51-[1,{\"_placeholder\":true,\"num\":0}]", "PENDING"),
        ("501-[\"a\"]", "PENDING"),
    ];
    for (input, want) in cases {
        let got = Decoder::new()
            .decode_text(input)
            .unwrap_or_else(|e| panic!("{input:?}: {e}"));
        match got {
            Some(p) => {
                assert_eq!(summary(&p), want, "{input:?}");
                let again = p.encode().expect("re-encode");
                let text = again.as_str().strip_prefix('4').expect("prefix");
                let p2 = decode_all(text, &again.attachments).expect("decode again");
                assert_eq!(p2, p, "{input:?}");
            }
            None => assert_eq!(want, "PENDING", "{input:?}"),
        }
    }
}

/// xorshift64*: deterministic pseudo-random numbers for the garbage tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const ALPHABET: &[u8] = b"0123456789-/,[]{}\":_placeholdernum truefalse\\.eE+ab";

fn garbage(rng: &mut Rng) -> String {
    let len = rng.below(40);
    let bytes: Vec<u8> = (0..len)
        .map(|_| match rng.below(10) {
            0 => (rng.next() & 0xff) as u8,
            _ => ALPHABET[rng.below(ALPHABET.len())],
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(3) {
            0 if at < bytes.len() => {
                bytes.remove(at);
            }
            1 if at < bytes.len() => bytes[at] = ALPHABET[rng.below(ALPHABET.len())],
            _ => bytes.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whatever the input, the decoder returns a value or an error; every
/// packet it accepts encodes again and decodes to the same packet.
#[test]
fn garbage_never_panics() {
    let seeds: Vec<&str> = protocol_examples().iter().map(|e| e.wire).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut accepted, mut accepted_binary) = (0, 0);
    for round in 0..30_000 {
        let input = if round % 2 == 0 {
            garbage(&mut rng)
        } else {
            let seed = seeds[rng.below(seeds.len())];
            mutate(&mut rng, seed)
        };
        let mut decoder = Decoder::with_max_attachments(3);
        let mut attachments = Vec::new();
        let mut result = decoder.decode_text(&input);
        while let Ok(None) = result {
            if decoder.pending_attachments() == 0 || rng.below(20) == 0 {
                result = decoder.decode_text(&input);
                break;
            }
            let bin = Bytes::from(garbage(&mut rng).into_bytes());
            attachments.push(bin.clone());
            result = decoder.decode_binary(bin);
        }
        if let Ok(Some(packet)) = result {
            accepted += 1;
            if packet.packet_type().is_binary() {
                accepted_binary += 1;
            }
            if let PacketData::Event(e) = &packet.data {
                let _ = e.args().deserialize::<(Value, String, Option<u8>)>();
                let _ = e.args().to_values();
            }
            let encoded = packet
                .encode()
                .unwrap_or_else(|e| panic!("{input:?}: re-encode failed: {e}"));
            let text = encoded.as_str().strip_prefix('4').expect("prefix");
            let again = decode_all(text, &encoded.attachments)
                .unwrap_or_else(|e| panic!("{input:?}: re-decode failed: {e}"));
            assert_eq!(again, packet, "{input:?}");
        }
    }
    assert!(accepted > 100, "only {accepted} inputs accepted");
    assert!(
        accepted_binary > 10,
        "only {accepted_binary} binary packets accepted"
    );
}

#[test]
fn accepts_the_empty_packets_node_accepts() {
    let cases: &[(&str, &str, PacketType)] = &[
        ("2", "/", PacketType::Event),
        ("2/admin", "/admin", PacketType::Event),
        ("2/admin,", "/admin", PacketType::Event),
        ("2/admin,1", "/admin", PacketType::Event),
        ("2/admin[\"foo\"]", "/admin[\"foo\"]", PacketType::Event),
        ("3[\"a\"]", "/", PacketType::Ack),
        ("3/admin,[]", "/admin", PacketType::Ack),
    ];
    for (input, nsp, ty) in cases {
        let packet = Decoder::new().decode_text(input).unwrap().unwrap();
        assert_eq!(packet.nsp, *nsp, "{input}");
        assert_eq!(packet.data, PacketData::Empty(*ty), "{input}");
    }
    let packet = Decoder::new().decode_text("31").unwrap().unwrap();
    let PacketData::Ack(ack) = packet.data else {
        panic!("not an ack");
    };
    assert_eq!(ack.id(), 1);
    assert!(ack.args().is_empty());
}
