//! The identifiers Node's adapters use: `uid2`'s 6 characters for the classic adapter's server
//! and request ids, 8 random bytes in hex for the cluster protocol's.

use rand::Rng;

const UID2_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `uid2(6)`: six characters of `A-Z a-z 0-9 - _`.
pub(crate) fn uid2() -> String {
    let mut rng = rand::rng();
    (0..6)
        .map(|_| char::from(UID2_ALPHABET[usize::from(rng.random::<u8>() % 64)]))
        .collect()
}

/// `randomBytes(8).toString("hex")`: sixteen lower-case hex digits.
pub(crate) fn hex16() -> String {
    format!("{:016x}", rand::rng().random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_node_shapes() {
        let id = uid2();
        assert_eq!(id.len(), 6);
        assert!(id.bytes().all(|b| UID2_ALPHABET.contains(&b)));
        let id = hex16();
        assert_eq!(id.len(), 16);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(uid2(), uid2());
    }
}
