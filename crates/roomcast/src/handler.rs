//! The shapes of user callbacks, and how they run.
//!
//! A callback is an async closure. It starts right away, in the order the packets arrived,
//! on the task that read them: everything it does before its first `.await` happens before
//! the next packet of the connection is looked at, exactly like the synchronous part of a
//! Node listener. Whatever remains after an `.await` runs as a task of its own.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Waker};

use serde::de::DeserializeOwned;

use crate::ack::AckSender;
use crate::error::ConnectError;
use crate::payload::{Args, ArgsError};
use crate::socket::{DisconnectReason, Socket};

pub(crate) type BoxFuture<T> = crate::adapter::BoxFuture<'static, T>;

/// Polls `future` once here and now; if it is not done, it goes on as a task.
pub(crate) fn run_inline(mut future: BoxFuture<()>) {
    let mut cx = Context::from_waker(Waker::noop());
    if future.as_mut().poll(&mut cx).is_pending() {
        // The task polls it again at once, registering its own waker.
        tokio::spawn(future);
    }
}

/// An event handler: `|socket: Socket, data: T| async move { .. }`, or with the client's
/// acknowledgement callback, `|socket: Socket, data: T, ack: AckSender| async move { .. }`.
///
/// `T` is read from the event's arguments: a tuple takes them positionally, `()` none, any
/// other type the first one ([`Value`](crate::Value) or [`Args`] take anything).
pub trait EventHandler<M>: Send + Sync + 'static {
    /// Starts the handler, or says why the arguments do not fit it.
    fn call(&self, socket: Socket, args: Args, ack: AckSender) -> Result<BoxFuture<()>, ArgsError>;
}

/// Reads the arguments as the handler's type; a handler that takes [`Args`] gets them as they
/// came, without a round trip through serde.
fn read_args<T: DeserializeOwned + 'static>(args: Args) -> Result<T, ArgsError> {
    let mut slot = Some(args);
    let as_is = (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<T>>()
        .and_then(Option::take);
    match (as_is, slot) {
        (Some(args), _) => Ok(args),
        (None, Some(args)) => args.deserialize(),
        (None, None) => Args::default().deserialize(),
    }
}

impl<F, Fut, T> EventHandler<(T,)> for F
where
    F: Fn(Socket, T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    T: DeserializeOwned + 'static,
{
    fn call(
        &self,
        socket: Socket,
        args: Args,
        _ack: AckSender,
    ) -> Result<BoxFuture<()>, ArgsError> {
        let data = read_args::<T>(args)?;
        Ok(Box::pin(self(socket, data)))
    }
}

impl<F, Fut, T> EventHandler<(T, AckSender)> for F
where
    F: Fn(Socket, T, AckSender) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    T: DeserializeOwned + 'static,
{
    fn call(&self, socket: Socket, args: Args, ack: AckSender) -> Result<BoxFuture<()>, ArgsError> {
        let data = read_args::<T>(args)?;
        Ok(Box::pin(self(socket, data, ack)))
    }
}

/// A type-erased [`EventHandler`].
pub(crate) trait ErasedEventHandler: Send + Sync + 'static {
    fn call(&self, socket: Socket, args: Args, ack: AckSender) -> Result<BoxFuture<()>, ArgsError>;
}

pub(crate) struct Erased<H, M>(pub(crate) H, pub(crate) PhantomData<fn() -> M>);

impl<H: EventHandler<M>, M: 'static> ErasedEventHandler for Erased<H, M> {
    fn call(&self, socket: Socket, args: Args, ack: AckSender) -> Result<BoxFuture<()>, ArgsError> {
        self.0.call(socket, args, ack)
    }
}

/// Runs when a socket has connected to a namespace: `|socket: Socket| async move { .. }`.
pub(crate) type ConnectHandler = Arc<dyn Fn(Socket) -> BoxFuture<()> + Send + Sync>;

/// Namespace middleware: `|socket: Socket| async move { Ok(()) }`, refusing the connection
/// with a [`ConnectError`].
pub(crate) type Middleware =
    Arc<dyn Fn(Socket) -> BoxFuture<Result<(), ConnectError>> + Send + Sync>;

/// Runs on `disconnecting` and `disconnect`: `|socket: Socket, reason| async move { .. }`.
pub(crate) type DisconnectHandler =
    Arc<dyn Fn(Socket, DisconnectReason) -> BoxFuture<()> + Send + Sync>;

/// Sees every incoming event: `|socket: Socket, event: String, args: Args| async move { .. }`.
pub(crate) type AnyHandler = Arc<dyn Fn(Socket, String, Args) -> BoxFuture<()> + Send + Sync>;

/// Incoming-packet middleware: `|socket: Socket, event: String, args: Args| async move { Ok(()) }`;
/// an `Err` stops the event and goes to the error handlers.
pub(crate) type PacketMiddleware =
    Arc<dyn Fn(Socket, String, Args) -> BoxFuture<Result<(), String>> + Send + Sync>;

/// Receives what a socket's packet middleware refused, or a payload that did not fit a
/// handler: `|socket: Socket, error: EventError| async move { .. }`.
pub(crate) type ErrorHandler = Arc<dyn Fn(Socket, EventError) -> BoxFuture<()> + Send + Sync>;

/// An incoming event that did not reach its handler.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EventError {
    /// A packet middleware (`socket.use_`) refused it.
    #[error("event {event:?} refused: {message}")]
    Refused {
        /// The event name.
        event: String,
        /// The middleware's message.
        message: String,
    },
    /// The arguments do not fit the handler's type.
    #[error("event {event:?}: {error}")]
    InvalidPayload {
        /// The event name.
        event: String,
        /// What did not fit.
        error: ArgsError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn inline_futures_run_their_synchronous_part_at_once() {
        let counter = Arc::new(AtomicUsize::new(0));
        let c = counter.clone();
        run_inline(Box::pin(async move {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            c.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        for _ in 0..100 {
            if counter.load(Ordering::SeqCst) == 2 {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the rest of the future never ran");
    }
}
