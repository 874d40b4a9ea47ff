//! Listening: binding with a large backlog, the accept loop (which survives running out of
//! file descriptors), and raising the process's open-file limit.

use std::future::Future;
use std::time::Duration;

use futures_util::FutureExt;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};
use tokio::time::Instant;
use tower_service::Service;

use crate::http::{serve_connection, HttpOptions};
use crate::BoxError;

/// How many connections may wait to be accepted (Node listens with 511; the kernel caps it
/// at `net.core.somaxconn`).
const BACKLOG: u32 = 1024;

/// Binds a listener on `addr` with room for bursts of new connections (a backlog of 1024
/// rather than the platform's small default).
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let listener = roomcast_engineio::bind("127.0.0.1:3000").await?;
/// # Ok(()) }
/// ```
pub async fn bind(addr: impl ToSocketAddrs) -> std::io::Result<TcpListener> {
    let mut last_error = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As tokio's own bind: on Windows the option would let another socket take the port.
        #[cfg(not(windows))]
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "no address to bind")
    }))
}

/// Accepts connections on `listener` and serves each with `service` over HTTP/1.1 (with
/// upgrades) under the default [`HttpOptions`], inserting the peer's
/// [`RemoteAddr`](crate::RemoteAddr) into every request. Runs until accepting fails for good.
pub async fn serve<S, B>(listener: TcpListener, service: S) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    serve_with(
        listener,
        service,
        HttpOptions::default(),
        std::future::pending(),
    )
    .await
}

/// As [`serve`], with the given HTTP limits, until `stop` resolves (connections already
/// accepted go on).
///
/// Out of file descriptors (`EMFILE`, `ENFILE`), the loop neither spins nor stops: it logs
/// once per episode, closes each new connection at once (with one descriptor held in reserve
/// for that) or, when it cannot, waits with a growing back-off, and takes connections again
/// as soon as descriptors are free. An episode ends, with a second log line, at the first
/// accept a second after the last failed one.
///
/// ```no_run
/// # async fn run<H: roomcast_engineio::Handler>(engine: roomcast_engineio::Engine<H>) -> std::io::Result<()> {
/// let listener = roomcast_engineio::bind("127.0.0.1:3000").await?;
/// // Serving stops when the engine begins to close.
/// let stop = engine.closing();
/// roomcast_engineio::serve_with(listener, engine, Default::default(), stop).await
/// # }
/// ```
pub async fn serve_with<S, B>(
    listener: TcpListener,
    service: S,
    options: HttpOptions,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let options = std::sync::Arc::new(options);
    let mut starved = Starvation::new();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        let error = match accepted {
            Ok((stream, addr)) => {
                starved.recovered();
                let _ = stream.set_nodelay(true);
                let service = service.clone();
                let options = options.clone();
                tokio::spawn(async move {
                    serve_connection(stream, addr, service, &options).await;
                });
                continue;
            }
            Err(error) => error,
        };
        if is_out_of_descriptors(&error) {
            if !starved.shed(&listener, &error) {
                tokio::select! {
                    biased;
                    () = &mut stop => return Ok(()),
                    () = starved.back_off() => {}
                }
            }
        } else if is_connection_error(&error) {
            tracing::debug!(%error, "a connection failed before it was accepted");
        } else if error.raw_os_error().is_some() {
            tracing::warn!(%error, "accept failed, retrying");
            tokio::time::sleep(Duration::from_millis(50)).await;
        } else {
            return Err(error);
        }
    }
}

/// The accept loop's state while the process is out of file descriptors.
struct Starvation {
    /// One descriptor held in reserve: released to accept and close a connection the process
    /// cannot serve, so that the client is refused instead of left waiting in the backlog.
    reserve: Option<std::fs::File>,
    /// The current episode, if any.
    episode: Option<Episode>,
    delay: Duration,
}

/// A run of accepts failing for want of descriptors.
struct Episode {
    since: Instant,
    /// The last accept that failed.
    last: Instant,
    /// Connections closed at once.
    refused: u64,
}

const FIRST_DELAY: Duration = Duration::from_millis(10);
const MAX_DELAY: Duration = Duration::from_secs(1);
/// An episode ends after this long without a failed accept: a process at its limit frees and
/// takes descriptors back and forth, which is one episode, not many.
const QUIET: Duration = Duration::from_secs(1);

impl Starvation {
    fn new() -> Starvation {
        Starvation {
            reserve: open_reserve(),
            episode: None,
            delay: FIRST_DELAY,
        }
    }

    /// Begins an episode (logged once), then refuses one waiting connection with the reserve
    /// descriptor. Returns whether one was refused; if not, the caller backs off.
    fn shed(&mut self, listener: &TcpListener, error: &std::io::Error) -> bool {
        let now = Instant::now();
        let episode = self.episode.get_or_insert_with(|| {
            tracing::warn!(
                %error,
                "out of file descriptors: refusing new connections until some are freed"
            );
            Episode {
                since: now,
                last: now,
                refused: 0,
            }
        });
        episode.last = now;
        let Some(reserve) = self.reserve.take() else {
            self.reserve = open_reserve();
            return false;
        };
        drop(reserve);
        let refused = matches!(listener.accept().now_or_never(), Some(Ok(_)));
        if refused {
            episode.refused += 1;
        }
        self.reserve = open_reserve();
        refused
    }

    async fn back_off(&mut self) {
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(MAX_DELAY);
    }

    /// A connection was accepted: ends the episode, with a log line, once no accept has failed
    /// for [`QUIET`].
    fn recovered(&mut self) {
        let Some(episode) = &self.episode else {
            return;
        };
        if episode.last.elapsed() < QUIET {
            return;
        }
        if let Some(Episode { since, refused, .. }) = self.episode.take() {
            tracing::warn!(
                refused,
                after = ?since.elapsed(),
                "file descriptors available again, accepting connections"
            );
            self.delay = FIRST_DELAY;
            if self.reserve.is_none() {
                self.reserve = open_reserve();
            }
        }
    }
}

#[cfg(unix)]
fn open_reserve() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

#[cfg(not(unix))]
fn open_reserve() -> Option<std::fs::File> {
    None
}

/// The process or the system has no file descriptor (or socket buffer) left for a new
/// connection.
fn is_out_of_descriptors(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(
            error.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
        )
    }
    #[cfg(not(unix))]
    {
        error.kind() == std::io::ErrorKind::OutOfMemory
    }
}

/// A connection that went away before it was accepted: nothing to do about it.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
    )
}

/// Raises the process's soft limit on open files to its hard limit and returns the limit now
/// in force. Each connection is a file descriptor: the soft limit (often 1024) is what caps
/// how many clients one process can hold.
///
/// ```
/// let limit = roomcast_engineio::raise_open_file_limit().unwrap();
/// assert!(limit > 0);
/// ```
#[cfg(unix)]
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// Raises the process's soft limit on open files; not supported on this platform.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    Err(std::io::ErrorKind::Unsupported.into())
}
