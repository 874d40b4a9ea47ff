//! permessage-deflate (RFC 7692): raw DEFLATE per message, the `00 00 ff ff` tail removed.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::frame::WsError;
use super::handshake::DeflateOffer;

const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// One connection's compression state.
pub(crate) struct Deflate {
    compress: Compress,
    decompress: Decompress,
    threshold: usize,
    reset_decompress: bool,
}

impl Deflate {
    pub(crate) fn new(offer: DeflateOffer, threshold: usize) -> Deflate {
        Deflate {
            compress: Compress::new(Compression::fast(), false),
            decompress: Decompress::new(false),
            threshold,
            reset_decompress: offer.client_no_context_takeover,
        }
    }

    /// Whether a message of this size is worth compressing.
    pub(crate) fn wants(&self, len: usize) -> bool {
        len >= self.threshold
    }

    /// Compresses one message into `out` (cleared first).
    pub(crate) fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), WsError> {
        out.clear();
        out.reserve(data.len() / 2 + 64);
        let start = self.compress.total_in();
        loop {
            let consumed = (self.compress.total_in() - start) as usize;
            let input = data.get(consumed..).unwrap_or_default();
            self.compress
                .compress_vec(input, out, FlushCompress::Sync)
                .map_err(|_| WsError::Protocol("deflate failed"))?;
            let done = (self.compress.total_in() - start) as usize == data.len();
            if done && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity().max(64));
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        // server_no_context_takeover: every message starts from an empty window.
        self.compress.reset();
        Ok(())
    }

    /// Inflates one message, refusing to produce more than `max` bytes.
    pub(crate) fn decompress(&mut self, data: &[u8], max: usize) -> Result<Vec<u8>, WsError> {
        let mut out = Vec::with_capacity((data.len() * 3).clamp(64, max.max(64)));
        for input in [data, &TAIL[..]] {
            let start = self.decompress.total_in();
            loop {
                let consumed = (self.decompress.total_in() - start) as usize;
                let rest = input.get(consumed..).unwrap_or_default();
                let status = self
                    .decompress
                    .decompress_vec(rest, &mut out, FlushDecompress::Sync)
                    .map_err(|_| WsError::Protocol("invalid deflate data"))?;
                if out.len() > max {
                    return Err(WsError::TooBig);
                }
                let all_in = (self.decompress.total_in() - start) as usize == input.len();
                if (all_in && out.len() < out.capacity()) || status == Status::StreamEnd {
                    break;
                }
                if out.len() == out.capacity() {
                    out.reserve(out.capacity().clamp(64, max + 1));
                } else if !all_in && status == Status::BufError {
                    return Err(WsError::Protocol("invalid deflate data"));
                }
            }
        }
        if self.reset_decompress {
            self.decompress.reset(false);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Deflate, Deflate) {
        let offer = DeflateOffer {
            client_no_context_takeover: false,
        };
        (Deflate::new(offer, 0), Deflate::new(offer, 0))
    }

    #[test]
    fn round_trips_messages() {
        let (mut server, mut client) = pair();
        for message in [
            &b""[..],
            b"hello",
            &[b'x'; 100_000][..],
            "4héllo wörld".as_bytes(),
        ] {
            let mut compressed = Vec::new();
            server.compress(message, &mut compressed).unwrap();
            assert!(!compressed.ends_with(&TAIL));
            let inflated = client.decompress(&compressed, 1 << 20).unwrap();
            assert_eq!(inflated, message);
        }
    }

    #[test]
    fn refuses_bombs_and_garbage() {
        let (mut server, mut client) = pair();
        let mut compressed = Vec::new();
        server.compress(&[0u8; 1_000_000], &mut compressed).unwrap();
        assert!(matches!(
            client.decompress(&compressed, 1000),
            Err(WsError::TooBig)
        ));
        let (_, mut fresh) = pair();
        assert!(fresh.decompress(&[0xFF, 0xFF, 0xFF, 0xFF], 1000).is_err());
    }
}
