//! Mounting: the engine as a tower service, and a tower layer that serves the engine's path in
//! front of another service (an axum router, say).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{Either, Full};
use tower_service::Service;

use crate::engine::Engine;
use crate::handler::Handler;
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
