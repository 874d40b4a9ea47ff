//! Where namespaces are found: the ones created by name, and the dynamic ones, created on
//! first CONNECT from the template ([`ParentNamespace`]) whose pattern or predicate matches.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Weak};

use parking_lot::RwLock;
use regex::Regex;
use serde::Serialize;

use crate::adapter::{Adapter, RecoveryOptions};
use crate::error::{ConnectError, Error};
use crate::extensions::Extensions;
use crate::handler::{erase, BoxFuture, Handler};
use crate::limits::SocketLimits;
use crate::namespace::{middleware_of, ConnectHandler, EmptyHook, Middleware, Namespace, Settings};
use crate::observe::Observers;
use crate::packet::Parser;
use crate::socket::Socket;
use crate::value::Value;

/// Makes the adapter of each namespace, given its name.
pub type AdapterFactory = Arc<dyn Fn(&str) -> Arc<dyn Adapter> + Send + Sync>;

/// Told of each namespace created after it was registered (Node's `new_namespace`).
pub(crate) type NamespaceListener = Arc<dyn Fn(&Namespace) + Send + Sync>;

/// The namespaces of a server.
pub(crate) struct Registry {
    namespaces: Arc<RwLock<Namespaces>>,
    parents: RwLock<Vec<ParentNamespace>>,
    adapter: AdapterFactory,
    recovery: Option<RecoveryOptions>,
    listeners: RwLock<Vec<NamespaceListener>>,
    extensions: Arc<Extensions>,
    observers: Arc<Observers>,
    /// Whether a dynamic namespace's child goes when its last socket leaves.
    cleanup_empty_children: bool,
    /// What each socket may hold and send.
    limits: Arc<SocketLimits>,
    /// How packets are encoded.
    parser: Parser,
}

/// The namespaces, by name and in creation order.
#[derive(Default)]
struct Namespaces {
    by_name: HashMap<Arc<str>, Namespace>,
    ordered: Vec<Namespace>,
}

/// `name` with a leading `/`.
fn normalize(name: &str) -> String {
    if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("/{name}")
    }
}

impl Registry {
    pub(crate) fn new(
        adapter: AdapterFactory,
        recovery: Option<RecoveryOptions>,
        cleanup_empty_children: bool,
        limits: SocketLimits,
        parser: Parser,
    ) -> Registry {
        Registry {
            namespaces: Arc::new(RwLock::new(Namespaces::default())),
            parents: RwLock::new(Vec::new()),
            adapter,
            recovery,
            listeners: RwLock::new(Vec::new()),
            extensions: Arc::default(),
            observers: Arc::default(),
            cleanup_empty_children,
            limits: Arc::new(limits),
            parser,
        }
    }

    /// The observers of the server.
    pub(crate) fn observers(&self) -> &Arc<Observers> {
        &self.observers
    }

    /// What the server provides to every namespace.
    pub(crate) fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Calls `listener` for every namespace created from now on.
    pub(crate) fn on_new_namespace(&self, listener: NamespaceListener) {
        self.listeners.write().push(listener);
    }

    /// The namespace `name`, created if needed (a missing leading `/` is added).
    pub(crate) fn of(&self, name: &str) -> Namespace {
        let name = normalize(name);
        if let Some(nsp) = self.namespaces.read().by_name.get(name.as_str()) {
            return nsp.clone();
        }
        self.create(name, None)
    }

    fn create(&self, name: String, parent: Option<&ParentNamespace>) -> Namespace {
        let nsp = {
            let mut namespaces = self.namespaces.write();
            if let Some(nsp) = namespaces.by_name.get(name.as_str()) {
                return nsp.clone();
            }
            self.insert(&mut namespaces, name, parent)
        };
        let listeners = self.listeners.read().clone();
        for listener in listeners {
            listener(&nsp);
        }
        nsp
    }

    fn insert(
        &self,
        namespaces: &mut Namespaces,
        name: String,
        parent: Option<&ParentNamespace>,
    ) -> Namespace {
        let name: Arc<str> = name.into();
        let nsp = Namespace::new(
            name.clone(),
            (self.adapter)(&name),
            Settings {
                recovery: self.recovery.clone(),
                extensions: self.extensions.clone(),
                limits: self.limits.clone(),
                parser: self.parser,
            },
            self.observers.clone(),
            self.observers.clone(),
            self.observers.watching().clone(),
        );
        if let Some(parent) = parent {
            nsp.copy_handlers_from(
                &parent.inner.middleware.read(),
                &parent.inner.connect_handlers.read(),
            );
            parent.inner.children.write().push(nsp.clone());
            if self.cleanup_empty_children {
                nsp.when_empty(remove_when_empty(
                    Arc::downgrade(&self.namespaces),
                    Arc::downgrade(&parent.inner),
                ));
            }
        }
        namespaces.by_name.insert(name, nsp.clone());
        namespaces.ordered.push(nsp.clone());
        tracing::debug!(nsp = nsp.name(), "namespace created");
        nsp
    }

    /// The namespace a CONNECT names: an existing one, or a new child of the first dynamic
    /// namespace that matches.
    pub(crate) async fn namespace_for(&self, name: &str, auth: &Value) -> Option<Namespace> {
        if let Some(nsp) = self.namespaces.read().by_name.get(name) {
            return Some(nsp.clone());
        }
        let parents = self.parents.read().clone();
        for parent in parents {
            if parent.matches(name, auth).await {
                return Some(self.create(name.to_owned(), Some(&parent)));
            }
        }
        None
    }

    /// Adds a dynamic namespace, matched after those added before it.
    pub(crate) fn add_parent(&self, matcher: Matcher) -> ParentNamespace {
        let parent = ParentNamespace {
            inner: Arc::new(ParentInner {
                matcher,
                middleware: RwLock::new(Vec::new()),
                connect_handlers: RwLock::new(Vec::new()),
                children: RwLock::new(Vec::new()),
            }),
        };
        self.parents.write().push(parent.clone());
        parent
    }

    /// Every namespace, in creation order.
    pub(crate) fn namespaces(&self) -> Vec<Namespace> {
        self.namespaces.read().ordered.clone()
    }
}

/// Removes an emptied child namespace from the server and from its parent, and releases its
/// adapter (Node's `cleanupEmptyChildNamespaces`). A socket that arrived meanwhile keeps it.
fn remove_when_empty(namespaces: Weak<RwLock<Namespaces>>, parent: Weak<ParentInner>) -> EmptyHook {
    Arc::new(move |nsp: &Namespace| {
        let (Some(namespaces), Some(parent)) = (namespaces.upgrade(), parent.upgrade()) else {
            return;
        };
        {
            let mut namespaces = namespaces.write();
            if nsp.socket_count() > 0 {
                return;
            }
            let name = nsp.name();
            if namespaces
                .by_name
                .get(name)
                .is_some_and(|found| found.same(nsp))
            {
                namespaces.by_name.remove(name);
            }
            namespaces.ordered.retain(|kept| !kept.same(nsp));
        }
        parent.children.write().retain(|kept| !kept.same(nsp));
        tracing::debug!(nsp = nsp.name(), "empty child namespace removed");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let nsp = nsp.clone();
            runtime.spawn(async move { nsp.close_adapter().await });
        }
    })
}

type Predicate = Arc<dyn Fn(String, Value) -> BoxFuture<'static, bool> + Send + Sync>;

/// How a dynamic namespace recognizes its names.
pub(crate) enum Matcher {
    /// A regular expression over the whole name.
    Regex(Regex),
    /// An async predicate over the name and the handshake `auth`.
    Predicate(Predicate),
}

impl Matcher {
    /// A predicate matcher from a closure.
    pub(crate) fn predicate<F, Fut>(predicate: F) -> Matcher
    where
        F: Fn(String, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        Matcher::Predicate(Arc::new(move |name, auth| Box::pin(predicate(name, auth))))
    }
}

/// A dynamic namespace (Node's `ParentNamespace`): the template of every namespace created
/// from it. Its middleware and connect handlers are given to each child when it is created.
///
/// ```no_run
/// use roomcast::{Server, Socket};
///
/// let io = Server::new();
/// let orgs = io.of_regex(r"^/org-[a-z0-9-]+$").unwrap();
/// orgs.on_connect(|socket: Socket| async move {
///     let _ = socket.emit("welcome", socket.ns());
/// });
/// ```
#[derive(Clone)]
pub struct ParentNamespace {
    inner: Arc<ParentInner>,
}

struct ParentInner {
    matcher: Matcher,
    middleware: RwLock<Vec<Middleware>>,
    connect_handlers: RwLock<Vec<ConnectHandler>>,
    children: RwLock<Vec<Namespace>>,
}

impl ParentNamespace {
    async fn matches(&self, name: &str, auth: &Value) -> bool {
        match &self.inner.matcher {
            Matcher::Regex(regex) => regex.is_match(name),
            Matcher::Predicate(predicate) => predicate(name.to_owned(), auth.clone()).await,
        }
    }

    /// Registers a connect handler for every child namespace (as
    /// [`Namespace::on_connect`]).
    pub fn on_connect<H, T>(&self, handler: H)
    where
        H: Handler<Socket, T>,
        T: 'static,
    {
        self.inner.connect_handlers.write().push(erase(handler));
    }

    /// Adds middleware for every child namespace.
    pub fn use_<F, Fut>(&self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.inner
            .middleware
            .write()
            .push(middleware_of(middleware));
    }

    /// The namespaces created from this one so far.
    pub fn children(&self) -> Vec<Namespace> {
        self.inner.children.read().clone()
    }

    /// Sends an event to every socket of every child namespace.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        for child in self.children() {
            child.emit(event, data).await?;
        }
        Ok(())
    }
}

impl fmt::Debug for ParentNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParentNamespace")
            .field("children", &self.children())
            .finish_non_exhaustive()
    }
}
