//! The handshake of a socket: what the connection's first request and the CONNECT packet
//! said, in the shape socket.io gives it (`socket.handshake`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Uri};
use roomcast_engineio::RequestInfo;
use serde::ser::SerializeStruct;

use crate::value::Value;

/// A socket's handshake: the connection's first request (shared by every socket of the
/// connection) and the `auth` of the socket's CONNECT. Serializes like Node's
/// `socket.handshake` (headers as an object of lower-case names, `time` as text, `issued` in
/// ms), which is what `fetchSockets` carries across a cluster.
#[derive(Debug, Clone, Default)]
pub struct Handshake {
    request: Arc<RequestInfo>,
    /// The `auth` object of the CONNECT packet (`{}` when the client sent none).
    pub auth: Value,
}

impl Handshake {
    /// A handshake from a request and an `auth` object.
    pub fn new(request: Arc<RequestInfo>, auth: Value) -> Handshake {
        Handshake { request, auth }
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.request.headers
    }

    /// The value of a header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    }

    /// The query parameters of the first request (the last value of a repeated key wins).
    pub fn query(&self) -> BTreeMap<String, String> {
        self.request
            .query_pairs()
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect()
    }

    /// The client's address.
    pub fn address(&self) -> Option<SocketAddr> {
        self.request.remote_addr
    }

    /// The URL of the first request (path and query).
    pub fn url(&self) -> &Uri {
        &self.request.uri
    }

    /// Whether the request came over TLS (this server speaks plain HTTP; a TLS terminator in
    /// front of it is not seen).
    pub fn secure(&self) -> bool {
        false
    }

    /// Whether the request was cross-origin (it had an `Origin` header).
    pub fn xdomain(&self) -> bool {
        self.request.headers.contains_key(http::header::ORIGIN)
    }

    /// When the connection was made.
    pub fn issued(&self) -> SystemTime {
        self.request.issued
    }

    /// `issued` in milliseconds since the epoch.
    pub fn issued_ms(&self) -> u64 {
        self.request
            .issued
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or(0)
    }
}

impl serde::Serialize for Handshake {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let headers: BTreeMap<&str, &str> = self
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let mut state = serializer.serialize_struct("Handshake", 9)?;
        state.serialize_field("headers", &headers)?;
        state.serialize_field("time", &self.issued_ms().to_string())?;
        state.serialize_field("address", &self.address().map(|addr| addr.ip().to_string()))?;
        state.serialize_field("xdomain", &self.xdomain())?;
        state.serialize_field("secure", &self.secure())?;
        state.serialize_field("issued", &self.issued_ms())?;
        state.serialize_field("url", &self.url().to_string())?;
        state.serialize_field("query", &self.query())?;
        state.serialize_field("auth", &self.auth)?;
        state.end()
    }
}
