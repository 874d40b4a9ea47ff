//! Server options, with Node engine.io's defaults.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::request::RequestInfo;

/// The future an [`AllowRequest`] hook returns.
pub type AllowFuture = Pin<Box<dyn Future<Output = Result<(), Option<String>>> + Send>>;

/// Decides whether a handshake may go ahead: `Err(Some(message))` refuses it with HTTP 403 and
/// `{"code":4,"message":message}`, `Err(None)` with the message `Forbidden`.
pub type AllowRequest = Arc<dyn Fn(&RequestInfo) -> AllowFuture + Send + Sync>;

/// Engine.IO server options. `Config::default()` gives Node engine.io's defaults (with the
/// path `/engine.io/`); change fields as needed.
///
/// ```
/// use std::time::Duration;
/// use roomcast_engineio::Config;
///
/// let mut config = Config::default();
/// config.path = "/socket.io/".into();
/// config.ping_interval = Duration::from_millis(300);
/// assert_eq!(config.max_payload, 1_000_000);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The request path prefix served (Node: `path`, default `/engine.io/`).
    pub path: String,
    /// How often the server pings (default 25 s).
    pub ping_interval: Duration,
    /// How long the server waits for a pong before closing with `ping timeout` (default 20 s).
    pub ping_timeout: Duration,
    /// How long an upgrade may take before the new transport is dropped (default 10 s).
    pub upgrade_timeout: Duration,
    /// The largest HTTP body or WebSocket message accepted, in bytes (Node's
    /// `maxHttpBufferSize`, default 1e6).
    pub max_payload: usize,
    /// How long a polling POST body may take to arrive once its headers are in; a slower one
    /// is answered with 408 and its session closed (Node's `requestTimeout`, 300 s).
    pub request_timeout: Duration,
    /// How much memory one session's outgoing queue may hold (each frame's bytes and a
    /// per-frame overhead); a session over it is closed with a logged reason (Node has no
    /// limit; the default is 64 MiB). A WebSocket whose queue holds more than 1 MiB is not
    /// read until the queue is written out, so a client that sends faster than it reads slows
    /// down instead of growing its queue.
    pub max_buffered_bytes: usize,
    /// The transports a client may use.
    pub transports: Transports,
    /// Whether polling sessions may upgrade to WebSocket (default true).
    pub allow_upgrades: bool,
    /// How long a polling session that the server closes waits for the client's next poll to
    /// deliver the close packet (Node's `closeTimeout`, 30 s).
    pub close_timeout: Duration,
    /// Cross-origin resource sharing; `None` (the default) adds no CORS headers.
    pub cors: Option<Cors>,
    /// A hook that may refuse handshakes.
    pub allow_request: Option<AllowRequest>,
    /// WebSocket per-message compression; off by default, as in Node.
    pub per_message_deflate: Option<Deflate>,
    /// Whether Engine.IO v3 clients (`socket.io-client` 2.x) are accepted too (Node's
    /// `allowEIO3`, off by default): the client pings and the server answers, v3 polling
    /// payloads, binary WebSocket frames with their type byte.
    pub allow_eio3: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: "/engine.io/".to_owned(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            request_timeout: Duration::from_secs(300),
            max_buffered_bytes: 64 << 20,
            transports: Transports::default(),
            allow_upgrades: true,
            close_timeout: Duration::from_millis(30_000),
            cors: None,
            allow_request: None,
            per_message_deflate: None,
            allow_eio3: false,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("max_payload", &self.max_payload)
            .field("request_timeout", &self.request_timeout)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("transports", &self.transports)
            .field("allow_upgrades", &self.allow_upgrades)
            .field("cors", &self.cors)
            .field("allow_request", &self.allow_request.is_some())
            .field("per_message_deflate", &self.per_message_deflate)
            .field("allow_eio3", &self.allow_eio3)
            .finish()
    }
}

/// The transports a client may use; both by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transports {
    /// HTTP long-polling.
    pub polling: bool,
    /// WebSocket.
    pub websocket: bool,
}

impl Default for Transports {
    fn default() -> Self {
        Transports {
            polling: true,
            websocket: true,
        }
    }
}

/// CORS answers, as Node's `cors` package gives them for engine.io's `cors` option.
///
/// ```
/// use roomcast_engineio::{Cors, CorsOrigin};
///
/// let any = Cors::default();
/// assert!(matches!(any.origin, CorsOrigin::Any));
/// let listed = Cors { origin: CorsOrigin::List(vec!["https://app.example".into()]), credentials: true };
/// assert!(listed.credentials);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Cors {
    /// Which origins are allowed.
    pub origin: CorsOrigin,
    /// Whether to send `Access-Control-Allow-Credentials: true`.
    pub credentials: bool,
}

/// The origins [`Cors`] allows.
#[derive(Debug, Clone, Default)]
pub enum CorsOrigin {
    /// Any origin, answered with `*` (Node's `origin: "*"`).
    #[default]
    Any,
    /// Any origin, answered with the request's own origin (Node's `origin: true`; needed with
    /// credentials).
    Mirror,
    /// Only these origins, each answered with itself.
    List(Vec<String>),
}

/// WebSocket per-message deflate options.
#[derive(Debug, Clone)]
pub struct Deflate {
    /// Messages smaller than this are sent uncompressed (Node: 1024).
    pub threshold: usize,
}

impl Default for Deflate {
    fn default() -> Self {
        Deflate { threshold: 1024 }
    }
}
