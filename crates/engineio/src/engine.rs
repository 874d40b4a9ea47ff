//! The Engine.IO server: verifies each request as Node's engine.io does, owns the sessions, and
//! hands every request of a session to its transport.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;

use crate::beat::Beats;
use crate::config::Config;
use crate::cors;
use crate::error::{empty_response, HttpError};
use crate::handler::Handler;
use crate::heartbeat;
use crate::packet::Frame;
use crate::polling;
use crate::request::RequestInfo;
use crate::session::{Registry, Session};
use crate::sid::Sid;
use crate::socket::{CloseReason, Protocol, Shared, Socket, TransportKind};
use crate::ws;
use crate::BoxError;
use tokio::time::Instant;

/// An Engine.IO server: a cheap-to-clone handle, usable as a tower/hyper service (see
/// [`EngineLayer`](crate::EngineLayer) and [`serve`](crate::serve)).
///
/// ```no_run
/// # use roomcast_engineio::{Config, Engine, Handler};
/// # async fn run<H: Handler>(handler: H) -> std::io::Result<()> {
/// let engine = Engine::new(handler, Config::default());
/// let listener = roomcast_engineio::bind("127.0.0.1:3000").await?;
/// roomcast_engineio::serve(listener, engine).await
/// # }
/// ```
pub struct Engine<H: Handler> {
    inner: Arc<Inner<H>>,
}

impl<H: Handler> Clone for Engine<H> {
    fn clone(&self) -> Self {
        Engine {
            inner: self.inner.clone(),
        }
    }
}

/// A handle to an [`Engine`] that does not keep it alive (for what the engine's own handler
/// holds, so that the two do not keep each other alive).
pub struct WeakEngine<H: Handler> {
    inner: std::sync::Weak<Inner<H>>,
}

impl<H: Handler> Clone for WeakEngine<H> {
    fn clone(&self) -> Self {
        WeakEngine {
            inner: self.inner.clone(),
        }
    }
}

impl<H: Handler> WeakEngine<H> {
    /// The engine, while it exists.
    pub fn upgrade(&self) -> Option<Engine<H>> {
        self.inner.upgrade().map(|inner| Engine { inner })
    }
}

struct Inner<H: Handler> {
    config: Arc<Config>,
    handler: H,
    sessions: Arc<Registry<H>>,
    /// The heartbeat of every session, started with the first.
    beats: OnceLock<Beats>,
    /// Raised once the engine begins to close (see [`Engine::closing`]).
    closing: tokio::sync::watch::Sender<bool>,
    /// `config.path` without its trailing slash: Node serves `/engine.io` and `/engine.io/…`.
    prefix: String,
}

impl<H: Handler> Engine<H> {
    /// A server that gives new sessions to `handler`.
    pub fn new(handler: H, config: Config) -> Engine<H> {
        let prefix = config.path.trim_end_matches('/').to_owned();
        Engine {
            inner: Arc::new(Inner {
                config: Arc::new(config),
                handler,
                sessions: Arc::default(),
                beats: OnceLock::new(),
                closing: tokio::sync::watch::Sender::new(false),
                prefix,
            }),
        }
    }

    /// The options in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// A handle that does not keep the engine alive.
    pub fn downgrade(&self) -> WeakEngine<H> {
        WeakEngine {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// The handler given to [`Engine::new`].
    pub fn handler(&self) -> &H {
        &self.inner.handler
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.read().len()
    }

    /// Whether a request path belongs to this server (`path` itself, with or without its
    /// trailing slash, and anything below it).
    pub fn serves(&self, path: &str) -> bool {
        match path.strip_prefix(self.inner.prefix.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// Closes every session at once with [`CloseReason::ServerShuttingDown`]; what is still
    /// queued is dropped (see [`Engine::close`] for a close that delivers it).
    pub fn close_all(&self) {
        self.inner.closing.send_replace(true);
        let sessions: Vec<_> = self.inner.sessions.read().values().cloned().collect();
        for session in sessions {
            session.finish(CloseReason::ServerShuttingDown);
        }
    }

    /// Closes every session with [`CloseReason::ServerShuttingDown`], delivering what each
    /// has queued before its close packet, and returns once all have ended or `within` has
    /// passed; sessions still open then (a polling client that does not poll again, a peer
    /// that does not read) are ended at once. Returns how many had to be ended that way.
    pub async fn close(&self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        self.inner.closing.send_replace(true);
        let sessions: Vec<_> = self.inner.sessions.read().values().cloned().collect();
        for session in &sessions {
            session
                .shared
                .request_close_as(CloseReason::ServerShuttingDown);
        }
        let mut forced = 0;
        for session in &sessions {
            if tokio::time::timeout_at(deadline, session.shared.ended())
                .await
                .is_err()
            {
                forced += 1;
                session.finish(CloseReason::ServerShuttingDown);
            }
        }
        forced
    }

    /// Resolves once [`Engine::close`] or [`Engine::close_all`] has been called: what an
    /// accept loop stops on ([`serve_with`](crate::serve_with)).
    pub fn closing(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.inner.closing.subscribe();
        async move {
            // An error means the engine is gone: closed as well.
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// Answers one HTTP request (a request outside [`Engine::serves`] gets 404).
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if !self.serves(req.uri().path()) {
            return empty_response(StatusCode::NOT_FOUND);
        }
        let cors = self.inner.config.cors.as_ref();
        if let Some(cors) = cors {
            if req.method() == Method::OPTIONS {
                return cors::preflight(cors, &req);
            }
        }
        let origin = req.headers().get(http::header::ORIGIN).cloned();
        let mut res = self.route(req).await;
        if let Some(cors) = cors {
            cors::decorate(cors, origin.as_ref(), res.headers_mut());
        }
        res
    }

    async fn route<B>(&self, mut req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let query = Query::parse(req.uri().query());
        let upgrade = ws::handshake::is_upgrade(&req);
        let uri = req.uri().clone();
        let handler = &self.inner.handler;
        let fail = move |error: HttpError, message: Option<&str>| {
            tracing::debug!(%uri, code = error as u8, "refused engine.io request");
            handler.on_refused(error as u8);
            if upgrade {
                error.upgrade_response(message)
            } else {
                error.response(message)
            }
        };
        let config = &self.inner.config;
        let transport = match query.transport.as_deref() {
            Some("polling") if config.transports.polling => TransportKind::Polling,
            Some("websocket") if config.transports.websocket => TransportKind::WebSocket,
            _ => return fail(HttpError::UnknownTransport, None),
        };
        if let Some(sid) = query.sid.as_deref() {
            let session =
                Sid::parse(sid).and_then(|sid| self.inner.sessions.read().get(&sid).cloned());
            let Some(session) = session else {
                return fail(HttpError::UnknownSid, None);
            };
            if session.shared.pong_overdue() {
                session.finish(CloseReason::PingTimeout);
                return fail(HttpError::UnknownSid, None);
            }
            if Protocol::from_query(query.eio.as_deref(), config.allow_eio3)
                != Some(session.shared.protocol)
            {
                // A request in another revision than the session's is not its own.
                return fail(HttpError::BadRequest, None);
            }
            if upgrade {
                if transport != TransportKind::WebSocket {
                    return fail(HttpError::BadRequest, None);
                }
                return ws::upgrade_session(session, &mut req);
            }
            let current = session.shared.lock().transport;
            if current != transport {
                return fail(HttpError::BadRequest, None);
            }
            return match *req.method() {
                Method::GET => polling::get(&session, !query.b64).await,
                Method::POST => polling::post(&session, req).await,
                _ => empty_response(StatusCode::INTERNAL_SERVER_ERROR),
            };
        }
        if req.method() != Method::GET {
            return fail(HttpError::BadHandshakeMethod, None);
        }
        if transport == TransportKind::WebSocket && !upgrade {
            return fail(HttpError::BadRequest, None);
        }
        let info = RequestInfo::new(&req);
        if let Some(allow) = &config.allow_request {
            if let Err(message) = allow(&info).await {
                return fail(HttpError::Forbidden, message.as_deref());
            }
        }
        let Some(protocol) = Protocol::from_query(query.eio.as_deref(), config.allow_eio3) else {
            return fail(HttpError::UnsupportedProtocolVersion, None);
        };
        match transport {
            TransportKind::Polling => {
                let (_, open) = self.open_session(info, protocol, TransportKind::Polling);
                polling::first_response(protocol, &open)
            }
            TransportKind::WebSocket => {
                let Some(accepted) = ws::accept(config, &mut req) else {
                    return fail(HttpError::BadRequest, None);
                };
                let (session, _) = self.open_session(info, protocol, TransportKind::WebSocket);
                ws::run_new(session, accepted)
            }
        }
    }

    /// Creates a session: registers it, starts its heartbeat and tells the handler. Returns
    /// the session and its open packet, which the transport must send first.
    pub(crate) fn open_session(
        &self,
        request: RequestInfo,
        protocol: Protocol,
        transport: TransportKind,
    ) -> (Arc<Session<H>>, Frame) {
        let config = &self.inner.config;
        let sid = Sid::new();
        let beats = self
            .inner
            .beats
            .get_or_init(|| heartbeat::start(self.inner.sessions.clone(), config));
        let shared = Arc::new(Shared::new(
            sid,
            protocol,
            Arc::new(request),
            transport,
            config.max_buffered_bytes,
            beats.clone(),
        ));
        let session = Arc::new(Session::new(
            shared.clone(),
            self.inner.config.clone(),
            Arc::downgrade(&self.inner.sessions),
        ));
        let upgrades: &[&str] = if transport == TransportKind::Polling
            && config.allow_upgrades
            && config.transports.websocket
        {
            &["websocket"]
        } else {
            &[]
        };
        let open = OpenPacket {
            sid: sid.as_str(),
            upgrades,
            ping_interval: config.ping_interval.as_millis() as u64,
            ping_timeout: config.ping_timeout.as_millis() as u64,
            max_payload: config.max_payload,
        };
        let open = Frame::open(&serde_json::to_vec(&open).unwrap_or_default());
        if transport == TransportKind::WebSocket {
            // First in the queue, before anything the handler sends.
            shared.push_control(open.clone());
        }
        self.inner.sessions.write().insert(sid, session.clone());
        tracing::debug!(%sid, transport = transport.as_str(), "session opened");
        let conn = self.inner.handler.on_open(Socket { shared });
        session.attach(conn);
        session
            .shared
            .start_heartbeat(Instant::now(), config.ping_interval + config.ping_timeout);
        (session, open)
    }
}

/// The payload of the open packet, in Node's field order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenPacket<'a> {
    sid: &'a str,
    upgrades: &'a [&'a str],
    ping_interval: u64,
    ping_timeout: u64,
    max_payload: usize,
}

/// The query parameters Engine.IO reads.
struct Query {
    transport: Option<String>,
    sid: Option<String>,
    eio: Option<String>,
    /// A v3 client that takes no binary payloads (`b64=1`).
    b64: bool,
}

impl Query {
    fn parse(query: Option<&str>) -> Query {
        let mut parsed = Query {
            transport: None,
            sid: None,
            eio: None,
            b64: false,
        };
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "b64" => {
                    parsed.b64 = true;
                    continue;
                }
                "transport" => &mut parsed.transport,
                "sid" => &mut parsed.sid,
                "EIO" => &mut parsed.eio,
                _ => continue,
            };
            slot.get_or_insert_with(|| value.into_owned());
        }
        parsed
    }
}
