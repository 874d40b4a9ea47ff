//! The probe: roomcast's server-side API exposed through events, as ../shared/CONTRACT.md
//! describes, so that one black-box client drives roomcast, Node's socket.io and others alike.
//!
//! Env: `PORT` (3000), `PING_INTERVAL` / `PING_TIMEOUT` (ms), `PROTOCOL_SUITE=1` (serves the
//! official Engine.IO / Socket.IO protocol test suites), `ADAPTER` (`memory`, `redis`,
//! `redis-sharded`, `redis-streams`) with `REDIS_URL` (comma-separated: a Redis Cluster's seed
//! nodes), `REDIS_KEY` (channel prefix; with `redis-streams` also the stream's name),
//! `REDIS_SUBSCRIPTION_MODE`, `REDIS_REQUESTS_TIMEOUT` (ms), `REDIS_STREAM_COUNT` and
//! `REDIS_SHARDED_PUBSUB=1` (streams); `RECOVERY=1` (connection state recovery, sessions kept
//! `RECOVERY_MAX_DISCONNECTION_MS`, default 2 minutes); `ECHO_GATEWAY=1` serves `echo` on `/`
//! from a roomcast-gateway gateway instead of a closure (to measure one against the other);
//! `METRICS=1` counts with roomcast-metrics and serves them at `/metrics`; `ADMIN_UI=1` serves
//! the Admin UI's protocol on `/admin-ui` (development mode unless `ADMIN_UI_MODE=production`,
//! `ADMIN_UI_READONLY=1`, user `admin` with password `ADMIN_UI_PASSWORD` when set, else no auth,
//! server id `ADMIN_UI_SERVER_ID`, default the host name); `CLEANUP_EMPTY_CHILD_NAMESPACES=1`
//! removes a dynamic namespace's child when its last socket leaves.

use std::future::Future;
use std::time::Duration;

use roomcast::packet::Parser;
use roomcast::payload::Spread;
use roomcast::{
    AckSender, AdapterFactory, Args, BroadcastOperator, ConnectError, EventRate, Namespace,
    OverRate, RecoveryOptions, Server, ServerOptions, Socket, SocketLimits, Value,
};
use roomcast_admin::{instrument, AdminOptions, Auth, Mode};
use roomcast_engineio::{serve_with, Config, Cors, Engine, EngineLayer};
use roomcast_examples::{
    env_millis, env_number, http_options, init_tracing, port, raise_open_file_limit,
    shutdown_signal, Echo,
};
use roomcast_metrics::Metrics;
use roomcast_redis::{RedisAdapter, SubscriptionMode};
use serde_json::json;
use tower_layer::Layer;

/// What a probe handler answers: the acknowledgement's arguments, or a failure message that is
/// acknowledged as `{ error: message }`.
type Reply = Result<Args, String>;

/// One acknowledgement argument.
fn one(value: impl serde::Serialize) -> Reply {
    roomcast::value::to_value(&value)
        .map(|value| Args::from_values(vec![value]))
        .map_err(|error| error.to_string())
}

/// Listens to `event`; the handler gets the socket and the event's first argument.
fn register<F, Fut>(socket: &Socket, event: &'static str, handler: F)
where
    F: Fn(Socket, Args) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    socket.on(event, move |socket: Socket, args: Args, ack: AckSender| {
        let handler = handler.clone();
        async move {
            let sent = match handler(socket, args).await {
                Ok(reply) => ack.send(&reply),
                Err(message) => ack.send(&json!({ "error": message })),
            };
            match sent {
                Ok(()) => {}
                // The connection is gone or going: the engine logged why, once.
                Err(error @ (roomcast::Error::Disconnected | roomcast::Error::QueueFull)) => {
                    tracing::debug!(event, %error, "acknowledgement not sent")
                }
                Err(error) => tracing::warn!(event, %error, "acknowledgement not sent"),
            }
        }
    });
}

/// The first argument, `Null` when there is none.
fn first(args: &Args) -> Result<Value, String> {
    let values = args.to_values().map_err(|error| error.to_string())?;
    Ok(values.into_iter().next().unwrap_or(Value::Null))
}

/// The request object the contract's events take: absent reads as empty, anything else but an
/// object is refused (as destructuring refuses it in JavaScript).
fn options(args: &Args) -> Result<Value, String> {
    if args.is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    match first(args)? {
        object @ Value::Object(_) => Ok(object),
        other => Err(format!("expected a request object, got {}", other.kind())),
    }
}

/// An object from its fields (keeping binary values as binary).
fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    )
}

/// `undefined`, a string or an array of strings, as a list (an empty list means "absent").
fn list(value: Option<&Value>) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(room)) => Ok(vec![room.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| "rooms must be strings".to_owned())
            })
            .collect(),
        Some(other) => Err(format!(
            "expected a room or a list of rooms, got {}",
            other.kind()
        )),
    }
}

fn field<'a>(opts: &'a Value, name: &str) -> Option<&'a Value> {
    opts.get(name)
}

fn text(opts: &Value, name: &str) -> Result<String, String> {
    field(opts, name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("`{name}` must be a string"))
}

fn arguments(opts: &Value) -> Args {
    let values = field(opts, "args")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Args::from_values(values)
}

fn timeout(opts: &Value) -> Result<Duration, String> {
    field(opts, "timeoutMs")
        .and_then(Value::as_u64)
        .map(Duration::from_millis)
        .ok_or_else(|| "`timeoutMs` must be a number".to_owned())
}

fn target(nsp: &Namespace, rooms: Vec<String>) -> BroadcastOperator {
    nsp.in_(rooms)
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

fn rooms_of(socket: &Socket) -> Vec<String> {
    sorted(
        socket
            .rooms()
            .iter()
            .map(|room| room.as_str().to_owned())
            .collect(),
    )
}

/// The events of the contract's table.
fn register_probe_events(socket: &Socket) {
    register(socket, "join", |socket, args| async move {
        let rooms = list(Some(&first(&args)?))?;
        socket
            .join(rooms)
            .await
            .map_err(|error| error.to_string())?;
        one(rooms_of(&socket))
    });
    register(socket, "leave", |socket, args| async move {
        let room = first(&args)?;
        let room = room.as_str().ok_or("the room must be a string")?;
        socket
            .leave(room)
            .await
            .map_err(|error| error.to_string())?;
        one(rooms_of(&socket))
    });
    register(socket, "broadcast", |socket, args| async move {
        let opts = options(&args)?;
        let origin = match field(&opts, "from").and_then(Value::as_str) {
            Some("server") => socket.namespace().broadcast(),
            Some("socket") => socket.broadcast(),
            other => return Err(format!("unknown origin: {other:?}")),
        };
        let operator = origin
            .to(list(field(&opts, "to"))?)
            .except(list(field(&opts, "except"))?);
        let event = text(&opts, "event")?;
        operator
            .emit(&event, &arguments(&opts))
            .await
            .map_err(|error| error.to_string())?;
        one(true)
    });
    register(socket, "fetch", |socket, args| async move {
        let opts = options(&args)?;
        let sockets = target(socket.namespace(), list(field(&opts, "in"))?)
            .fetch_sockets()
            .await
            .map_err(|error| error.to_string())?;
        one(sorted(sockets.iter().map(|s| s.id().to_owned()).collect()))
    });
    register(socket, "rooms", |socket, _args| async move {
        one(socket.namespace().rooms())
    });
    register(socket, "socketsJoin", |socket, args| async move {
        let opts = options(&args)?;
        target(socket.namespace(), list(field(&opts, "in"))?)
            .sockets_join(list(field(&opts, "rooms"))?)
            .await
            .map_err(|error| error.to_string())?;
        one(true)
    });
    register(socket, "socketsLeave", |socket, args| async move {
        let opts = options(&args)?;
        target(socket.namespace(), list(field(&opts, "in"))?)
            .sockets_leave(list(field(&opts, "rooms"))?)
            .await
            .map_err(|error| error.to_string())?;
        one(true)
    });
    socket.on(
        "kick",
        |socket: Socket, args: Args, ack: AckSender| async move {
            let request = options(&args).and_then(|opts| {
                let close = field(&opts, "close")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                Ok((list(field(&opts, "in"))?, close))
            });
            let (rooms, close) = match request {
                Ok(request) => request,
                Err(message) => {
                    let _ = ack.send(&json!({ "error": message }));
                    return;
                }
            };
            // Acknowledged first: the caller may be among the kicked.
            let _ = ack.send(&true);
            if let Err(error) = target(socket.namespace(), rooms)
                .disconnect_sockets(close)
                .await
            {
                tracing::warn!(%error, "kick failed");
            }
        },
    );
    register(socket, "echo", |_socket, args| async move { Ok(args) });
    register(socket, "requestAck", |socket, args| async move {
        let opts = options(&args)?;
        let event = text(&opts, "event")?;
        let answer = socket
            .timeout(timeout(&opts)?)
            .emit_with_ack::<_, Args>(&event, &arguments(&opts))
            .await;
        let reply = match answer {
            Ok(resp) => {
                let resp = resp.into_values().map_err(|error| error.to_string())?;
                object([("err", Value::Null), ("resp", Value::Array(resp))])
            }
            Err(error) => object([
                ("err", error.to_string().into()),
                ("resp", Value::Array(Vec::new())),
            ]),
        };
        one(reply)
    });
    register(socket, "broadcastWithAck", |socket, args| async move {
        let opts = options(&args)?;
        let event = text(&opts, "event")?;
        let answer = target(socket.namespace(), list(field(&opts, "to"))?)
            .timeout(timeout(&opts)?)
            .emit_with_ack::<_, Value>(&event, &arguments(&opts))
            .await;
        let reply = match answer {
            Ok(responses) => object([("err", Value::Null), ("responses", Value::Array(responses))]),
            Err(partial) => object([
                ("err", partial.error.to_string().into()),
                ("responses", Value::Array(partial.responses)),
            ]),
        };
        one(reply)
    });
    register(socket, "serverSideEmit", |socket, args| async move {
        let opts = options(&args)?;
        let event = text(&opts, "event")?;
        socket
            .namespace()
            .server_side_emit(&event, &arguments(&opts))
            .await
            .map_err(|error| error.to_string())?;
        one(true)
    });
    register(socket, "blast", |socket, args| async move {
        let opts = options(&args)?;
        let event = text(&opts, "event")?;
        let count = field(&opts, "count")
            .and_then(Value::as_u64)
            .ok_or("`count` must be a number")?;
        let payload = field(&opts, "payload").cloned().unwrap_or(Value::Null);
        let operator = target(socket.namespace(), list(field(&opts, "to"))?);
        for i in 0..count {
            operator
                .emit(&event, &(i, &payload))
                .await
                .map_err(|error| error.to_string())?;
        }
        one(count)
    });
}

/// The extra events the Socket.IO protocol suite sends.
fn register_suite_events(socket: &Socket) {
    socket.on("message", |socket: Socket, args: Args| async move {
        if let Err(error) = socket.emit("message-back", &args) {
            tracing::warn!(%error, "message-back not sent");
        }
    });
    register(socket, "message-with-ack", |_socket, args| async move {
        Ok(args)
    });
}

fn on_connection(socket: &Socket, suite: bool) {
    register_probe_events(socket);
    let auth = &socket.handshake().auth;
    let greeting = if suite {
        register_suite_events(socket);
        socket.emit("auth", auth)
    } else {
        let hello = object([
            ("id", socket.id().as_str().into()),
            ("nsp", socket.ns().into()),
            ("auth", auth.clone()),
            ("recovered", socket.recovered().into()),
        ]);
        socket.emit("hello", &hello)
    };
    if let Err(error) = greeting {
        tracing::warn!(%error, "greeting not sent");
    }
}

fn build(io: &Server, suite: bool) {
    for name in ["/", "/chat", "/custom"] {
        io.of(name)
            .on_connect(move |socket: Socket| async move { on_connection(&socket, suite) });
    }
    match io.of_regex("^/org-[a-z0-9-]+$") {
        Ok(orgs) => {
            orgs.on_connect(move |socket: Socket| async move { on_connection(&socket, suite) })
        }
        Err(error) => tracing::error!(%error, "dynamic namespace pattern refused"),
    }
    let admin = io.of("/admin");
    admin.use_(|socket: Socket| async move {
        match socket.handshake().auth.get("token").and_then(Value::as_str) {
            Some("secret") => Ok(()),
            _ => Err(ConnectError::new("unauthorized")),
        }
    });
    let server = io.clone();
    admin.on_connect(move |socket: Socket| {
        let server = server.clone();
        async move {
            register(&socket, "stats", move |_socket, _args| {
                let server = server.clone();
                async move {
                    let counts: serde_json::Map<String, serde_json::Value> = server
                        .namespaces()
                        .iter()
                        .map(|nsp| (nsp.name().to_owned(), json!(nsp.socket_count())))
                        .collect();
                    one(json!({ "namespaces": counts }))
                }
            });
            on_connection(&socket, suite);
        }
    });
}

/// The per-socket limits from `MAX_ROOMS_PER_SOCKET`, `MAX_PENDING_ACKS` and `EVENT_RATE`
/// (events per second; with `EVENT_BURST`, default the rate, and `EVENT_RATE_OVER`, `drop` or
/// `disconnect`).
fn socket_limits() -> Result<SocketLimits, Box<dyn std::error::Error>> {
    let mut limits = SocketLimits::default();
    limits.max_rooms = env_number("MAX_ROOMS_PER_SOCKET")?;
    limits.max_pending_acks = env_number("MAX_PENDING_ACKS")?;
    if let Some(per_second) = env_number("EVENT_RATE")? {
        let over = match std::env::var("EVENT_RATE_OVER").as_deref() {
            Ok("disconnect") => OverRate::Disconnect,
            Ok("drop") | Err(_) => OverRate::Drop,
            Ok(other) => {
                return Err(
                    format!("EVENT_RATE_OVER must be drop or disconnect, got {other:?}").into(),
                )
            }
        };
        let burst = env_number("EVENT_BURST")?.unwrap_or(per_second);
        limits.event_rate = Some(EventRate::new(per_second, burst, over));
    }
    Ok(limits)
}

/// Whether the variable `name` is `1`.
fn flag(name: &str) -> bool {
    std::env::var(name).as_deref() == Ok("1")
}

/// The Admin UI's options from `ADMIN_UI_MODE`, `ADMIN_UI_READONLY`, `ADMIN_UI_PASSWORD` and
/// `ADMIN_UI_SERVER_ID`.
async fn admin_ui_options() -> Result<AdminOptions, Box<dyn std::error::Error>> {
    let auth = match std::env::var("ADMIN_UI_PASSWORD") {
        Ok(password) => Auth::Basic {
            username: "admin".into(),
            password_hash: tokio::task::spawn_blocking(move || bcrypt::hash(password, 10))
                .await??,
        },
        Err(_) => Auth::None,
    };
    Ok(AdminOptions {
        namespace: "/admin-ui".into(),
        auth,
        readonly: flag("ADMIN_UI_READONLY"),
        mode: match std::env::var("ADMIN_UI_MODE").as_deref() {
            Ok("production") => Mode::Production,
            _ => Mode::Development,
        },
        server_id: std::env::var("ADMIN_UI_SERVER_ID").ok(),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    roomcast_examples::allocator::return_freed_memory_at_once();
    init_tracing();
    let suite = std::env::var("PROTOCOL_SUITE").is_ok_and(|value| value == "1");
    // The protocol suites expect requests from different connections to be handled in the order
    // they arrive, as Node's single event loop does (a poll sent just before a close packet is
    // answered by it): in suite mode the probe runs on one thread.
    let runtime = if suite {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        roomcast_examples::runtime::multi_thread()?
    };
    runtime.block_on(run(suite))
}

/// The adapter `ADAPTER` names, over `REDIS_URL` (comma-separated URLs: the seed nodes of a
/// Redis Cluster), `REDIS_KEY` and `REDIS_SUBSCRIPTION_MODE`.
async fn adapter() -> Result<Option<AdapterFactory>, Box<dyn std::error::Error>> {
    let kind = std::env::var("ADAPTER").unwrap_or_else(|_| "memory".to_owned());
    let sharded = match kind.as_str() {
        "memory" => return Ok(None),
        "redis-streams" => return Ok(Some(streams_adapter().await?)),
        "redis" => None,
        "redis-sharded" => Some(match std::env::var("REDIS_SUBSCRIPTION_MODE").as_deref() {
            Ok("static") => SubscriptionMode::Static,
            Ok("dynamic") | Err(_) => SubscriptionMode::Dynamic,
            Ok("dynamic-private") => SubscriptionMode::DynamicPrivate,
            Ok(other) => return Err(format!("unknown REDIS_SUBSCRIPTION_MODE {other:?}").into()),
        }),
        other => return Err(format!("unknown ADAPTER {other:?}").into()),
    };
    let (first, rest) = redis_urls()?;
    let mut builder = RedisAdapter::builder(first);
    if !rest.is_empty() {
        builder = builder.cluster(rest);
    }
    if let Ok(key) = std::env::var("REDIS_KEY") {
        builder = builder.key(key);
    }
    if let Some(timeout) = env_millis("REDIS_REQUESTS_TIMEOUT")? {
        builder = builder.requests_timeout(timeout);
    }
    if let Some(mode) = sharded {
        builder = builder.sharded(mode);
    }
    Ok(Some(builder.connect().await?.factory()))
}

/// `REDIS_URL`: the first URL, and the other seed nodes of a Redis Cluster.
fn redis_urls() -> Result<(String, Vec<String>), Box<dyn std::error::Error>> {
    let urls = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut urls = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned);
    let first = urls.next().ok_or("REDIS_URL is empty")?;
    Ok((first, urls.collect()))
}

/// The streams adapter: stream and channels named `REDIS_KEY`, `REDIS_STREAM_COUNT` streams,
/// sharded pub/sub with `REDIS_SHARDED_PUBSUB=1`.
async fn streams_adapter() -> Result<AdapterFactory, Box<dyn std::error::Error>> {
    let (first, rest) = redis_urls()?;
    let mut builder = RedisAdapter::streams(first);
    if !rest.is_empty() {
        builder = builder.cluster(rest);
    }
    if let Ok(key) = std::env::var("REDIS_KEY") {
        builder = builder.stream_name(key.clone()).channel_prefix(key);
    }
    if let Ok(count) = std::env::var("REDIS_STREAM_COUNT") {
        builder = builder.stream_count(count.parse()?);
    }
    if std::env::var("REDIS_SHARDED_PUBSUB").as_deref() == Ok("1") {
        builder = builder.sharded_pub_sub(true);
    }
    if let Some(timeout) = env_millis("REDIS_REQUESTS_TIMEOUT")? {
        builder = builder.requests_timeout(timeout);
    }
    Ok(builder.connect().await?.factory())
}

/// `echo` as a gateway handler: the arguments back as the acknowledgement, as the closure does.
struct EchoGateway;

#[roomcast_gateway::gateway]
impl EchoGateway {
    #[subscribe_message("echo")]
    async fn echo(&self, args: Args) -> Args {
        args
    }
}

/// Events other servers send with `server_side_emit` reach this server's sockets of the
/// namespace as `fromServer`, with the event name first.
fn relay_server_side_emits(nsp: &Namespace) {
    nsp.on_any_server_event(|nsp: Namespace, event: String, args: Args| async move {
        let mut values = vec![Value::String(event)];
        match args.into_values() {
            Ok(args) => values.extend(args),
            Err(error) => return tracing::warn!(%error, "server-side event not relayed"),
        }
        if let Err(error) = nsp.local().emit("fromServer", &Spread(&values)).await {
            tracing::warn!(%error, "fromServer not sent");
        }
    });
}

async fn run(suite: bool) -> Result<(), Box<dyn std::error::Error>> {
    let port = port()?;
    raise_open_file_limit();
    let http = http_options()?;
    let default_ms =
        |suite_ms, normal_ms| Duration::from_millis(if suite { suite_ms } else { normal_ms });
    let ping_interval = env_millis("PING_INTERVAL")?.unwrap_or(default_ms(300, 25_000));
    let ping_timeout = env_millis("PING_TIMEOUT")?.unwrap_or(default_ms(200, 20_000));

    let mut options = ServerOptions::default();
    options.engine.ping_interval = ping_interval;
    options.engine.ping_timeout = ping_timeout;
    options.engine.max_payload = 1_000_000;
    options.engine.cors = Some(Cors::default());
    options.engine.allow_eio3 = flag("ALLOW_EIO3");
    if let Some(timeout) = env_millis("REQUEST_TIMEOUT")? {
        options.engine.request_timeout = timeout;
    }
    if let Some(timeout) = env_millis("CONNECT_TIMEOUT")? {
        options.connect_timeout = timeout;
    }
    options.socket_limits = socket_limits()?;
    if let Some(max) = env_number("MAX_ATTACHMENTS")? {
        options.max_attachments = max;
    }
    if let Some(max) = env_number("MAX_ATTACHMENT_BYTES")? {
        options.max_attachment_bytes = max;
    }
    options.parser = match std::env::var("PARSER").as_deref() {
        Ok("msgpack") => Parser::MsgPack,
        Ok("default") | Err(_) => Parser::Json,
        Ok(other) => return Err(format!("PARSER must be msgpack or default, got {other:?}").into()),
    };
    if let Some(timeout) = env_millis("SHUTDOWN_TIMEOUT")? {
        options.shutdown_timeout = timeout;
    }
    options.http = http.clone();
    if let Some(adapter) = adapter().await? {
        options.adapter = adapter;
    }
    if std::env::var("RECOVERY").is_ok_and(|recovery| recovery == "1") {
        let mut recovery = RecoveryOptions::default();
        if let Some(duration) = env_millis("RECOVERY_MAX_DISCONNECTION_MS")? {
            recovery.max_disconnection_duration = duration;
        }
        options.connection_state_recovery = Some(recovery);
    }
    options.cleanup_empty_child_namespaces = flag("CLEANUP_EMPTY_CHILD_NAMESPACES");
    let io = Server::with_options(options);
    io.on_new_namespace(relay_server_side_emits);
    for nsp in io.namespaces() {
        relay_server_side_emits(&nsp);
    }
    build(&io, suite);
    let metrics = flag("METRICS").then(|| Metrics::install(&io));
    if flag("ADMIN_UI") {
        instrument(&io, admin_ui_options().await?)?;
    }
    if flag("ECHO_GATEWAY") {
        // Registered after the probe's own connect handler: its `echo` replaces the closure's.
        roomcast_gateway::register(&io, EchoGateway).await?;
    }
    io.ready().await;

    let listener = roomcast_engineio::bind(("127.0.0.1", port)).await?;
    println!("listening on {port}");
    let served = if suite {
        let mut config = Config::default();
        config.ping_interval = ping_interval;
        config.ping_timeout = ping_timeout;
        config.cors = Some(Cors::default());
        let echo = EngineLayer::new(Engine::new(Echo, config));
        let service = echo.layer(io.engine().clone());
        tokio::spawn(serve_with(listener, service, http, io.engine().closing()))
    } else if let Some(metrics) = metrics {
        let route = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || async move { metrics.response() }),
        );
        let service = io.layer().layer(route);
        tokio::spawn(serve_with(listener, service, http, io.engine().closing()))
    } else {
        let io = io.clone();
        tokio::spawn(async move { io.serve(listener).await })
    };
    tokio::select! {
        served = served => served??,
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            io.close().await;
            tracing::info!("closed");
        }
    }
    Ok(())
}
