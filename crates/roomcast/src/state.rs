//! Shared application state as a handler parameter (NestJS's injected providers): a value the
//! server provides with [`Server::provide`](crate::Server::provide), taken by type.

use std::ops::Deref;
use std::sync::Arc;

use crate::handler::FromContext;
use crate::payload::ArgsError;
use crate::socket::{EventContext, Socket};

/// A value the server provides, shared by every handler that takes it.
///
/// ```no_run
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use roomcast::{Server, Socket, State};
///
/// #[derive(Default)]
/// struct Visits(AtomicUsize);
///
/// let io = Server::new();
/// io.provide(Visits::default());
/// io.on_connect(|socket: Socket, visits: State<Visits>| async move {
///     let n = visits.0.fetch_add(1, Ordering::Relaxed) + 1;
///     let _ = socket.emit("visitor", &n);
/// });
/// ```
#[derive(Debug)]
pub struct State<T>(Arc<T>);

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl<T> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> State<T> {
    /// The shared value.
    pub fn into_inner(self) -> Arc<T> {
        self.0
    }
}

impl<T: Send + Sync + 'static> State<T> {
    /// The value of type `T` the server of `socket` provides.
    pub fn of(socket: &Socket) -> Result<State<T>, ArgsError> {
        socket
            .namespace()
            .extensions()
            .get::<T>()
            .map(State)
            .ok_or_else(|| {
                ArgsError::unavailable(
                    std::any::type_name::<T>(),
                    "the server provides no such value (Server::provide)",
                )
            })
    }
}

impl<T: Send + Sync + 'static> FromContext<EventContext> for State<T> {
    fn from_context(ctx: &mut EventContext) -> Result<Self, ArgsError> {
        State::of(ctx.socket())
    }
}

impl<T: Send + Sync + 'static> FromContext<Socket> for State<T> {
    fn from_context(socket: &mut Socket) -> Result<Self, ArgsError> {
        State::of(socket)
    }
}
