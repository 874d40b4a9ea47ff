//! Writes deferred to the end of a dispatch.
//!
//! While the handler acts on a client's packet, what it sends to a WebSocket session whose
//! connection task is idle is only queued, and the session noted here. When the handler
//! returns, this thread writes each noted session's frames itself, in one `send` per session,
//! without waking the session's connection task. A broadcast to a room then costs one write
//! per member and no task wake-up, and a burst of emits still goes out in one write per member.
//! Past [`MAX_DEFERRED`] sessions the rest are left to their own tasks, so that a fan-out to
//! thousands is spread over the runtime's workers instead of held on this one.

use std::cell::RefCell;
use std::sync::Arc;

use crate::socket::Shared;

/// The most sessions one dispatch writes itself.
const MAX_DEFERRED: usize = 128;

#[derive(Default)]
struct Pending {
    /// A dispatch is running on this thread.
    active: bool,
    sessions: Vec<Arc<Shared>>,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// Runs `f`, the handler's part of one received packet, then writes what it left to write.
/// Nested calls write at the end of the outermost one.
pub(crate) fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    let outermost = PENDING.with(|pending| {
        let mut pending = pending.borrow_mut();
        !std::mem::replace(&mut pending.active, true)
    });
    if !outermost {
        return f();
    }
    let _flush = Flush;
    f()
}

/// Notes `session` to be written at the end of the running dispatch. Returns `false` when no
/// dispatch runs on this thread or it has noted its share: the caller wakes the session's task.
pub(crate) fn defer(session: &Arc<Shared>) -> bool {
    PENDING.with(|pending| {
        let mut pending = pending.borrow_mut();
        if !pending.active || pending.sessions.len() >= MAX_DEFERRED {
            return false;
        }
        pending.sessions.push(session.clone());
        true
    })
}

/// Ends a dispatch (also when the handler panics): writes every noted session.
struct Flush;

impl Drop for Flush {
    fn drop(&mut self) {
        let mut sessions = PENDING.with(|pending| {
            let mut pending = pending.borrow_mut();
            pending.active = false;
            std::mem::take(&mut pending.sessions)
        });
        for session in &sessions {
            session.write_deferred();
        }
        sessions.clear();
        PENDING.with(|pending| {
            let mut pending = pending.borrow_mut();
            if pending.sessions.capacity() == 0 {
                pending.sessions = sessions;
            }
        });
    }
}
