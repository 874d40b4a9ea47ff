//! What the example programs share: reading their environment and setting up logs.

use std::time::Duration;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The TCP port from `PORT`, default 3000.
pub fn port() -> Result<u16, String> {
    env_number("PORT").map(|port| port.unwrap_or(3000))
}

/// A duration in milliseconds from the environment variable `name`, if set.
pub fn env_millis(name: &str) -> Result<Option<Duration>, String> {
    env_number(name).map(|ms| ms.map(Duration::from_millis))
}

fn env_number<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} must be a number, got {value:?}")),
        Err(_) => Ok(None),
    }
}
