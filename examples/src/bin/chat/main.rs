//! roomcast-chat: a multi-room chat, and an admin page that watches and steers it.
//!
//! One process serves the pages (axum) and Socket.IO (roomcast, as a tower layer around the
//! router): `/` is the chat, `/admin` the admin page, `/socket.io/socket.io.min.js` the
//! official browser client, `/admin-ui/` the official Socket.IO Admin UI (development mode:
//! every socket, room and event; user `admin`) and `/metrics` the Prometheus metrics. `/chat`,
//! `/admin` and `/admin-ui` are the Socket.IO namespaces.
//!
//! Env: `HOST` (127.0.0.1), `PORT` (3000), `ADMIN_TOKEN` and `ADMIN_UI_PASSWORD` (each
//! generated and printed when unset),
//! `RUST_LOG` (info), `REDIS_URL` (several chat processes on one Redis share rooms, users and
//! the admin page's counts, through the Redis Streams adapter), `RECOVERY_WINDOW_MS` (15 s: a
//! user whose connection drops comes back to the same socket, room and missed messages, with no
//! "left" / "joined" for the room to see — on any of the processes).

mod admin;
mod assets;
mod broadcast;
mod chat;
mod config;
mod input;
mod member;
mod reply;
mod stats;
mod web;

use std::error::Error;
use std::process::ExitCode;

use roomcast::{RecoveryOptions, Server, ServerOptions};
use roomcast_admin::{instrument, AdminOptions, Auth, Mode};
use roomcast_examples::{
    exit_code, http_options, init_tracing, raise_open_file_limit, shutdown_signal,
};
use roomcast_gateway::register;
use roomcast_metrics::Metrics;
use roomcast_redis::RedisAdapter;

use crate::admin::AdminGateway;
use crate::assets::ClientBundle;
use crate::chat::ChatGateway;
use crate::config::{Config, Secret};

fn main() -> ExitCode {
    roomcast_examples::allocator::return_freed_memory_at_once();
    init_tracing();
    let outcome = roomcast_examples::runtime::multi_thread()
        .map_err(Into::into)
        .and_then(|runtime| runtime.block_on(run()));
    exit_code("roomcast-chat", outcome)
}

async fn run() -> Result<(), Box<dyn Error>> {
    let config = Config::from_env()?;
    let client = ClientBundle::load()?;
    raise_open_file_limit();
    let http = http_options()?;
    let mut options = ServerOptions::default();
    if let Some(url) = &config.redis_url {
        // The streams adapter: a user dropped from one process recovers on another.
        let redis = RedisAdapter::streams(url.as_str())
            .connect()
            .await
            .map_err(|error| format!("cannot connect to REDIS_URL: {error}"))?;
        options.adapter = redis.factory();
        tracing::info!("clustered through Redis (REDIS_URL)");
    }
    options.connection_state_recovery = Some(RecoveryOptions {
        max_disconnection_duration: config.recovery_window,
        ..RecoveryOptions::default()
    });
    let io = Server::with_options(options);
    let metrics = Metrics::install(&io);
    instrument(
        &io,
        AdminOptions {
            namespace: "/admin-ui".into(),
            auth: Auth::Basic {
                username: "admin".into(),
                password_hash: hash_password(&config.admin_ui_password).await?,
            },
            mode: Mode::Development,
            ..AdminOptions::default()
        },
    )?;
    let chat = io.of("/chat");
    register(&io, ChatGateway::new(config.recovery_window)).await?;
    register(&io, AdminGateway::new(chat, config.admin_token.clone())).await?;
    let app = web::router(&io, client, assets::admin_ui()?, metrics);
    io.ready().await;

    let listener = roomcast::bind((config.host.as_str(), config.port))
        .await
        .map_err(|error| format!("cannot listen on {}:{}: {error}", config.host, config.port))?;
    let addr = listener.local_addr()?;
    let token = &config.admin_token;
    println!("chat:  http://{addr}/");
    if token.generated() {
        println!(
            "ADMIN_TOKEN is not set; admin token for this run: {}",
            token.as_str()
        );
        // The page reads the token from the fragment, which browsers do not send.
        println!("admin: http://{addr}/admin#token={}", token.as_str());
    } else {
        println!("admin: http://{addr}/admin");
    }
    println!("admin UI: http://{addr}{} (user admin)", web::ADMIN_UI_PATH);
    if config.admin_ui_password.generated() {
        println!(
            "ADMIN_UI_PASSWORD is not set; admin UI password for this run: {}",
            config.admin_ui_password.as_str()
        );
    }
    println!("metrics: http://{addr}/metrics");
    println!("listening on {}", addr.port());

    let served = roomcast::serve_with(listener, app, http, io.engine().closing());
    tokio::select! {
        result = served => result?,
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            io.close().await;
        }
    }
    Ok(())
}

/// The bcrypt hash the Admin UI checks the password against (cost 10, as Node's examples).
async fn hash_password(password: &Secret) -> Result<String, Box<dyn Error>> {
    let password = password.clone();
    let hash = tokio::task::spawn_blocking(move || bcrypt::hash(password.as_str(), 10)).await??;
    Ok(hash)
}
