//! Interceptors: code around a handler (NestJS's `NestInterceptor`), e.g. timing or logging. An
//! interceptor runs after the guards and the body's validation, calls [`Next::run`] to run the
//! handler (and the interceptors inside it), and may look at or replace its outcome.

use std::future::Future;

use roomcast::value::Value;
use roomcast::{BoxError, BoxFuture, Socket};

/// What an interceptor sees: the gateway, the event and the socket.
#[derive(Debug, Clone, Copy)]
pub struct InterceptContext<'a> {
    gateway: &'static str,
    event: &'a str,
    socket: &'a Socket,
}

impl<'a> InterceptContext<'a> {
    pub(crate) fn new(
        gateway: &'static str,
        event: &'a str,
        socket: &'a Socket,
    ) -> InterceptContext<'a> {
        InterceptContext {
            gateway,
            event,
            socket,
        }
    }

    /// The gateway's name.
    pub fn gateway(&self) -> &'static str {
        self.gateway
    }

    /// The event name.
    pub fn event(&self) -> &'a str {
        self.event
    }

    /// The socket the message came from.
    pub fn socket(&self) -> &'a Socket {
        self.socket
    }
}

/// The outcome of a handler: its value (as it will be sent), or its error.
pub type Outcome = Result<Value, BoxError>;

/// The rest of the chain: the inner interceptors, then the handler.
pub struct Next<'a>(BoxFuture<'a, Outcome>);

impl<'a> Next<'a> {
    pub(crate) fn new(rest: BoxFuture<'a, Outcome>) -> Next<'a> {
        Next(rest)
    }

    /// Runs the rest of the chain.
    pub async fn run(self) -> Outcome {
        self.0.await
    }
}

impl std::fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Next")
    }
}

/// Code around a handler.
///
/// ```
/// use std::time::Instant;
/// use roomcast_gateway::{InterceptContext, Interceptor, Next, Outcome};
///
/// /// Logs how long each handler took.
/// struct Timing;
///
/// impl Interceptor for Timing {
///     async fn intercept(&self, ctx: InterceptContext<'_>, next: Next<'_>) -> Outcome {
///         let start = Instant::now();
///         let outcome = next.run().await;
///         tracing::info!("[{}] \"{}\" took {:?}", ctx.gateway(), ctx.event(), start.elapsed());
///         outcome
///     }
/// }
/// ```
pub trait Interceptor: Send + Sync + 'static {
    /// Runs around `next`.
    fn intercept(
        &self,
        ctx: InterceptContext<'_>,
        next: Next<'_>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// An [`Interceptor`] behind a pointer.
pub(crate) trait DynInterceptor: Send + Sync + 'static {
    fn intercept<'a>(&'a self, ctx: InterceptContext<'a>, next: Next<'a>)
        -> BoxFuture<'a, Outcome>;
}

impl<I: Interceptor> DynInterceptor for I {
    fn intercept<'a>(
        &'a self,
        ctx: InterceptContext<'a>,
        next: Next<'a>,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(Interceptor::intercept(self, ctx, next))
    }
}
