//! The admin namespace: its gate, what a UI gets when it connects (`session`, `config`,
//! `all_sockets`), `server_stats` every 2 seconds, and the UI's actions.

use std::sync::Arc;
use std::time::Duration;

use roomcast::payload::Spread;
use roomcast::value::Value;
use roomcast::{BoxError, BroadcastOperator, Namespace, RemoteSocket, Server, Sid, Socket};
use serde_json::json;
use tokio::sync::mpsc;

use crate::auth::Gate;
use crate::options::{AdminOptions, Auth, Mode};
use crate::serialize::SerializedSocket;
use crate::stats::{Counters, Identity};
use crate::watch::{Notice, Verbose, Watch};

/// How often `server_stats` goes out (the UI marks a server unhealthy after 10 s without).
const STATS_EVERY: Duration = Duration::from_secs(2);

/// Why the Admin UI could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum AdminError {
    /// The password hash is not a bcrypt hash.
    PasswordHash(String),
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminError::PasswordHash(error) => write!(f, "invalid bcrypt password hash: {error}"),
        }
    }
}

impl std::error::Error for AdminError {}

/// The UI's features, as `config` announces them.
fn features(options: &AdminOptions) -> Vec<&'static str> {
    let mut features = if options.readonly {
        Vec::new()
    } else {
        vec![
            "EMIT",
            "JOIN",
            "LEAVE",
            "DISCONNECT",
            "MJOIN",
            "MLEAVE",
            "MDISCONNECT",
        ]
    };
    features.push("AGGREGATED_EVENTS");
    if options.mode == Mode::Development {
        features.push("ALL_EVENTS");
    }
    features
}

/// Serves the official Admin UI's protocol on `io` (Node's `instrument(io, options)`): the UI
/// connects to `options.namespace` and sees this server — with a cluster adapter, every server
/// of the cluster — its namespaces, sockets, rooms and events, and acts on them unless
/// `readonly`.
///
/// ```no_run
/// # async fn demo() -> Result<(), roomcast_admin::AdminError> {
/// use roomcast_admin::{instrument, AdminOptions, Mode};
///
/// let io = roomcast::Server::new();
/// instrument(&io, AdminOptions { mode: Mode::Development, ..AdminOptions::default() })?;
/// # Ok(()) }
/// ```
pub fn instrument(io: &Server, options: AdminOptions) -> Result<(), AdminError> {
    if let Auth::Basic { password_hash, .. } = &options.auth {
        password_hash
            .parse::<bcrypt::HashParts>()
            .map_err(|error| AdminError::PasswordHash(error.to_string()))?;
    }
    let admin = io.of(&options.namespace);
    let counters = Arc::new(Counters::new(io.traffic()));
    let (notices, queue) = mpsc::unbounded_channel();
    let verbose = (options.mode == Mode::Development)
        .then(|| Arc::new(Verbose::new(notices, options.namespace.clone())));
    io.observe(Arc::new(Watch {
        counters: counters.clone(),
        verbose: verbose.clone(),
    }));
    if let Some(verbose) = &verbose {
        let watcher = Arc::downgrade(verbose);
        io.on_new_namespace(move |nsp: &Namespace| {
            if let Some(verbose) = watcher.upgrade() {
                verbose.watch_rooms(nsp);
            }
        });
        for nsp in io.namespaces() {
            verbose.watch_rooms(&nsp);
        }
        tokio::spawn(relay(admin.clone(), queue));
    }

    let identity = Identity::new(options.server_id.clone());
    let gate = Arc::new(Gate::new(options.auth.clone()));
    let checking = gate.clone();
    admin.use_(move |socket: Socket| {
        let gate = checking.clone();
        async move { gate.admit(&socket).await }
    });
    let options = Arc::new(options);
    admin.on_connect(move |socket: Socket| {
        let (gate, options) = (gate.clone(), options.clone());
        async move { welcome(&socket, &gate, &options).await }
    });
    tokio::spawn(stats(admin, identity, counters));
    Ok(())
}

/// A UI connected: its session, `config`, the sockets in development mode, and its actions.
async fn welcome(socket: &Socket, gate: &Gate, options: &AdminOptions) {
    if !options.readonly {
        register_actions(socket);
    }
    let send = |event: &str, data: &Value| {
        if let Err(error) = socket.emit(event, data) {
            tracing::debug!(%error, "{event} not sent to the admin UI");
        }
    };
    // After the CONNECT reply: the UI listens for it once connected, and keeps it.
    if let Some(session) = gate.take_issued(socket) {
        send("session", &Value::from(session));
    }
    let config = json!({ "supportedFeatures": features(options) });
    send(
        "config",
        &roomcast::value::to_value(&config).unwrap_or(Value::Null),
    );
    if options.mode != Mode::Development {
        return;
    }
    let Some(io) = socket.server() else {
        return;
    };
    let mut sockets = Vec::new();
    for nsp in io.namespaces() {
        // Every server's sockets; this server's in full (their client id and transport).
        let serialize = |found: &RemoteSocket| {
            let local = Sid::parse(found.id()).and_then(|id| nsp.get_socket(id));
            local.map_or_else(
                || SerializedSocket::remote(found),
                |socket| SerializedSocket::local(&socket),
            )
        };
        match nsp.fetch_sockets().await {
            Ok(found) => sockets.extend(found.iter().map(serialize)),
            Err(error) => {
                tracing::warn!(nsp = nsp.name(), %error, "sockets not listed for the admin UI")
            }
        }
    }
    send(
        "all_sockets",
        &roomcast::value::to_value(&sockets).unwrap_or(Value::Null),
    );
}

/// Emits the development-mode notices into the admin namespace, in order.
async fn relay(admin: Namespace, mut queue: mpsc::UnboundedReceiver<Notice>) {
    while let Some(notice) = queue.recv().await {
        if let Err(error) = admin.emit(notice.event, &Spread(&notice.args)).await {
            tracing::debug!(%error, "{} not sent to the admin UI", notice.event);
        }
    }
}

/// `server_stats` to every UI every 2 seconds, while the server exists.
async fn stats(admin: Namespace, identity: Identity, counters: Arc<Counters>) {
    let mut every = tokio::time::interval(STATS_EVERY);
    loop {
        every.tick().await;
        let Some(io) = admin.server() else {
            return;
        };
        let stats = identity.stats(&io, &counters);
        drop(io);
        if let Err(error) = admin.emit("server_stats", &stats).await {
            tracing::debug!(%error, "server_stats not sent");
        }
    }
}

/// The UI's actions: `join`, `leave`, `_disconnect` and `emit`, each on one namespace and, with
/// a filter (a room or socket id), on its members only.
fn register_actions(socket: &Socket) {
    socket.on(
        "join",
        |socket: Socket, (nsp, room, filter): (String, String, Option<String>)| async move {
            let target = target(&socket, &nsp, filter.as_deref())?;
            target.sockets_join(room.as_str()).await?;
            Ok::<_, BoxError>(())
        },
    );
    socket.on(
        "leave",
        |socket: Socket, (nsp, room, filter): (String, String, Option<String>)| async move {
            let target = target(&socket, &nsp, filter.as_deref())?;
            target.sockets_leave(room.as_str()).await?;
            Ok::<_, BoxError>(())
        },
    );
    socket.on(
        "_disconnect",
        |socket: Socket, (nsp, close, filter): (String, bool, Option<String>)| async move {
            let target = target(&socket, &nsp, filter.as_deref())?;
            target.disconnect_sockets(close).await?;
            Ok::<_, BoxError>(())
        },
    );
    socket.on("emit", |socket: Socket, args: roomcast::Args| async move {
        let mut values = args.into_values()?.into_iter();
        let (Some(Value::String(nsp)), filter, Some(Value::String(event))) =
            (values.next(), values.next(), values.next())
        else {
            return Err("emit takes a namespace, a filter and an event".into());
        };
        let rest: Vec<Value> = values.collect();
        let filter = match &filter {
            Some(Value::String(filter)) => Some(filter.as_str()),
            _ => None,
        };
        let target = target(&socket, &nsp, filter)?;
        target.emit(&event, &Spread(&rest)).await?;
        Ok::<_, BoxError>(())
    });
}

/// What an action targets, as Node's `io.of(nsp)` (and `.in(filter)`) finds it: the whole
/// namespace, or the members of one room or socket id.
fn target(socket: &Socket, nsp: &str, filter: Option<&str>) -> Result<BroadcastOperator, BoxError> {
    let io = socket.server().ok_or("the server is gone")?;
    let namespace = io.of(nsp);
    Ok(match filter {
        Some(filter) => namespace.in_(filter),
        None => namespace.broadcast(),
    })
}
