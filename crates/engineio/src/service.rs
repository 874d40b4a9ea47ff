//! Mounting: the engine as a tower service, a tower layer that serves the engine's path in
//! front of another service (an axum router, say), and a plain hyper accept loop.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};
use tower_service::Service;

use crate::engine::Engine;
use crate::handler::Handler;
use crate::request::RemoteAddr;
use crate::BoxError;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<H: Handler, B> Service<Request<B>> for Engine<H>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let engine = self.clone();
        Box::pin(async move { Ok(engine.handle(req).await) })
    }
}

/// A tower layer that answers the engine's path and passes every other request to the
/// service it wraps.
///
/// ```no_run
/// # use roomcast_engineio::{Engine, EngineLayer, Handler};
/// # fn mount<H: Handler, S>(engine: Engine<H>, app: S) {
/// use tower_layer::Layer;
/// let service = EngineLayer::new(engine).layer(app);
/// # }
/// ```
pub struct EngineLayer<H: Handler> {
    engine: Engine<H>,
}

impl<H: Handler> EngineLayer<H> {
    /// A layer serving `engine`.
    pub fn new(engine: Engine<H>) -> Self {
        EngineLayer { engine }
    }
}

impl<H: Handler> Clone for EngineLayer<H> {
    fn clone(&self) -> Self {
        EngineLayer {
            engine: self.engine.clone(),
        }
    }
}

impl<H: Handler, S> tower_layer::Layer<S> for EngineLayer<H> {
    type Service = EngineService<H, S>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineService {
            engine: self.engine.clone(),
            inner,
        }
    }
}

/// The service of [`EngineLayer`].
pub struct EngineService<H: Handler, S> {
    engine: Engine<H>,
    inner: S,
}

impl<H: Handler, S: Clone> Clone for EngineService<H, S> {
    fn clone(&self) -> Self {
        EngineService {
            engine: self.engine.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<H, S, B, ResBody> Service<Request<B>> for EngineService<H, S>
where
    H: Handler,
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Either<Full<Bytes>, ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if self.engine.serves(req.uri().path()) {
            let engine = self.engine.clone();
            Box::pin(async move { Ok(engine.handle(req).await.map(Either::Left)) })
        } else {
            let future = self.inner.call(req);
            Box::pin(async move { Ok(future.await?.map(Either::Right)) })
        }
    }
}

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
/// upgrades), inserting the peer's [`RemoteAddr`] into every request. Runs until accepting
/// fails for good.
pub async fn serve<S, B>(listener: TcpListener, service: S) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, "accept failed, retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        tokio::spawn(serve_connection(stream, addr, service));
    }
}

async fn serve_connection<S, B>(stream: tokio::net::TcpStream, addr: SocketAddr, service: S)
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let hyper_service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(RemoteAddr(addr));
        let mut service = service.clone();
        async move {
            std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(req).await
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), hyper_service)
        .with_upgrades();
    if let Err(error) = connection.await {
        tracing::debug!(%addr, %error, "http connection ended with an error");
    }
}

fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | OutOfMemory
    ) || error.raw_os_error().is_some()
}
