//! One accepted connection served over HTTP/1.1: the limits and timeouts that keep a slow,
//! idle or oversized peer from holding memory, and the keep-alive watch that closes a
//! connection with no request in flight.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use tokio::time::{sleep_until, Instant};
use tower_service::Service;

use crate::request::RemoteAddr;
use crate::BoxError;

/// Limits and timeouts of the HTTP/1.1 connections [`serve_with`](crate::serve_with) accepts,
/// with Node's `http.Server` defaults.
///
/// ```
/// use std::time::Duration;
/// let mut http = roomcast_engineio::HttpOptions::default();
/// http.keep_alive_timeout = Duration::from_secs(10);
/// assert_eq!(http.max_header_size, 16 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpOptions {
    /// How long a request's head (request line and headers) may take to arrive, counted from
    /// the moment the server waits for it; a peer that is slower is disconnected (Node's
    /// `headersTimeout`, 60 s).
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with no request in flight, from its accept or the
    /// end of its last response, before the server closes it (Node's `keepAliveTimeout`, 5 s).
    /// A WebSocket is no longer an HTTP connection and is not affected.
    pub keep_alive_timeout: Duration,
    /// The largest request head accepted, in bytes; a larger one is answered with
    /// `431 Request Header Fields Too Large` and the connection closed (Node's
    /// `maxHeaderSize`, 16 KiB).
    pub max_header_size: usize,
    /// How many header fields a request may carry; more are answered with 431 (Node keeps the
    /// first 2000 and drops the others; the default here is 100, the most hyper parses
    /// without allocating).
    pub max_headers: usize,
}

/// hyper's own bound on header fields, parsed on the stack.
const STACK_HEADERS: usize = 100;

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            header_read_timeout: Duration::from_secs(60),
            keep_alive_timeout: Duration::from_secs(5),
            max_header_size: 16 * 1024,
            max_headers: STACK_HEADERS,
        }
    }
}

/// Requests in flight on one connection, and when the last one ended.
struct Activity {
    in_flight: AtomicUsize,
    last_end: Mutex<Instant>,
}

impl Activity {
    /// When the connection has been idle for `timeout`, or `None` while a request is in flight.
    fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        let last_end = *self.last_end.lock();
        (self.in_flight.load(Ordering::Acquire) == 0).then_some(last_end + timeout)
    }
}

/// Counts a request in flight until dropped (its response handed to hyper, or the request
/// abandoned).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.last_end.lock() = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves one accepted connection until it closes, upgrades, or breaks a limit of `options`.
pub(crate) async fn serve_connection<S, B>(
    stream: tokio::net::TcpStream,
    addr: SocketAddr,
    service: S,
    options: &HttpOptions,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let activity = Arc::new(Activity {
        in_flight: AtomicUsize::new(0),
        last_end: Mutex::new(Instant::now()),
    });
    let requests = activity.clone();
    let hyper_service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(RemoteAddr(addr));
        let mut service = service.clone();
        let in_flight = InFlight::start(&requests);
        async move {
            std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
            let response = service.call(req).await;
            drop(in_flight);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_header_size(options.max_header_size);
    if options.max_headers != STACK_HEADERS {
        builder.max_headers(options.max_headers);
    }
    let connection = builder
        .serve_connection(TokioIo::new(stream), hyper_service)
        .with_upgrades();
    tokio::pin!(connection);
    let keep_alive = options.keep_alive_timeout;
    let result = loop {
        let deadline = activity
            .idle_deadline(keep_alive)
            .unwrap_or_else(|| Instant::now() + keep_alive);
        tokio::select! {
            result = connection.as_mut() => break result,
            () = sleep_until(deadline) => {
                if activity.idle_deadline(keep_alive).is_some_and(|due| due <= Instant::now()) {
                    tracing::debug!(%addr, "http connection idle past keep_alive_timeout, closing");
                    connection.as_mut().graceful_shutdown();
                    break connection.await;
                }
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(%addr, %error, "http connection ended with an error");
    }
}
