//! The connect timeout: connections that join no namespace within it are closed.
//!
//! Every connection gets the same timeout, so deadlines come in order: one task and one queue
//! serve them all, instead of a timer per connection.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

/// A connection as the connect timeout sees it.
pub(crate) trait Joining: Send + Sync + 'static {
    /// Whether it has joined a namespace.
    fn joined(&self) -> bool;
    /// Closes it.
    fn close(&self);
}

type Watched = (Instant, Weak<dyn Joining>);

/// The connect timeout of a server.
pub(crate) struct ConnectTimeouts {
    timeout: Duration,
    queue: OnceLock<mpsc::UnboundedSender<Watched>>,
}

impl ConnectTimeouts {
    pub(crate) fn new(timeout: Duration) -> ConnectTimeouts {
        ConnectTimeouts {
            timeout,
            queue: OnceLock::new(),
        }
    }

    /// Closes `connection` if it has joined no namespace when the timeout expires.
    pub(crate) fn watch<J: Joining>(&self, connection: &Arc<J>) {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(close_late_connections(receiver));
            sender
        });
        let connection: Weak<dyn Joining> = Arc::downgrade(connection) as Weak<dyn Joining>;
        let _ = queue.send((Instant::now() + self.timeout, connection));
    }
}

async fn close_late_connections(mut queue: mpsc::UnboundedReceiver<Watched>) {
    let waiting = |connection: &Weak<dyn Joining>| {
        connection
            .upgrade()
            .filter(|connection| !connection.joined())
    };
    while let Some((deadline, connection)) = queue.recv().await {
        if waiting(&connection).is_none() {
            continue;
        }
        tokio::time::sleep_until(deadline).await;
        if let Some(connection) = waiting(&connection) {
            connection.close();
        }
    }
}
