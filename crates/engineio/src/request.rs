//! What a session knows about the HTTP request that opened it.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::SystemTime;

use http::{HeaderMap, HeaderValue, Method, Uri};

/// The address of the peer of a connection, as a request extension. [`serve`](crate::serve)
/// inserts it; a server of your own can insert it so that sessions know their peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// The handshake request of a session: method, URI, headers, query and peer address.
/// Sessions share it behind an `Arc` with the layers above.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The HTTP method.
    pub method: Method,
    /// The request URI (path and query).
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// The peer address, when the server knows it (see [`RemoteAddr`]).
    pub remote_addr: Option<SocketAddr>,
    /// When the request arrived.
    pub issued: SystemTime,
}

impl Default for RequestInfo {
    fn default() -> Self {
        RequestInfo {
            method: Method::GET,
            uri: Uri::from_static("/"),
            headers: HeaderMap::new(),
            remote_addr: None,
            issued: SystemTime::UNIX_EPOCH,
        }
    }
}

impl RequestInfo {
    /// Copies what a session keeps of its handshake request. The copies own their bytes: the
    /// request's own header values and URI are slices of the connection's read buffer, which a
    /// long-lived session must not keep alive.
    pub(crate) fn new<B>(req: &http::Request<B>) -> RequestInfo {
        let mut headers = HeaderMap::with_capacity(req.headers().len());
        for (name, value) in req.headers() {
            if let Ok(mut owned) = HeaderValue::from_bytes(value.as_bytes()) {
                owned.set_sensitive(value.is_sensitive());
                headers.append(name.clone(), owned);
            }
        }
        RequestInfo {
            method: req.method().clone(),
            uri: Uri::try_from(req.uri().to_string()).unwrap_or_else(|_| req.uri().clone()),
            headers,
            remote_addr: req.extensions().get::<RemoteAddr>().map(|addr| addr.0),
            issued: SystemTime::now(),
        }
    }

    /// The decoded query parameters, in order.
    ///
    /// ```
    /// # use roomcast_engineio::RequestInfo;
    /// # fn check(info: &RequestInfo) {
    /// for (key, value) in info.query_pairs() {
    ///     println!("{key} = {value}");
    /// }
    /// # }
    /// ```
    pub fn query_pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        form_urlencoded::parse(self.uri.query().unwrap_or("").as_bytes())
    }

    /// The first value of the query parameter `key`.
    pub fn query(&self, key: &str) -> Option<Cow<'_, str>> {
        self.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}
