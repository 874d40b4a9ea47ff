//! Session ids: 120 random bits as 20 URL-safe characters, the shape of Node's ids.

use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;

const LEN: usize = 20;

/// An unguessable session id (120 random bits, base64url).
///
/// ```
/// use roomcast_engineio::Sid;
///
/// let sid = Sid::new();
/// assert_eq!(sid.as_str().len(), 20);
/// assert_eq!(Sid::parse(sid.as_str()), Some(sid));
/// assert_eq!(Sid::parse("not a sid"), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sid([u8; LEN]);

/// Ids are random: their first eight characters (48 random bits) are as good a hash as any.
impl Hash for Sid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(word));
    }
}

/// A fast hasher for keys the server generates itself (session and socket ids, ack ids), where
/// no client can choose colliding keys: one multiply per word instead of SipHash.
///
/// ```
/// use std::collections::HashMap;
/// use roomcast_engineio::{IdHasher, Sid};
///
/// let mut sockets: HashMap<Sid, &str, IdHasher> = HashMap::default();
/// let id = Sid::new();
/// sockets.insert(id, "socket");
/// assert_eq!(sockets.get(&id), Some(&"socket"));
/// ```
pub type IdHasher = BuildHasherDefault<IdHash>;

/// The hasher of [`IdHasher`].
#[derive(Debug, Clone, Copy, Default)]
pub struct IdHash(u64);

impl IdHash {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for IdHash {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.add(word);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Sid {
    /// A fresh random id.
    pub fn new() -> Sid {
        let mut random = [0u8; 15];
        rand::rng().fill_bytes(&mut random);
        let mut id = [0u8; LEN];
        // 15 bytes always encode to exactly 20 characters.
        let _ = URL_SAFE_NO_PAD.encode_slice(random, &mut id);
        Sid(id)
    }

    /// Reads an id sent back by a client; `None` when it cannot be one of ours.
    pub fn parse(text: &str) -> Option<Sid> {
        let bytes: [u8; LEN] = text.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            .then_some(Sid(bytes))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored (see `new` and `parse`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Default for Sid {
    fn default() -> Self {
        Sid::new()
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sid serializes as its text, as a room name does: `json!({ "from": socket.id() })` is
/// `{"from": "…"}`.
impl serde::Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_url_safe() {
        let ids: std::collections::HashSet<Sid> = (0..1000).map(|_| Sid::new()).collect();
        assert_eq!(ids.len(), 1000);
        for id in ids {
            assert_eq!(Sid::parse(id.as_str()), Some(id));
        }
    }

    #[test]
    fn rejects_foreign_ids() {
        for text in [
            "",
            "short",
            "aaaaaaaaaaaaaaaaaaaaa/",
            "aaaaaaaaaaaaaaaaaaaaaaa",
            "ééééééééééé",
        ] {
            assert_eq!(Sid::parse(text), None, "{text:?}");
        }
    }
}
