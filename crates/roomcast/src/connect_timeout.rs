//! The connect timeout: connections that join no namespace within it are closed.
//!
//! Every connection gets the same timeout, so deadlines come in order: one task and one queue
//! serve them all, instead of a timer per connection. What the queue holds of a connection is
//! its [`Admission`], a few bytes, let go once it reaches the front of the queue joined or
//! ended, at the latest at its deadline.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use roomcast_engineio::Socket as EngineSocket;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use crate::spare;

/// What the connect timeout holds of a connection: whether it has joined a namespace, and its
/// Engine.IO connection to close if not. The connection owns it; the timeout's queue keeps a
/// weak reference, which keeps only these few bytes allocated while it is queued (a weak
/// reference to the whole connection would keep all of its memory for the rest of the timeout,
/// 45 s by default, after it ended).
pub(crate) struct Admission {
    joined: AtomicBool,
    conn: EngineSocket,
}

impl Admission {
    pub(crate) fn new(conn: EngineSocket) -> Arc<Admission> {
        Arc::new(Admission {
            joined: AtomicBool::new(false),
            conn,
        })
    }

    /// The Engine.IO connection.
    pub(crate) fn conn(&self) -> &EngineSocket {
        &self.conn
    }

    /// Records that the connection joined a namespace: the timeout no longer applies.
    pub(crate) fn joined(&self) {
        self.joined.store(true, Ordering::Release);
    }

    fn has_joined(&self) -> bool {
        self.joined.load(Ordering::Acquire)
    }

    fn close(&self) {
        tracing::debug!(sid = %self.conn.id(), "no namespace joined within connect_timeout, closing");
        self.conn.close();
    }
}

type Watched = (Instant, Weak<Admission>);

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

    /// Closes the connection of `admission` if it has joined no namespace when the timeout
    /// expires (never, when the deadline lies past what an `Instant` can hold).
    pub(crate) fn watch(&self, admission: &Arc<Admission>) {
        let Some(deadline) = Instant::now().checked_add(self.timeout) else {
            return;
        };
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(close_late_connections(receiver));
            sender
        });
        let _ = queue.send((deadline, Arc::downgrade(admission)));
    }
}

/// Connections taken from the channel at once.
const BATCH: usize = 256;

/// Takes connections from the channel as they come, so that the channel's blocks are reused
/// rather than piling up for a whole timeout; lets go of the ones at the front of the queue
/// that joined or ended each time it wakes, and closes each one still waiting at its deadline.
/// Runs until the server is gone and every deadline has passed.
async fn close_late_connections(mut queue: mpsc::UnboundedReceiver<Watched>) {
    let mut watched: VecDeque<Watched> = VecDeque::new();
    let mut received = Vec::with_capacity(BATCH);
    let mut open = true;
    loop {
        while watched
            .front()
            .is_some_and(|(_, admission)| waiting(admission).is_none())
        {
            watched.pop_front();
        }
        spare::give_back(&mut watched);
        let next = watched.front().map(|(deadline, _)| *deadline);
        if !open && next.is_none() {
            return;
        }
        tokio::select! {
            count = queue.recv_many(&mut received, BATCH), if open => {
                open = count > 0;
                watched.extend(received.drain(..));
            }
            () = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                let now = Instant::now();
                while watched.front().is_some_and(|(deadline, _)| *deadline <= now) {
                    let due = watched.pop_front();
                    if let Some(admission) = due.and_then(|(_, admission)| waiting(&admission)) {
                        admission.close();
                    }
                }
            }
        }
    }
}

/// The connection's admission, while it is open and has joined no namespace.
fn waiting(admission: &Weak<Admission>) -> Option<Arc<Admission>> {
    admission
        .upgrade()
        .filter(|admission| !admission.has_joined())
}
