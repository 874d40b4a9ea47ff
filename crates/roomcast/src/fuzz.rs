//! Entry points for the fuzz targets (`fuzz/`, feature `fuzz`): each hands arbitrary bytes to
//! one parser of network input and reads what comes out the way handlers do.

use std::collections::HashMap;

use bytes::Bytes;

use crate::packet::{decode_msgpack, Decoder, Packet, PacketData};
use crate::payload::Args;
use crate::value::{msgpack, Value};

/// Socket.IO packets as a connection receives them: the input is split at `0xff` bytes into
/// messages, each text (first byte `t`, the rest UTF-8) or binary (an attachment), fed to one
/// decoder with at most 10 attachments of 64 KiB in all; every decoded event's arguments are
/// then read.
pub fn packets(data: &[u8]) {
    let mut decoder = Decoder::with_limits(10, 1 << 16);
    for message in data.split(|&byte| byte == 0xff) {
        let decoded = match message.split_first() {
            Some((b't', text)) => match std::str::from_utf8(text) {
                Ok(text) => decoder.decode_text(text),
                Err(_) => continue,
            },
            _ => decoder.decode_binary(Bytes::copy_from_slice(message)),
        };
        if let Ok(Some(packet)) = decoded {
            read_packet(packet);
        }
    }
}

/// A binary message for the msgpack parser, and the MessagePack value codec itself.
pub fn msgpack(data: &[u8]) {
    let _ = msgpack::decode(data);
    if let Ok(packet) = decode_msgpack(data) {
        read_packet(packet);
    }
}

/// JSON event arguments read into the types handlers declare.
pub fn args(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut decoder = Decoder::new();
    if let Ok(Some(packet)) = decoder.decode_text(&format!("2[\"e\",{text}]")) {
        read_packet(packet);
    }
}

fn read_packet(packet: Packet) {
    let args = match packet.data {
        PacketData::Event(event) => event.into_parts().2,
        PacketData::Ack(ack) => ack.into_parts().1,
        PacketData::Connect(Some(auth)) | PacketData::ConnectError(auth) => {
            let _ = auth.to_value();
            return;
        }
        _ => return,
    };
    read_args(&args);
}

fn read_args(args: &Args) {
    let _ = args.to_values();
    let _ = args.deserialize::<Value>();
    let _ = args.deserialize::<(String, u64, Vec<f64>)>();
    let _ = args.deserialize::<HashMap<String, Vec<Option<bool>>>>();
    let _ = args.deserialize::<(Bytes, Value)>();
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Message {
        text: String,
        to: Option<Vec<String>>,
        n: i32,
    }
    let _ = args.deserialize::<Message>();
}
