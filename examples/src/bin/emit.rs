//! `roomcast-emit`: publishes into a cluster of roomcast or Node servers through Redis, without
//! being a server, with [`roomcast_redis::Emitter`]. One JSON command per line on stdin, one
//! line on stdout for each (`ok`, or `error: …`):
//!
//! ```text
//! {"op": "emit", "nsp": "/", "to": ["room"], "except": [], "event": "news", "args": [1, "a"]}
//! {"op": "socketsJoin", "in": ["room"], "rooms": ["other"]}
//! {"op": "socketsLeave", "in": ["room"], "rooms": ["other"]}
//! {"op": "disconnectSockets", "in": ["room"], "close": false}
//! {"op": "serverSideEmit", "event": "hello", "args": [1]}
//! ```
//!
//! Env: `REDIS_URL` (default `redis://127.0.0.1:6379`; comma-separated: a Redis Cluster's seed
//! nodes), `REDIS_KEY` (default `socket.io`).

use roomcast::payload::Spread;
use roomcast::Value;
use roomcast_examples::init_tracing;
use roomcast_redis::Emitter;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One command line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Command {
    op: String,
    #[serde(default)]
    nsp: Option<String>,
    #[serde(default)]
    to: Vec<String>,
    #[serde(default, rename = "in")]
    in_: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    #[serde(default)]
    rooms: Vec<String>,
    #[serde(default)]
    event: String,
    #[serde(default)]
    args: Vec<Value>,
    #[serde(default)]
    close: bool,
}

async fn run(emitter: &Emitter, command: Command) -> Result<(), Box<dyn std::error::Error>> {
    let target = emitter
        .of(command.nsp.as_deref().unwrap_or("/"))
        .to(command.to)
        .to(command.in_)
        .except(command.except);
    match command.op.as_str() {
        "emit" => target.emit(&command.event, &Spread(&command.args)).await?,
        "socketsJoin" => target.sockets_join(command.rooms).await?,
        "socketsLeave" => target.sockets_leave(command.rooms).await?,
        "disconnectSockets" => target.disconnect_sockets(command.close).await?,
        "serverSideEmit" => {
            target
                .server_side_emit(&command.event, &Spread(&command.args))
                .await?
        }
        other => return Err(format!("unknown op {other:?}").into()),
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    roomcast_examples::allocator::return_freed_memory_at_once();
    init_tracing();
    let urls = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut urls = urls.split(',').map(str::trim).filter(|url| !url.is_empty());
    let mut builder = Emitter::builder(urls.next().ok_or("REDIS_URL is empty")?);
    let rest: Vec<&str> = urls.collect();
    if !rest.is_empty() {
        builder = builder.cluster(rest);
    }
    if let Ok(key) = std::env::var("REDIS_KEY") {
        builder = builder.key(key);
    }
    let emitter = builder.connect().await?;
    let mut stdout = tokio::io::stdout();
    stdout.write_all(b"ready\n").await?;
    stdout.flush().await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let outcome = match serde_json::from_str::<Command>(&line) {
            Ok(command) => run(&emitter, command).await,
            Err(error) => Err(error.into()),
        };
        let reply = match outcome {
            Ok(()) => "ok\n".to_owned(),
            Err(error) => format!("error: {error}\n"),
        };
        stdout.write_all(reply.as_bytes()).await?;
        stdout.flush().await?;
    }
    Ok(())
}
