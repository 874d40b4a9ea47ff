//! The WebSocket opening handshake (RFC 6455 §4.2) and the permessage-deflate offer (RFC 7692).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::header::{self, HeaderMap, HeaderValue};
use http::Request;
use sha1::{Digest, Sha1};

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Whether the request asks to switch to WebSocket (`Upgrade: websocket`).
pub(crate) fn is_upgrade<B>(req: &Request<B>) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// The `Sec-WebSocket-Accept` answer to a valid handshake, `None` when the request is not one
/// (not GET, no `Connection: upgrade`, version other than 13, no key).
pub(crate) fn accept_key<B>(req: &Request<B>) -> Option<HeaderValue> {
    let headers = req.headers();
    let connection_upgrade = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    let version_ok = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        == Some(b"13");
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    if req.method() != http::Method::GET || !connection_upgrade || !version_ok {
        return None;
    }
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID);
    HeaderValue::from_str(&BASE64.encode(sha.finalize())).ok()
}

/// The permessage-deflate parameters agreed with a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeflateOffer {
    /// The client resets its compressor after each message.
    pub(crate) client_no_context_takeover: bool,
}

impl DeflateOffer {
    /// The extension answer: the server always resets its own compressor after each message,
    /// so an idle connection keeps no compression window.
    pub(crate) fn response(&self) -> HeaderValue {
        HeaderValue::from_static(if self.client_no_context_takeover {
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        } else {
            "permessage-deflate; server_no_context_takeover"
        })
    }
}

/// Picks the first permessage-deflate offer this server can honour. Offers asking for a server
/// window smaller than 15 bits are declined (the compressor always uses 15).
pub(crate) fn negotiate_deflate(headers: &HeaderMap) -> Option<DeflateOffer> {
    headers
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|offer| {
            let mut params = offer.split(';').map(str::trim);
            if params.next() != Some("permessage-deflate") {
                return None;
            }
            let mut agreed = DeflateOffer {
                client_no_context_takeover: false,
            };
            for param in params {
                let (name, value) = match param.split_once('=') {
                    Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
                    None => (param, None),
                };
                match (name, value) {
                    ("server_no_context_takeover", None) => {}
                    ("client_no_context_takeover", None) => {
                        agreed.client_no_context_takeover = true
                    }
                    ("client_max_window_bits", _) => {}
                    ("server_max_window_bits", Some("15")) => {}
                    _ => return None,
                }
            }
            Some(agreed)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake(extra: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder()
            .method("GET")
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn computes_the_rfc_example_key() {
        let req = handshake(&[]);
        assert!(is_upgrade(&req));
        assert_eq!(accept_key(&req).unwrap(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn refuses_incomplete_handshakes() {
        let mut req = handshake(&[]);
        req.headers_mut()
            .insert("sec-websocket-version", HeaderValue::from_static("8"));
        assert!(accept_key(&req).is_none());
        let mut req = handshake(&[]);
        req.headers_mut().remove("sec-websocket-key");
        assert!(accept_key(&req).is_none());
    }

    #[test]
    fn negotiates_deflate() {
        let cases: &[(&str, Option<bool>)] = &[
            ("permessage-deflate", Some(false)),
            ("permessage-deflate; client_max_window_bits", Some(false)),
            ("permessage-deflate; client_no_context_takeover", Some(true)),
            ("permessage-deflate; server_max_window_bits=10", None),
            (
                "permessage-deflate; server_max_window_bits=10, permessage-deflate",
                Some(false),
            ),
            ("permessage-deflate; unknown", None),
            ("x-webkit-deflate-frame", None),
        ];
        for (offer, expected) in cases {
            let req = handshake(&[("sec-websocket-extensions", offer)]);
            let agreed = negotiate_deflate(req.headers()).map(|o| o.client_no_context_takeover);
            assert_eq!(agreed, *expected, "{offer}");
        }
    }
}
