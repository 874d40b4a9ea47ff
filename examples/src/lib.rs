//! What the example programs share: the memory allocator and the runtime, reading their
//! environment, setting up logs, and the Engine.IO echo handler.

use std::time::Duration;

pub mod allocator;
pub mod runtime;

use roomcast_engineio::{CloseReason, Connection, Frame, Handler, HttpOptions, Message, Socket};

/// An Engine.IO handler that sends every message back: text as text, binary as binary.
pub struct Echo;

/// One session of [`Echo`].
pub struct EchoConnection(Socket);

impl Handler for Echo {
    type Connection = EchoConnection;

    fn on_open(&self, socket: Socket) -> EchoConnection {
        EchoConnection(socket)
    }
}

impl Connection for EchoConnection {
    fn on_message(&self, message: Message) {
        if let Err(error) = self.0.send(Frame::from(message)) {
            tracing::debug!(sid = %self.0.id(), %error, "echo dropped");
        }
    }

    fn on_close(&self, reason: CloseReason) {
        tracing::debug!(sid = %self.0.id(), %reason, "session closed");
    }
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one, so that a server can stop cleanly. A
/// signal that cannot be watched is logged and never fires.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// A program's exit: success, or its error printed after its name, and failure.
pub fn exit_code(
    program: &str,
    outcome: Result<(), Box<dyn std::error::Error>>,
) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), in colour only on a terminal.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Raises the soft limit on open files to the hard limit and logs it, unless
/// `RAISE_OPEN_FILE_LIMIT=0`: each client is a file descriptor.
pub fn raise_open_file_limit() {
    if std::env::var("RAISE_OPEN_FILE_LIMIT").as_deref() == Ok("0") {
        return;
    }
    match roomcast_engineio::raise_open_file_limit() {
        Ok(limit) => tracing::info!(limit, "open file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open file limit"),
    }
}

/// The HTTP limits, Node's defaults unless set: `HTTP_HEADER_READ_TIMEOUT` and
/// `HTTP_KEEP_ALIVE_TIMEOUT` (ms), `HTTP_MAX_HEADER_SIZE` (bytes), `HTTP_MAX_HEADERS`.
pub fn http_options() -> Result<HttpOptions, String> {
    let mut http = HttpOptions::default();
    if let Some(timeout) = env_millis("HTTP_HEADER_READ_TIMEOUT")? {
        http.header_read_timeout = timeout;
    }
    if let Some(timeout) = env_millis("HTTP_KEEP_ALIVE_TIMEOUT")? {
        http.keep_alive_timeout = timeout;
    }
    if let Some(size) = env_number("HTTP_MAX_HEADER_SIZE")? {
        http.max_header_size = size;
    }
    if let Some(count) = env_number("HTTP_MAX_HEADERS")? {
        http.max_headers = count;
    }
    Ok(http)
}

/// The TCP port from `PORT`, default 3000.
pub fn port() -> Result<u16, String> {
    env_number("PORT").map(|port| port.unwrap_or(3000))
}

/// A duration in milliseconds from the environment variable `name`, if set.
pub fn env_millis(name: &str) -> Result<Option<Duration>, String> {
    env_number(name).map(|ms| ms.map(Duration::from_millis))
}

/// A number from the environment variable `name`, if set.
pub fn env_number<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} must be a number, got {value:?}")),
        Err(_) => Ok(None),
    }
}
