//! Entry points for the fuzz targets (`fuzz/`, feature `fuzz`): each hands arbitrary bytes to
//! one parser of network input, as the transports would, and must return without panicking,
//! hanging or allocating without bound.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::packet::{decode_owned, decode_payload, decode_text};
use crate::v3;
use crate::ws::conn::{WsIo, WsTransport};
use crate::ws::deflate::Deflate;
use crate::ws::handshake::DeflateOffer;

/// Engine.IO v4 packets: one packet as text, as a WebSocket message, and a polling payload.
pub fn packets(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode_text(text);
        let _ = decode_owned(text.to_owned());
        for packet in decode_payload(text) {
            if packet.is_err() {
                break;
            }
        }
    }
}

/// Engine.IO v3 polling payloads (text and binary) and binary WebSocket packets.
pub fn v3_payloads(data: &[u8]) {
    let _ = v3::decode_binary_payload(data);
    let _ = v3::decode_binary_packet(Bytes::copy_from_slice(data));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = v3::decode_text_payload(text);
    }
}

/// WebSocket frames as a client sends them: parsed, reassembled and, when the first byte is
/// odd, inflated (permessage-deflate; bit 1: the client resets its context per message), up to
/// a 64 KiB message.
pub fn websocket(data: &[u8]) {
    let Some((&flags, frames)) = data.split_first() else {
        return;
    };
    let deflate = (flags & 1 == 1).then(|| {
        Deflate::new(
            DeflateOffer {
                client_no_context_takeover: flags & 2 == 2,
            },
            1024,
        )
    });
    let mut ws = WsTransport::new(Ended, Bytes::copy_from_slice(frames), deflate, 1 << 16);
    // The stream ends after the input: every read completes at once.
    while let Some(Ok(_)) = ws.read().now_or_never() {}
}

/// A stream with nothing more to read, that takes every write.
struct Ended;

impl AsyncRead for Ended {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Ended {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl WsIo for Ended {
    async fn read_some(&mut self, _: &mut BytesMut) -> std::io::Result<usize> {
        Ok(0)
    }

    fn write_now(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
}
