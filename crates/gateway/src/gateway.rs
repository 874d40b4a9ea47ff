//! A gateway as a whole (NestJS's `@WebSocketGateway` class): its namespace, its handlers, its
//! lifecycle hooks, its guards, filters and interceptors; and how it is registered on a server.

use std::future::Future;
use std::sync::Arc;

use roomcast::value::Value;
use roomcast::{BoxError, BoxFuture, DisconnectReason, Namespace, ParentNamespace, Server, Socket};

use crate::filter::ExceptionFilter;
use crate::guard::{ConnectionGuard, DynConnectionGuard, Guard};
use crate::handler::{Chain, Route, Wired};
use crate::interceptor::Interceptor;

/// The namespace of a gateway: a name, or a dynamic namespace (every name matching a regular
/// expression, or accepted by a predicate over the name and the handshake `auth`).
pub enum NamespaceSpec {
    /// One namespace, e.g. `/chat`.
    Name(String),
    /// Every namespace whose whole name matches, e.g. `^/org-[a-z0-9-]+$`.
    Regex(String),
    /// Every namespace the predicate accepts.
    Predicate(Arc<dyn Fn(String, Value) -> BoxFuture<'static, bool> + Send + Sync>),
}

impl NamespaceSpec {
    /// One namespace.
    pub fn name(name: impl Into<String>) -> NamespaceSpec {
        NamespaceSpec::Name(name.into())
    }

    /// Every namespace whose name matches `pattern`.
    pub fn regex(pattern: impl Into<String>) -> NamespaceSpec {
        NamespaceSpec::Regex(pattern.into())
    }

    /// Every namespace `predicate` accepts.
    pub fn predicate<F, Fut>(predicate: F) -> NamespaceSpec
    where
        F: Fn(String, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        NamespaceSpec::Predicate(Arc::new(move |name, auth| Box::pin(predicate(name, auth))))
    }
}

impl std::fmt::Debug for NamespaceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NamespaceSpec::Name(name) => write!(f, "Name({name:?})"),
            NamespaceSpec::Regex(pattern) => write!(f, "Regex({pattern:?})"),
            NamespaceSpec::Predicate(_) => f.write_str("Predicate"),
        }
    }
}

type InitHook<G> = Arc<dyn Fn(Arc<G>, Namespace) -> BoxFuture<'static, ()> + Send + Sync>;
type ConnectionHook<G> =
    Arc<dyn Fn(Arc<G>, Socket) -> BoxFuture<'static, Result<(), BoxError>> + Send + Sync>;
type DisconnectHook<G> =
    Arc<dyn Fn(Arc<G>, Socket, DisconnectReason) -> BoxFuture<'static, ()> + Send + Sync>;

/// Everything a gateway declares. The `#[gateway]` attribute writes it from an impl block;
/// code without macros builds it by hand.
///
/// ```
/// use std::sync::Arc;
/// use roomcast::Socket;
/// use roomcast_gateway::{Body, Declaration, Gateway, NamespaceSpec, Route};
///
/// struct EchoGateway;
///
/// impl EchoGateway {
///     async fn echo(&self, Body(text): Body<String>) -> String {
///         text
///     }
/// }
///
/// impl Gateway for EchoGateway {
///     fn declare(&self) -> Declaration<Self> {
///         Declaration::new("EchoGateway", NamespaceSpec::name("/")).route(
///             "echo",
///             Route::new(|gateway: Arc<Self>, body: Body<String>| async move {
///                 Ok::<_, std::convert::Infallible>(gateway.echo(body).await)
///             }),
///         )
///     }
/// }
/// ```
pub struct Declaration<G> {
    name: &'static str,
    namespace: NamespaceSpec,
    routes: Vec<(Arc<str>, Route<G>)>,
    chain: Chain,
    connection_guards: Vec<Arc<dyn DynConnectionGuard>>,
    on_init: Option<InitHook<G>>,
    on_connection: Option<ConnectionHook<G>>,
    on_disconnect: Option<DisconnectHook<G>>,
}

impl<G: Send + Sync + 'static> Declaration<G> {
    /// A gateway named `name` (in logs) on `namespace`.
    pub fn new(name: &'static str, namespace: NamespaceSpec) -> Declaration<G> {
        Declaration {
            name,
            namespace,
            routes: Vec::new(),
            chain: Chain::default(),
            connection_guards: Vec::new(),
            on_init: None,
            on_connection: None,
            on_disconnect: None,
        }
    }

    /// Handles `event` with `route` (`@SubscribeMessage(event)`).
    pub fn route(mut self, event: &str, route: Route<G>) -> Self {
        self.routes.push((event.into(), route));
        self
    }

    /// Adds a guard of every handler of the gateway.
    pub fn guard(mut self, guard: impl Guard) -> Self {
        self.chain.guards.push(Arc::new(guard));
        self
    }

    /// Adds a guard of the connections to the gateway's namespace.
    pub fn connection_guard(mut self, guard: impl ConnectionGuard) -> Self {
        self.connection_guards.push(Arc::new(guard));
        self
    }

    /// Adds an exception filter of every handler of the gateway (asked after the handler's; the
    /// last added first).
    pub fn filter(mut self, filter: impl ExceptionFilter) -> Self {
        self.chain.filters.push(Arc::new(filter));
        self
    }

    /// Adds an interceptor around every handler of the gateway.
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.chain.interceptors.push(Arc::new(interceptor));
        self
    }

    /// Runs once the gateway's namespace exists (`afterInit`; for a dynamic namespace, once
    /// per namespace created).
    pub fn on_init<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Arc<G>, Namespace) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_init = Some(Arc::new(move |gateway, nsp| Box::pin(hook(gateway, nsp))));
        self
    }

    /// Runs for each socket that connects (`handleConnection`), once its handlers are in
    /// place; an error is logged.
    pub fn on_connection<F, Fut, E>(mut self, hook: F) -> Self
    where
        F: Fn(Arc<G>, Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        self.on_connection = Some(Arc::new(move |gateway, socket| {
            let running = hook(gateway, socket);
            Box::pin(async move { running.await.map_err(Into::into) })
        }));
        self
    }

    /// Runs for each socket that disconnects, with the reason (`handleDisconnect`).
    pub fn on_disconnect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Arc<G>, Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_disconnect = Some(Arc::new(move |gateway, socket, reason| {
            Box::pin(hook(gateway, socket, reason))
        }));
        self
    }
}

impl<G> std::fmt::Debug for Declaration<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Declaration")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field(
                "events",
                &self
                    .routes
                    .iter()
                    .map(|(event, _)| event)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A gateway: a type whose [`Declaration`] says what it serves. Usually written by the
/// `#[gateway]` attribute, whose guard, filter and interceptor expressions may use `self` (a
/// guard built from the gateway's configuration, say).
pub trait Gateway: Send + Sync + Sized + 'static {
    /// The gateway's declaration.
    fn declare(&self) -> Declaration<Self>;
}

/// Why a gateway could not be registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The namespace pattern is not a regular expression.
    #[error("invalid namespace pattern: {0}")]
    Pattern(String),
}

/// What every socket of the gateway shares: the gateway, its routes with their chains.
struct Wiring<G> {
    gateway: Arc<G>,
    name: &'static str,
    routes: Vec<(Route<G>, Arc<Wired<G>>)>,
    on_connection: Option<ConnectionHook<G>>,
    on_disconnect: Option<DisconnectHook<G>>,
}

/// Registers `gateway` on `io`: its namespace (created if needed) gets its connection guards,
/// and each socket that connects gets its handlers; `after_init` has run when this returns
/// (for a dynamic namespace, it runs for each namespace created). Returns the gateway, shared
/// with its handlers.
///
/// ```no_run
/// # use roomcast::Server;
/// # use roomcast_gateway::{register, Gateway};
/// # async fn demo<G: Gateway>(io: Server, gateway: G) -> Result<(), roomcast_gateway::GatewayError> {
/// let gateway = register(&io, gateway).await?;
/// # Ok(()) }
/// ```
pub async fn register<G: Gateway>(io: &Server, gateway: G) -> Result<Arc<G>, GatewayError> {
    let declaration = gateway.declare();
    let gateway = Arc::new(gateway);
    let Declaration {
        name,
        namespace,
        routes,
        chain,
        connection_guards,
        on_init,
        on_connection,
        on_disconnect,
    } = declaration;
    for (event, _) in &routes {
        tracing::info!("[WebSocketsController] {name} subscribed to the \"{event}\" message");
    }
    let wiring = Arc::new(Wiring {
        gateway: gateway.clone(),
        name,
        routes: routes
            .into_iter()
            .map(|(event, route)| {
                let wired = Arc::new(Wired {
                    gateway: gateway.clone(),
                    name,
                    event,
                    chain: Arc::new(chain.around(&route.chain)),
                });
                (route, wired)
            })
            .collect(),
        on_connection,
        on_disconnect,
    });
    let guards = Arc::new(connection_guards);
    let middleware = move |socket: Socket| {
        let guards = guards.clone();
        async move {
            for guard in guards.iter() {
                guard.can_connect(&socket).await?;
            }
            Ok(())
        }
    };
    let connect = {
        let wiring = wiring.clone();
        move |socket: Socket| connected(wiring.clone(), socket)
    };
    match namespace {
        NamespaceSpec::Name(nsp) => {
            let nsp = io.of(&nsp);
            nsp.use_(middleware);
            nsp.on_connect(connect);
            if let Some(hook) = on_init {
                hook(gateway.clone(), nsp).await;
            }
        }
        NamespaceSpec::Regex(pattern) => {
            let parent = io
                .of_regex(&pattern)
                .map_err(|error| GatewayError::Pattern(error.to_string()))?;
            wire_parent(io, &parent, middleware, connect, on_init, &gateway);
        }
        NamespaceSpec::Predicate(predicate) => {
            let parent = io.of_fn(move |name, auth| predicate(name, auth));
            wire_parent(io, &parent, middleware, connect, on_init, &gateway);
        }
    }
    Ok(gateway)
}

fn wire_parent<G, M, MF, C, CF>(
    io: &Server,
    parent: &ParentNamespace,
    middleware: M,
    connect: C,
    on_init: Option<InitHook<G>>,
    gateway: &Arc<G>,
) where
    G: Send + Sync + 'static,
    M: Fn(Socket) -> MF + Send + Sync + 'static,
    MF: Future<Output = Result<(), roomcast::ConnectError>> + Send + 'static,
    C: Fn(Socket) -> CF + Send + Sync + 'static,
    CF: Future<Output = ()> + Send + 'static,
{
    parent.use_(middleware);
    parent.on_connect(connect);
    if let Some(hook) = on_init {
        let (parent, gateway) = (parent.clone(), gateway.clone());
        io.on_new_namespace(move |nsp: &Namespace| {
            if parent
                .children()
                .iter()
                .any(|child| child.name() == nsp.name())
            {
                tokio::spawn(hook(gateway.clone(), nsp.clone()));
            }
        });
    }
}

/// A socket joined the gateway's namespace: its handlers, then `handle_connection`.
async fn connected<G: Send + Sync + 'static>(wiring: Arc<Wiring<G>>, socket: Socket) {
    for (route, wired) in &wiring.routes {
        route.register(&socket, wired.clone());
    }
    if let Some(hook) = &wiring.on_disconnect {
        let (hook, gateway) = (hook.clone(), wiring.gateway.clone());
        socket.on_disconnect(move |socket, reason| hook(gateway.clone(), socket, reason));
    }
    if let Some(hook) = &wiring.on_connection {
        let id = socket.id();
        if let Err(error) = hook(wiring.gateway.clone(), socket).await {
            let name = wiring.name;
            tracing::error!("[{name}] handleConnection failed for socket {id}: {error}");
        }
    }
}
