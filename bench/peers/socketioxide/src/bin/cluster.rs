//! A subset of the probe contract (shared/CONTRACT.md) on socketioxide 0.18 with its Redis adapter
//! (socketioxide-redis, classic pub/sub driver on the `redis` crate), so that several processes
//! form one cluster through one Redis: roomcast's cluster benchmarks drive it as they drive
//! roomcast and Node's socket.io with `ADAPTER=redis`.
//!
//! Only socketioxide nodes can join such a cluster: socketioxide's remote-adapter wire format is
//! not the one of `@socket.io/redis-adapter`.
//!
//! Env: `PORT` (3000), `REDIS_URL` (redis://127.0.0.1:6379; the driver needs RESP3, which is
//! requested whatever the URL says), `REDIS_KEY` (the channel prefix, `socket.io`),
//! `PING_INTERVAL` / `PING_TIMEOUT` (ms). socketioxide runs with its default settings otherwise,
//! except the 1e6-byte max payload the contract asks for.
//!
//! Implemented: namespace `/` only (anything else is refused, as unknown namespaces are by
//! socket.io); `hello` on connect; every socket joins the room of its own id; the events `join`,
//! `blast` (through the adapter, so that sockets on other nodes receive it) and `fetch` (across the
//! cluster). Nothing else of the contract.

use std::time::Duration;

use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use socketioxide::adapter::Emitter;
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::operators::BroadcastOperators;
use socketioxide::SocketIo;
use socketioxide_redis::drivers::redis::redis_client as redis;
use socketioxide_redis::{RedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

use redis::{IntoConnectionInfo, ProtocolVersion};

/// The adapter of every namespace of this server.
type Cluster = RedisAdapter<Emitter>;
type Socket = SocketRef<Cluster>;
type Io = SocketIo<Cluster>;

/// `undefined`, a string or an array of strings, as a list (empty means the whole namespace).
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
        Some(_) => Err("expected a room or a list of rooms".to_owned()),
    }
}

fn sorted_rooms(socket: &Socket) -> Vec<String> {
    let mut rooms: Vec<String> = socket.rooms().iter().map(|r| r.to_string()).collect();
    rooms.sort();
    rooms
}

/// The namespace of `socket`, restricted to `rooms` (the whole namespace when empty). Its
/// operations go through the adapter, hence to every node of the cluster.
fn within(io: &Io, socket: &Socket, rooms: Vec<String>) -> Option<BroadcastOperators<Cluster>> {
    let nsp = io.of(socket.ns())?;
    Some(if rooms.is_empty() {
        nsp
    } else {
        nsp.within(rooms)
    })
}

/// Acknowledges `reply`, or `{ error }` when the handler failed.
fn answer(ack: AckSender<Cluster>, reply: Result<Value, String>) {
    let _ = match reply {
        Ok(v) => ack.send(&v),
        Err(error) => ack.send(&json!({ "error": error })),
    };
}

async fn on_connect(socket: Socket, io: Io, auth: TryData<Value>) {
    // Every socket is in the room named after its id, as in Node's socket.io.
    socket.join(socket.id.to_string());
    register(&socket, io);
    let auth = match auth.0 {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({}),
    };
    let hello = json!({ "id": socket.id.to_string(), "nsp": socket.ns(), "auth": auth, "recovered": false });
    let _ = socket.emit("hello", &hello);
}

fn register(socket: &Socket, io: Io) {
    socket.on(
        "join",
        |s: Socket, Data(rooms): Data<Value>, ack: AckSender<Cluster>| async move {
            // The rooms are this node's: a request published to the cluster (broadcast, fetch)
            // carries its room selection, which every node applies to its own sockets.
            let reply = list(Some(&rooms)).map(|rooms| {
                s.join(rooms);
                json!(sorted_rooms(&s))
            });
            answer(ack, reply);
        },
    );
    let io2 = io.clone();
    socket.on(
        "blast",
        move |s: Socket, Data(opts): Data<Value>, ack: AckSender<Cluster>| {
            let io = io2.clone();
            async move {
                let reply = async {
                    let event = opts
                        .get("event")
                        .and_then(Value::as_str)
                        .ok_or("`event` must be a string")?
                        .to_owned();
                    let count = opts
                        .get("count")
                        .and_then(Value::as_u64)
                        .ok_or("`count` must be a number")?;
                    let payload = opts.get("payload").cloned().unwrap_or(Value::Null);
                    let to = list(opts.get("to"))?;
                    for i in 0..count {
                        let op = within(&io, &s, to.clone()).ok_or("no namespace")?;
                        // Published to the other nodes, then emitted to the local sockets; a
                        // packet for a socket whose buffer is full is dropped and reported as an
                        // error, which the contract (like Node) does not surface.
                        let _ = op.emit(&event, &(i, &payload)).await;
                    }
                    Ok(json!(count))
                }
                .await;
                answer(ack, reply);
            }
        },
    );
    let io2 = io.clone();
    socket.on(
        "fetch",
        move |s: Socket, TryData(opts): TryData<Value>, ack: AckSender<Cluster>| {
            let io = io2.clone();
            async move {
                let reply = async {
                    let opts = opts.unwrap_or(Value::Null);
                    let op = within(&io, &s, list(opts.get("in"))?).ok_or("no namespace")?;
                    let mut ids: Vec<String> = op
                        .fetch_sockets()
                        .await
                        .map_err(|e| e.to_string())?
                        .iter()
                        .map(|s| s.data().id.to_string())
                        .collect();
                    ids.sort();
                    Ok(json!(ids))
                }
                .await;
                answer(ack, reply);
            }
        },
    );
}

fn env_ms(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = std::env::var("REDIS_KEY").unwrap_or_else(|_| "socket.io".to_owned());

    // socketioxide-redis's driver receives its messages as RESP3 pushes.
    let info = url.as_str().into_connection_info()?;
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let client = redis::Client::open(info.set_redis_settings(settings))?;
    let config = RedisAdapterConfig::new().with_prefix(prefix);
    let adapter = RedisAdapterCtr::new_with_redis_config(&client, config).await?;

    let mut builder = SocketIo::builder()
        .max_payload(1_000_000)
        .with_adapter::<Cluster>(adapter);
    if let Some(d) = env_ms("PING_INTERVAL") {
        builder = builder.ping_interval(d);
    }
    if let Some(d) = env_ms("PING_TIMEOUT") {
        builder = builder.ping_timeout(d);
    }
    let (svc, io) = builder.build_svc();
    // Resolves once the adapter has subscribed to its channels.
    io.ns("/", on_connect).await?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {port}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let svc = svc.clone();
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await;
        });
    }
}
