//! The probe contract (shared/CONTRACT.md) on socketioxide 0.18: the server-side API exposed
//! through events, so that roomcast's load generator drives socketioxide as it drives roomcast and
//! Node's socket.io.
//!
//! Env: `PORT` (3000), `PING_INTERVAL` / `PING_TIMEOUT` (ms). socketioxide runs with its default
//! settings otherwise (in particular its per-socket buffer of 128 packets), except the 1e6-byte
//! max payload the contract asks for. Not implemented: the Redis adapter, connection state
//! recovery, protocol-suite mode, `serverSideEmit` to other nodes (there are none).

use std::time::Duration;

use futures_util::StreamExt;
use hyper_util::rt::TokioIo;
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::operators::BroadcastOperators;
use socketioxide::SocketIo;

/// Every argument of an event, received as a tuple so that socketioxide hands over all of them
/// (a non-tuple type receives the first argument only).
struct AllArgs(Vec<Value>);

impl<'de> Deserialize<'de> for AllArgs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = AllArgs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("event arguments")
            }
            fn visit_seq<S: serde::de::SeqAccess<'de>>(
                self,
                mut seq: S,
            ) -> Result<AllArgs, S::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Value>()? {
                    out.push(v);
                }
                Ok(AllArgs(out))
            }
        }
        deserializer.deserialize_tuple(usize::MAX, Visit)
    }
}

/// A list of values sent as that many Socket.IO arguments (a tuple in serde's model; a `Vec`
/// would travel as one array argument).
struct Spread<'a>(&'a [Value]);

impl Serialize for Spread<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for v in self.0 {
            tuple.serialize_element(v)?;
        }
        tuple.end()
    }
}

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

fn sorted_rooms(socket: &SocketRef) -> Vec<String> {
    let mut rooms: Vec<String> = socket.rooms().iter().map(|r| r.to_string()).collect();
    rooms.sort();
    rooms
}

/// The namespace of `socket`, restricted to `rooms` (the whole namespace when empty).
fn within(io: &SocketIo, socket: &SocketRef, rooms: Vec<String>) -> Option<BroadcastOperators> {
    let nsp = io.of(socket.ns())?;
    Some(if rooms.is_empty() {
        nsp
    } else {
        nsp.within(rooms)
    })
}

fn args_of(opts: &Value) -> Vec<Value> {
    opts.get("args")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Acknowledges `reply`, or `{ error }` when the handler failed.
fn answer(ack: AckSender, reply: Result<Value, String>) {
    let _ = match reply {
        Ok(v) => ack.send(&v),
        Err(error) => ack.send(&json!({ "error": error })),
    };
}

async fn on_connect(socket: SocketRef, io: SocketIo, auth: TryData<Value>) {
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

fn register(socket: &SocketRef, io: SocketIo) {
    socket.on(
        "join",
        |s: SocketRef, Data(rooms): Data<Value>, ack: AckSender| async move {
            let reply = list(Some(&rooms)).map(|rooms| {
                s.join(rooms);
                json!(sorted_rooms(&s))
            });
            answer(ack, reply);
        },
    );
    socket.on(
        "leave",
        |s: SocketRef, Data(room): Data<Value>, ack: AckSender| async move {
            let reply = match room.as_str() {
                Some(room) => {
                    s.leave(room.to_owned());
                    Ok(json!(sorted_rooms(&s)))
                }
                None => Err("the room must be a string".to_owned()),
            };
            answer(ack, reply);
        },
    );
    let io2 = io.clone();
    socket.on(
        "broadcast",
        move |s: SocketRef, Data(opts): Data<Value>, ack: AckSender| {
            let io = io2.clone();
            async move {
                let reply = async {
                    let to = list(opts.get("to"))?;
                    let except = list(opts.get("except"))?;
                    let event = opts
                        .get("event")
                        .and_then(Value::as_str)
                        .ok_or("`event` must be a string")?
                        .to_owned();
                    let op = match opts.get("from").and_then(Value::as_str) {
                        Some("server") => io.of(s.ns()).ok_or("no namespace")?,
                        Some("socket") => s.broadcast(),
                        other => return Err(format!("unknown origin: {other:?}")),
                    };
                    let args = args_of(&opts);
                    // A full per-socket buffer drops the packet for that socket; socketioxide
                    // reports it as an error, which the contract (like Node) does not surface.
                    let _ = op.to(to).except(except).emit(&event, &Spread(&args)).await;
                    Ok(json!(true))
                }
                .await;
                answer(ack, reply);
            }
        },
    );
    let io2 = io.clone();
    socket.on(
        "blast",
        move |s: SocketRef, Data(opts): Data<Value>, ack: AckSender| {
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
                        // Dropped for the sockets whose buffer is full (see `broadcast`).
                        let _ = op.emit(&event, &(i, &payload)).await;
                    }
                    Ok(json!(count))
                }
                .await;
                answer(ack, reply);
            }
        },
    );
    socket.on(
        "echo",
        |TryData(args): TryData<AllArgs>, ack: AckSender| async move {
            let _ = match args {
                Ok(AllArgs(args)) => ack.send(&Spread(&args)),
                Err(e) => ack.send(&json!({ "error": e.to_string() })),
            };
        },
    );
    let io2 = io.clone();
    socket.on(
        "fetch",
        move |s: SocketRef, TryData(opts): TryData<Value>, ack: AckSender| {
            let io = io2.clone();
            async move {
                let reply = async {
                    let opts = opts.unwrap_or(Value::Null);
                    let op = within(&io, &s, list(opts.get("in"))?).ok_or("no namespace")?;
                    let mut ids: Vec<String> =
                        op.sockets().iter().map(|s| s.id.to_string()).collect();
                    ids.sort();
                    Ok(json!(ids))
                }
                .await;
                answer(ack, reply);
            }
        },
    );
    let io2 = io.clone();
    socket.on("rooms", move |s: SocketRef, ack: AckSender| {
        let io = io2.clone();
        async move {
            let reply = async {
                let nsp = io.of(s.ns()).ok_or("no namespace")?;
                let sockets: Vec<String> = nsp
                    .clone()
                    .sockets()
                    .iter()
                    .map(|s| s.id.to_string())
                    .collect();
                let mut rooms: Vec<String> = nsp
                    .rooms()
                    .await
                    .map_err(|e| e.to_string())?
                    .iter()
                    .map(|r| r.to_string())
                    .filter(|r| !sockets.contains(r))
                    .collect();
                rooms.sort();
                Ok(json!(rooms))
            }
            .await;
            answer(ack, reply);
        }
    });
    for (event, joining) in [("socketsJoin", true), ("socketsLeave", false)] {
        let io2 = io.clone();
        socket.on(
            event,
            move |s: SocketRef, Data(opts): Data<Value>, ack: AckSender| {
                let io = io2.clone();
                async move {
                    let reply = async {
                        let op = within(&io, &s, list(opts.get("in"))?).ok_or("no namespace")?;
                        let rooms = list(opts.get("rooms"))?;
                        let done = if joining {
                            op.join(rooms).await
                        } else {
                            op.leave(rooms).await
                        };
                        done.map_err(|e| e.to_string())?;
                        Ok(json!(true))
                    }
                    .await;
                    answer(ack, reply);
                }
            },
        );
    }
    let io2 = io.clone();
    socket.on(
        "kick",
        move |s: SocketRef, TryData(opts): TryData<Value>, ack: AckSender| {
            let io = io2.clone();
            async move {
                let opts = opts.unwrap_or(Value::Null);
                let rooms = match list(opts.get("in")) {
                    Ok(rooms) => rooms,
                    Err(e) => return answer(ack, Err(e)),
                };
                // Acknowledged first: the caller may be among the kicked.
                let _ = ack.send(&true);
                let Some(op) = within(&io, &s, rooms) else {
                    return;
                };
                // socketioxide has no operator that closes the whole connection from here:
                // `close: true` disconnects the sockets of this namespace only, as `false` does.
                let _ = op.disconnect().await;
            }
        },
    );
    socket.on(
        "requestAck",
        |s: SocketRef, Data(opts): Data<Value>, ack: AckSender| async move {
            let event = opts
                .get("event")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let ms = opts
                .get("timeoutMs")
                .and_then(Value::as_u64)
                .unwrap_or(5000);
            let args = args_of(&opts);
            let reply = match s
                .timeout(Duration::from_millis(ms))
                .emit_with_ack::<_, AllArgs>(&event, &Spread(&args))
            {
                Ok(stream) => match stream.await {
                    Ok(AllArgs(resp)) => json!({ "err": null, "resp": resp }),
                    Err(e) => json!({ "err": e.to_string(), "resp": [] }),
                },
                Err(e) => json!({ "err": e.to_string(), "resp": [] }),
            };
            let _ = ack.send(&reply);
        },
    );
    let io2 = io.clone();
    socket.on(
        "broadcastWithAck",
        move |s: SocketRef, Data(opts): Data<Value>, ack: AckSender| {
            let io = io2.clone();
            async move {
                let reply = async {
                    let event = opts
                        .get("event")
                        .and_then(Value::as_str)
                        .ok_or("`event` must be a string")?
                        .to_owned();
                    let ms = opts
                        .get("timeoutMs")
                        .and_then(Value::as_u64)
                        .unwrap_or(5000);
                    let args = args_of(&opts);
                    let op = within(&io, &s, list(opts.get("to"))?).ok_or("no namespace")?;
                    let stream = op
                        .timeout(Duration::from_millis(ms))
                        .emit_with_ack::<_, Value>(&event, &Spread(&args))
                        .await
                        .map_err(|e| e.to_string())?;
                    let results: Vec<_> = stream.collect().await;
                    let mut err = Value::Null;
                    let mut responses = Vec::new();
                    for (_, r) in results {
                        match r {
                            Ok(v) => responses.push(v),
                            Err(e) => err = json!(e.to_string()),
                        }
                    }
                    Ok(json!({ "err": err, "responses": responses }))
                }
                .await;
                answer(ack, reply);
            }
        },
    );
    // With the in-memory adapter there is no other node to reach.
    socket.on("serverSideEmit", |ack: AckSender| async move {
        let _ = ack.send(&true);
    });
}

fn env_ms(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
}

/// A dynamic namespace name as the contract allows them: `/org-[a-z0-9-]+`.
fn valid_org(ns: &str) -> bool {
    ns.strip_prefix("/org-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let mut builder = SocketIo::builder().max_payload(1_000_000);
    if let Some(d) = env_ms("PING_INTERVAL") {
        builder = builder.ping_interval(d);
    }
    if let Some(d) = env_ms("PING_TIMEOUT") {
        builder = builder.ping_timeout(d);
    }
    let (svc, io) = builder.build_svc();
    for name in ["/", "/chat", "/custom"] {
        io.ns(name, on_connect);
    }
    io.ns(
        "/admin",
        (|socket: SocketRef, io: SocketIo, auth: TryData<Value>| {
            let io2 = io.clone();
            socket.on("stats", move |ack: AckSender| {
                let io = io2.clone();
                async move {
                    let counts: serde_json::Map<String, Value> = io
                        .nsps()
                        .into_iter()
                        .map(|nsp| (nsp.ns_path().to_owned(), json!(nsp.sockets().len())))
                        .collect();
                    let _ = ack.send(&json!({ "namespaces": counts }));
                }
            });
            on_connect(socket, io, auth)
        })
        .with(|auth: TryData<Value>| async move {
            match auth.0 {
                Ok(v) if v.get("token").and_then(Value::as_str) == Some("secret") => Ok(()),
                _ => Err("unauthorized"),
            }
        }),
    );
    io.dyn_ns(
        "/{name}",
        (on_connect).with(|socket: SocketRef| async move {
            if valid_org(socket.ns()) {
                Ok(())
            } else {
                Err("Invalid namespace")
            }
        }),
    )?;

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
