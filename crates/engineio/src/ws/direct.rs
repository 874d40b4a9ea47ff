//! Writing a WebSocket's frames from another task than its connection's.
//!
//! [`Direct`] is the connection's stream as the session's state holds it, used under the
//! session's lock (so writes never interleave) while the connection task is not writing (the
//! state's `direct_idle`): see [`crate::deferred`] for when.

use std::cell::RefCell;
use std::sync::Arc;

use tokio::net::TcpStream;

use super::frame::{self, OP_BINARY, OP_TEXT};
use crate::packet::Frame;

thread_local! {
    /// Where frames are encoded before a direct write (one per thread, reused).
    static ENCODED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// An encode buffer that grew past this for a large frame is released after the write.
const KEEP_ENCODED_CAPACITY: usize = 16 * 1024;

/// The stream of a session's WebSocket, as the session's state holds it.
pub(crate) struct Direct {
    stream: Arc<TcpStream>,
    /// The end of what a direct write could only partly write; it goes out before anything else.
    unsent: Vec<u8>,
}

/// What became of a direct write.
pub(crate) enum Written {
    /// Everything was written.
    All,
    /// Part was written and the rest kept in [`Direct`]: the connection task must be woken to
    /// write it.
    Partly,
    /// Nothing was written (the socket is full, or failed): the connection task must write the
    /// frames.
    Nothing,
}

impl Direct {
    pub(crate) fn new(stream: Arc<TcpStream>) -> Direct {
        Direct {
            stream,
            unsent: Vec::new(),
        }
    }

    /// Writes `frames` as WebSocket messages now. Only while the connection task is not writing.
    pub(crate) fn write<'a>(&mut self, frames: impl IntoIterator<Item = &'a Frame>) -> Written {
        ENCODED.with(|encoded| {
            let mut encoded = encoded.borrow_mut();
            encoded.clear();
            for frame in frames {
                let opcode = if frame.is_binary() {
                    OP_BINARY
                } else {
                    OP_TEXT
                };
                frame::write(&mut encoded, opcode, false, frame.as_bytes());
            }
            let written = match self.stream.try_write(&encoded) {
                Ok(n) if n == encoded.len() => Written::All,
                Ok(n) if n > 0 => {
                    self.unsent.extend_from_slice(&encoded[n..]);
                    Written::Partly
                }
                // The socket is full, or failed: the connection task meets the error on its
                // next read or write.
                _ => Written::Nothing,
            };
            if encoded.capacity() > KEEP_ENCODED_CAPACITY {
                *encoded = Vec::new();
            }
            written
        })
    }

    /// What a write left unwritten, to go out before anything else.
    pub(crate) fn take_unsent(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.unsent)
    }
}
