//! The handshake of a socket: what the connection's first request and the CONNECT packet
//! said, in the shape socket.io gives it (`socket.handshake`).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use roomcast_engineio::RequestInfo;
use serde::ser::SerializeStruct;
use serde::Deserialize;

use crate::value::{Map, Value};

/// A socket's handshake: the connection's first request (shared by every socket of the
/// connection) and the `auth` of the socket's CONNECT. Serializes like Node's
/// `socket.handshake` (headers as an object of lower-case names, `time` as a JavaScript date
/// string, `issued` in ms), which is what `fetchSockets` carries across a cluster; and is read
/// back from it ([`Handshake::from_peer`]), so that a socket of a Node server is described like
/// one of ours. As a handler parameter, it is the socket's handshake.
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
        self.request.headers()
    }

    /// The value of a header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request
            .headers()
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
        self.request.headers().contains_key(http::header::ORIGIN)
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
        state.serialize_field("time", &js_date(self.issued_ms()))?;
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

/// A handshake as Node's `fetchSockets` answers carry it.
#[derive(Deserialize)]
struct NodeHandshake {
    #[serde(default)]
    headers: Map,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    issued: Option<f64>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    auth: Value,
}

impl Handshake {
    /// Reads a handshake as another server of a cluster describes it (Node's `socket.handshake`
    /// in a `fetchSockets` answer). `Handshake` has no `Deserialize` of its own: as a handler
    /// parameter it is the socket's own handshake, never read from the event's arguments.
    pub fn from_peer<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Handshake, D::Error> {
        let node = NodeHandshake::deserialize(deserializer)?;
        let mut headers = HeaderMap::with_capacity(node.headers.len());
        for (name, value) in &node.headers {
            let Ok(name) = HeaderName::try_from(name.as_str()) else {
                continue;
            };
            let values = match value {
                Value::Array(values) => values.iter().collect(),
                value => vec![value],
            };
            for value in values.into_iter().filter_map(Value::as_str) {
                if let Ok(value) = HeaderValue::try_from(value) {
                    headers.append(name.clone(), value);
                }
            }
        }
        let request = RequestInfo::from_parts(
            Method::GET,
            node.url
                .and_then(|url| Uri::try_from(url).ok())
                .unwrap_or_else(|| Uri::from_static("/")),
            headers,
            node.address
                .and_then(|address| address.parse::<IpAddr>().ok())
                .map(|ip| SocketAddr::new(ip.to_canonical(), 0)),
            node.issued
                .filter(|ms| ms.is_finite() && *ms >= 0.0)
                .map_or(UNIX_EPOCH, |ms| {
                    UNIX_EPOCH + Duration::from_millis(ms as u64)
                }),
        );
        let auth = match node.auth {
            Value::Null => Value::Object(Map::new()),
            auth => auth,
        };
        Ok(Handshake::new(Arc::new(request), auth))
    }
}

/// A time as JavaScript's `String(new Date(ms))` writes it, in UTC:
/// `Sat Dec 05 2026 22:33:33 GMT+0000 (Coordinated Universal Time)`.
fn js_date(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms / 1000;
    let days = secs / 86_400;
    let (hour, minute, second) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = DAYS.get((days % 7) as usize).copied().unwrap_or("Thu");
    let month_name = MONTHS.get((month - 1) as usize).copied().unwrap_or("Jan");
    format!(
        "{weekday} {month_name} {day:02} {year} {hour:02}:{minute:02}:{second:02} GMT+0000 (Coordinated Universal Time)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_javascript_dates() {
        assert_eq!(
            js_date(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            js_date(1_796_510_013_861),
            "Sat Dec 05 2026 22:33:33 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            js_date(951_782_400_000),
            "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
    }

    #[test]
    fn a_node_handshake_reads_as_one_of_ours() {
        let node = r#"{"headers":{"host":"localhost:3000","x-many":["a","b"]},
            "time":"Sat Dec 05 2026 22:33:33 GMT+0000 (Coordinated Universal Time)",
            "address":"::ffff:127.0.0.1","xdomain":false,"secure":false,"issued":1796510013861,
            "url":"/socket.io/?foo=bar&EIO=4&transport=websocket",
            "query":{"foo":"bar","EIO":"4","transport":"websocket"},"auth":{"token":"t"}}"#;
        let handshake =
            Handshake::from_peer(&mut serde_json::Deserializer::from_str(node)).unwrap();
        assert_eq!(handshake.header("host"), Some("localhost:3000"));
        assert_eq!(handshake.headers().get_all("x-many").iter().count(), 2);
        assert_eq!(
            handshake.address().map(|a| a.ip().to_string()).as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(handshake.issued_ms(), 1_796_510_013_861);
        assert_eq!(
            handshake.query().get("foo").map(String::as_str),
            Some("bar")
        );
        assert_eq!(
            handshake.auth.get("token").and_then(Value::as_str),
            Some("t")
        );
        let back = serde_json::to_value(&handshake).unwrap();
        assert_eq!(
            back["time"],
            "Sat Dec 05 2026 22:33:33 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(back["url"], "/socket.io/?foo=bar&EIO=4&transport=websocket");
    }
}
