//! The handshake of a socket: what the connection's first request and the CONNECT packet
//! said, in the shape socket.io gives it (`socket.handshake`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use roomcast_engineio::RequestInfo;
use serde::ser::SerializeStruct;

use crate::value::Value;

/// A socket's handshake. Serializes like Node's `socket.handshake` (headers as an object of
/// lower-case names, `time` as text, `issued` in ms), which is what `fetchSockets` carries
/// across a cluster.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The request headers.
    pub headers: HeaderMap,
    /// The query parameters of the first request (the last value of a repeated key wins).
    pub query: BTreeMap<String, String>,
    /// The `auth` object of the CONNECT packet (`{}` when the client sent none).
    pub auth: Value,
    /// The client's address.
    pub address: Option<SocketAddr>,
    /// When the connection was made.
    pub issued: SystemTime,
    /// The URL of the first request (path and query).
    pub url: String,
    /// Whether the request came over TLS.
    pub secure: bool,
    /// Whether the request was cross-origin (it had an `Origin` header).
    pub xdomain: bool,
}

impl Default for Handshake {
    fn default() -> Self {
        Handshake {
            headers: HeaderMap::new(),
            query: BTreeMap::new(),
            auth: Value::Object(Default::default()),
            address: None,
            issued: UNIX_EPOCH,
            url: String::new(),
            secure: false,
            xdomain: false,
        }
    }
}

impl Handshake {
    pub(crate) fn new(request: &RequestInfo, auth: Value) -> Handshake {
        Handshake {
            headers: request.headers.clone(),
            query: request
                .query_pairs()
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect(),
            auth,
            address: request.remote_addr,
            issued: request.issued,
            url: request.uri.to_string(),
            secure: false,
            xdomain: request.headers.contains_key(http::header::ORIGIN),
        }
    }

    /// The value of a header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// `issued` in milliseconds since the epoch.
    pub fn issued_ms(&self) -> u64 {
        self.issued
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or(0)
    }
}

impl serde::Serialize for Handshake {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let headers: BTreeMap<&str, &str> = self
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let mut state = serializer.serialize_struct("Handshake", 9)?;
        state.serialize_field("headers", &headers)?;
        state.serialize_field("time", &self.issued_ms().to_string())?;
        state.serialize_field("address", &self.address.map(|addr| addr.ip().to_string()))?;
        state.serialize_field("xdomain", &self.xdomain)?;
        state.serialize_field("secure", &self.secure)?;
        state.serialize_field("issued", &self.issued_ms())?;
        state.serialize_field("url", &self.url)?;
        state.serialize_field("query", &self.query)?;
        state.serialize_field("auth", &self.auth)?;
        state.end()
    }
}
