//! Gateway handlers and the way a message goes through one: guards, then the parameters
//! (validation included), then the interceptors around the handler, then the reply — or, for
//! any refusal or error on the way, the exception filters.

use std::future::Future;
use std::sync::Arc;

use roomcast::value::to_value;
use roomcast::{AckSender, Args, BoxError, BoxFuture, Socket};
use serde::Serialize;

use crate::exception::WsException;
use crate::filter::{default_filter, ErrorHost, ExceptionFilter};
use crate::guard::{DynGuard, Guard, GuardContext};
use crate::interceptor::{DynInterceptor, InterceptContext, Interceptor, Next, Outcome};
use crate::message::{FromMessage, Message};
use crate::reply::deliver;

/// A handler of a gateway `G`: an async closure or `async fn` taking the gateway (`Arc<G>`)
/// and up to eight [`FromMessage`] parameters, in any order, and returning `Result<R, E>`:
/// `R` (any `Serialize` value) is the reply, `E` goes to the exception filters. The
/// `#[gateway]` attribute writes these for the methods it declares.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a gateway handler",
    label = "not a gateway handler",
    note = "a gateway handler takes Arc<Gateway> then up to eight parameters (Body<T>, Valid<T>, \
            Socket, Namespace, Server, AckSender, Handshake, Auth<T>, Event, State<T>) and \
            returns Result<R, E> where R: Serialize and E converts into a boxed error"
)]
pub trait MessageHandler<G, T>: Send + Sync + 'static {
    /// The reply.
    type Reply: Serialize + Send + 'static;
    /// The error.
    type Error: Into<BoxError> + Send + 'static;
    /// The running handler.
    type Future: Future<Output = Result<Self::Reply, Self::Error>> + Send + 'static;

    /// Takes the parameters from the message and starts the handler.
    fn call(&self, gateway: Arc<G>, message: &mut Message) -> Result<Self::Future, BoxError>;
}

macro_rules! impl_message_handler {
    ($($param:ident),*) => {
        impl<F, Fut, G, R, E, $($param,)*> MessageHandler<G, ($($param,)*)> for F
        where
            F: Fn(Arc<G>, $($param),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<R, E>> + Send + 'static,
            R: Serialize + Send + 'static,
            E: Into<BoxError> + Send + 'static,
            $($param: FromMessage,)*
        {
            type Reply = R;
            type Error = E;
            type Future = Fut;

            #[allow(non_snake_case, unused_variables)]
            fn call(&self, gateway: Arc<G>, message: &mut Message) -> Result<Fut, BoxError> {
                $(let $param = $param::from_message(message)?;)*
                Ok(self(gateway, $($param),*))
            }
        }
    };
}

impl_message_handler!();
impl_message_handler!(T1);
impl_message_handler!(T1, T2);
impl_message_handler!(T1, T2, T3);
impl_message_handler!(T1, T2, T3, T4);
impl_message_handler!(T1, T2, T3, T4, T5);
impl_message_handler!(T1, T2, T3, T4, T5, T6);
impl_message_handler!(T1, T2, T3, T4, T5, T6, T7);
impl_message_handler!(T1, T2, T3, T4, T5, T6, T7, T8);

/// The guards, filters and interceptors a message goes through, the gateway's and the
/// handler's together.
#[derive(Default, Clone)]
pub(crate) struct Chain {
    /// The gateway's, then the handler's.
    pub(crate) guards: Vec<Arc<dyn DynGuard>>,
    /// As declared; asked the last declared first, the handler's before the gateway's.
    pub(crate) filters: Vec<Arc<dyn ExceptionFilter>>,
    /// Outermost first: the gateway's, then the handler's.
    pub(crate) interceptors: Vec<Arc<dyn DynInterceptor>>,
}

impl Chain {
    /// This chain around `inner` (a handler's own chain inside its gateway's).
    pub(crate) fn around(&self, inner: &Chain) -> Chain {
        Chain {
            guards: self.guards.iter().chain(&inner.guards).cloned().collect(),
            filters: self.filters.iter().chain(&inner.filters).cloned().collect(),
            interceptors: self
                .interceptors
                .iter()
                .chain(&inner.interceptors)
                .cloned()
                .collect(),
        }
    }
}

/// What a route's handler needs at each message: its gateway, its event and its whole chain.
pub(crate) struct Wired<G> {
    pub(crate) gateway: Arc<G>,
    pub(crate) name: &'static str,
    pub(crate) event: Arc<str>,
    pub(crate) chain: Arc<Chain>,
}

/// Registers a route's handler on a socket.
type RegisterFn<G> = dyn Fn(&Socket, Arc<Wired<G>>) + Send + Sync;

/// A handler with its own guards, filters and interceptors (NestJS's `@UseGuards`,
/// `@UseFilters`, `@UseInterceptors` on a method).
pub struct Route<G> {
    register: Arc<RegisterFn<G>>,
    pub(crate) chain: Chain,
}

impl<G: Send + Sync + 'static> Route<G> {
    /// A route to `handler`.
    pub fn new<H, T>(handler: H) -> Route<G>
    where
        H: MessageHandler<G, T>,
        T: 'static,
    {
        let handler = Arc::new(handler);
        Route {
            // The handler is registered with its type, so that each message costs the one
            // boxed future the socket's handler table makes, as a closure's does.
            register: Arc::new(move |socket: &Socket, wired: Arc<Wired<G>>| {
                let event = wired.event.clone();
                // One pointer for both: a message clones it once.
                let bound = Arc::new((handler.clone(), wired));
                socket.on(
                    event.to_string(),
                    move |socket: Socket, ack: AckSender, args: Args| {
                        let ack = ack.requested().then_some(ack);
                        let message = Message::new(socket, bound.1.event.clone(), args, ack);
                        run(bound.clone(), message)
                    },
                );
            }),
            chain: Chain::default(),
        }
    }

    /// Registers the handler on `socket`.
    pub(crate) fn register(&self, socket: &Socket, wired: Arc<Wired<G>>) {
        (self.register)(socket, wired);
    }

    /// Adds a guard of this handler (after the gateway's).
    pub fn guard(mut self, guard: impl Guard) -> Self {
        self.chain.guards.push(Arc::new(guard));
        self
    }

    /// Adds an exception filter of this handler (asked before the gateway's; the last added
    /// first).
    pub fn filter(mut self, filter: impl ExceptionFilter) -> Self {
        self.chain.filters.push(Arc::new(filter));
        self
    }

    /// Adds an interceptor of this handler (inside the gateway's).
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.chain.interceptors.push(Arc::new(interceptor));
        self
    }
}

impl<G> std::fmt::Debug for Route<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("guards", &self.chain.guards.len())
            .field("filters", &self.chain.filters.len())
            .field("interceptors", &self.chain.interceptors.len())
            .finish()
    }
}

async fn run<G, H, T>(bound: Arc<(Arc<H>, Arc<Wired<G>>)>, mut message: Message)
where
    H: MessageHandler<G, T>,
{
    let (handler, wired) = (&bound.0, &bound.1);
    let (chain, name) = (&*wired.chain, wired.name);
    for guard in &chain.guards {
        let context = GuardContext::new(message.socket(), message.event(), message.args());
        if !guard.can_activate(context).await {
            return fail(WsException::forbidden().into(), message, chain, name);
        }
    }
    let running = match handler.call(wired.gateway.clone(), &mut message) {
        Ok(running) => running,
        Err(refused) => return fail(refused, message, chain, name),
    };
    if chain.interceptors.is_empty() {
        match running.await {
            Ok(reply) => send(&reply, &mut message, name),
            Err(error) => fail(error.into(), message, chain, name),
        }
        return;
    }
    let handled: BoxFuture<'_, Outcome> = Box::pin(async move {
        let reply = running.await.map_err(Into::into)?;
        Ok(to_value(&reply)?)
    });
    let outcome = {
        let context = InterceptContext::new(name, message.event(), message.socket());
        let mut next = handled;
        for interceptor in chain.interceptors.iter().rev() {
            next = interceptor.intercept(context, Next::new(next));
        }
        next.await
    };
    match outcome {
        Ok(reply) => send(&reply, &mut message, name),
        Err(error) => fail(error, message, chain, name),
    }
}

fn send<R: Serialize>(reply: &R, message: &mut Message, name: &'static str) {
    let ack = message.take_ack();
    if let Err(error) = deliver(reply, message.socket(), ack) {
        tracing::warn!(gateway = name, event = message.event(), %error, "[{name}] reply to \"{}\" not sent", message.event());
    }
}

/// Hands an error to the filters, the last one being the default.
fn fail(error: BoxError, message: Message, chain: &Chain, name: &'static str) {
    let (socket, event, args, ack) = message.into_parts();
    let mut host = ErrorHost::new(socket, name, event, args, ack);
    let mut error = error;
    // As NestJS: the last declared filter first, the handler's before the gateway's.
    for filter in chain.filters.iter().rev() {
        match filter.catch(error, &mut host) {
            Ok(()) => return,
            Err(unhandled) => error = unhandled,
        }
    }
    default_filter(error, &mut host);
}
