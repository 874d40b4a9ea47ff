//! What a session knows about the HTTP request that opened it.

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::SystemTime;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

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
    headers: Headers,
    /// The peer address, when the server knows it (see [`RemoteAddr`]).
    pub remote_addr: Option<SocketAddr>,
    /// When the request arrived.
    pub issued: SystemTime,
}

impl Default for RequestInfo {
    fn default() -> Self {
        RequestInfo::from_parts(
            Method::GET,
            Uri::from_static("/"),
            HeaderMap::new(),
            None,
            SystemTime::UNIX_EPOCH,
        )
    }
}

impl RequestInfo {
    /// Copies what a session keeps of its handshake request. The copies own their bytes: the
    /// request's own header values and URI are slices of the connection's read buffer, which a
    /// long-lived session must not keep alive.
    pub(crate) fn new<B>(req: &http::Request<B>) -> RequestInfo {
        RequestInfo {
            method: req.method().clone(),
            uri: Uri::try_from(req.uri().to_string()).unwrap_or_else(|_| req.uri().clone()),
            headers: Headers::pack(req.headers()),
            remote_addr: req.extensions().get::<RemoteAddr>().map(|addr| addr.0),
            issued: SystemTime::now(),
        }
    }

    /// A request described by its parts (a session of another server, say).
    ///
    /// ```
    /// # use roomcast_engineio::RequestInfo;
    /// use http::{HeaderMap, Method, Uri};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("host", "example.com".parse().unwrap());
    /// let info = RequestInfo::from_parts(
    ///     Method::GET,
    ///     Uri::from_static("/socket.io/?EIO=4"),
    ///     headers,
    ///     None,
    ///     std::time::SystemTime::now(),
    /// );
    /// assert_eq!(info.headers()["host"], "example.com");
    /// ```
    pub fn from_parts(
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        remote_addr: Option<SocketAddr>,
        issued: SystemTime,
    ) -> RequestInfo {
        RequestInfo {
            method,
            uri,
            headers: Headers::from_map(headers),
            remote_addr,
            issued,
        }
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.map()
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

/// A request's headers as a session keeps them: packed into one buffer (`name:value` lines), a
/// fraction of a `HeaderMap`'s size, and unpacked into one the first time they are asked for.
/// An idle connection whose headers nobody reads holds only the packed bytes.
#[derive(Clone)]
struct Headers {
    packed: Box<[u8]>,
    map: OnceLock<Box<HeaderMap>>,
}

impl Headers {
    /// Packs the headers a request came with. Their values hold no line break (HTTP forbids
    /// it, and `HeaderValue` refuses it), and names hold no colon (they are tokens).
    fn pack(headers: &HeaderMap) -> Headers {
        let len = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 2)
            .sum();
        let mut packed = Vec::with_capacity(len);
        for (name, value) in headers {
            if value.as_bytes().contains(&b'\n') {
                continue;
            }
            packed.extend_from_slice(name.as_str().as_bytes());
            packed.push(b':');
            packed.extend_from_slice(value.as_bytes());
            packed.push(b'\n');
        }
        Headers {
            packed: packed.into_boxed_slice(),
            map: OnceLock::new(),
        }
    }

    fn from_map(map: HeaderMap) -> Headers {
        Headers {
            packed: Box::default(),
            map: OnceLock::from(Box::new(map)),
        }
    }

    /// The packed headers, as `(name, value)` bytes.
    fn lines(&self) -> impl Iterator<Item = (&[u8], &[u8])> + Clone {
        self.packed.split(|byte| *byte == b'\n').filter_map(|line| {
            let colon = line.iter().position(|byte| *byte == b':')?;
            Some((&line[..colon], &line[colon + 1..]))
        })
    }

    fn map(&self) -> &HeaderMap {
        self.map.get_or_init(|| {
            let lines = self.lines();
            let mut map = HeaderMap::with_capacity(lines.clone().count());
            for (name, value) in lines {
                if let (Ok(name), Ok(value)) =
                    (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
                {
                    map.append(name, value);
                }
            }
            Box::new(map)
        })
    }
}

impl fmt::Debug for Headers {
    /// Shown without unpacking them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(map) = self.map.get() {
            return fmt::Debug::fmt(map, f);
        }
        let text = |bytes| String::from_utf8_lossy(bytes);
        f.debug_map()
            .entries(self.lines().map(|(name, value)| (text(name), text(value))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_headers_unpack_as_they_came() {
        let request = http::Request::builder()
            .uri("/engine.io/?EIO=4&transport=websocket")
            .header("host", "127.0.0.1:3000")
            .header("x-many", "a")
            .header("x-many", "b: with a colon")
            .header("x-empty", "")
            .header("x-latin", HeaderValue::from_bytes(b"caf\xe9").unwrap())
            .body(())
            .unwrap();
        let info = RequestInfo::new(&request);
        let shown = format!("{info:?}");
        assert!(shown.contains(r#""host": "127.0.0.1:3000""#), "{shown}");
        assert!(info.headers.map.get().is_none(), "shown without unpacking");
        let headers = info.headers();
        assert_eq!(headers.len(), 5);
        assert_eq!(headers["host"], "127.0.0.1:3000");
        let many: Vec<_> = headers.get_all("x-many").iter().collect();
        assert_eq!(many, ["a", "b: with a colon"]);
        assert_eq!(headers["x-empty"], "");
        assert_eq!(headers["x-latin"].as_bytes(), b"caf\xe9");
        assert_eq!(info.clone().headers(), headers);
    }

    #[test]
    fn a_request_without_headers_has_none() {
        let request = http::Request::builder().body(()).unwrap();
        assert!(RequestInfo::new(&request).headers().is_empty());
        assert!(RequestInfo::default().headers().is_empty());
    }
}
