//! A bare Engine.IO server that echoes every message back (text as text, binary as binary).
//!
//! Listens on 127.0.0.1:`PORT` (default 3000) at `/engine.io/`; `PING_INTERVAL` and
//! `PING_TIMEOUT` (ms) override the heartbeat; maxPayload is 1e6 bytes; any origin may connect;
//! `PER_MESSAGE_DEFLATE=1` compresses WebSocket messages from 1024 bytes on.

use roomcast_engineio::{serve, Config, Cors, Deflate, Engine};
use roomcast_examples::{env_millis, init_tracing, port, shutdown_signal, Echo};

/// One thread, like Node's event loop: the Engine.IO protocol suite expects requests from
/// different connections to be handled in the order they arrive.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    roomcast_examples::allocator::return_freed_memory_at_once();
    init_tracing();
    let port = port()?;
    let mut config = Config::default();
    config.cors = Some(Cors::default());
    if let Some(interval) = env_millis("PING_INTERVAL")? {
        config.ping_interval = interval;
    }
    if let Some(timeout) = env_millis("PING_TIMEOUT")? {
        config.ping_timeout = timeout;
    }
    if std::env::var("PER_MESSAGE_DEFLATE").is_ok_and(|value| value == "1") {
        config.per_message_deflate = Some(Deflate::default());
    }
    let listener = roomcast_engineio::bind(("127.0.0.1", port)).await?;
    println!("listening on {port}");
    let engine = Engine::new(Echo, config);
    tokio::select! {
        served = serve(listener, engine.clone()) => served?,
        _ = shutdown_signal() => engine.close_all(),
    }
    Ok(())
}
