//! Handlers: the shape of user callbacks, what they take as parameters, and how they run.
//!
//! A handler is an async closure or `async fn` whose parameters are *extractors*: each is
//! produced, in any order, from what the handler is called for (its context `C`: a received
//! event, a new connection) through [`FromContext`]. An event handler can take the
//! [`Socket`](crate::Socket), the [`AckSender`](crate::AckSender), the
//! [`Namespace`](crate::Namespace), and the event's arguments as any deserializable type;
//! see [`Socket::on`](crate::Socket::on). It returns `()` or a `Result<(), E>`, whose error is
//! reported with the event's name rather than dropped.
//!
//! A handler starts right away, in the order the packets arrived, on the task that read them:
//! everything it does before its first `.await` happens before the next packet of the
//! connection is looked at, exactly like the synchronous part of a Node listener. Whatever
//! remains after an `.await` runs as a task of its own.
//!
//! **Where to register event handlers.** A socket's events wait until its connect handlers
//! have started, that is, run up to their first `.await`; then they go to the handlers
//! registered so far. Register a socket's handlers (`socket.on(...)`) at the top of the connect
//! handler, before anything it awaits — as in Node, where the `connection` listener registers
//! them synchronously. A handler registered after an `.await` misses the events that arrived
//! meanwhile. (roomcast-gateway's declared handlers are in place before the socket's first
//! event is looked at.)
//!
//! This module knows nothing of sockets or events: the types that make up a context, and the
//! extractors they offer, live with those types.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::payload::ArgsError;

/// A boxed future, as handlers and the adapter's asynchronous operations return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A boxed error, as a handler's `Result` or an adapter reports it.
pub use roomcast_engineio::BoxError;

/// Polls `future` once here and now and gives its output to `then`; if it is not done, it goes
/// on as a task, which calls `then` when it is.
pub(crate) fn run_inline<T, F>(mut future: BoxFuture<'static, T>, then: F)
where
    T: Send + 'static,
    F: FnOnce(T) + Send + 'static,
{
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => then(output),
        // The task polls it again at once, registering its own waker.
        Poll::Pending => {
            tokio::spawn(async move { then(future.await) });
        }
    }
}

/// Runs a future that yields nothing, as [`run_inline`] does.
pub(crate) fn spawn_inline(future: BoxFuture<'static, ()>) {
    run_inline(future, drop);
}

/// A handler parameter, produced from the handler's context `C`.
///
/// For events (`C` = [`EventContext`](crate::EventContext)) roomcast provides
/// [`Socket`](crate::Socket), [`AckSender`](crate::AckSender),
/// [`Namespace`](crate::Namespace), [`Server`](crate::Server),
/// [`Handshake`](crate::Handshake), [`State<T>`](crate::State), and any `T: DeserializeOwned`,
/// which is read from the event's arguments: a tuple takes them positionally, `()` none, any
/// other type the first one ([`Args`](crate::Args) takes them as they came). Connect handlers
/// (`C` = [`Socket`](crate::Socket)) take the socket, its namespace, server, handshake, and
/// `State<T>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of this handler",
    label = "not an extractor",
    note = "the parameters of an event handler are, in any order: Socket, AckSender, Namespace, \
            Server, Handshake, State<T>, and the event's arguments as any type that implements \
            serde::Deserialize (a connect handler: Socket, Namespace, Server, Handshake, State<T>)"
)]
pub trait FromContext<C>: Sized {
    /// Takes the parameter out of the context (or says why the context does not fit it).
    fn from_context(ctx: &mut C) -> Result<Self, ArgsError>;
}

/// What a handler may return: `()`, or a `Result<(), E>` whose error is reported.
#[diagnostic::on_unimplemented(
    message = "a handler cannot return `{Self}`",
    note = "a handler returns () or Result<(), E> where E converts into a boxed error"
)]
pub trait HandlerOutput: Send + 'static {
    /// The outcome as a `Result`.
    fn into_result(self) -> Result<(), BoxError>;
}

impl HandlerOutput for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError> + Send + 'static> HandlerOutput for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// A callback for the context `C`: an async closure or `async fn` whose parameters are each
/// [`FromContext<C>`] (up to eight) and whose output is a [`HandlerOutput`]. `T` is the tuple
/// of its parameter types, which only tells the implementations apart.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler here",
    label = "not a handler",
    note = "a handler is an async closure or async fn whose parameters are extractors \
            (for events: Socket, AckSender, Namespace, the arguments as a deserializable type) \
            and that returns () or Result<(), E>"
)]
pub trait Handler<C, T>: Send + Sync + 'static {
    /// Extracts the parameters and starts the callback.
    fn call(&self, ctx: C) -> Result<BoxFuture<'static, Result<(), BoxError>>, ArgsError>;
}

macro_rules! impl_handler {
    ($($param:ident),*) => {
        impl<F, Fut, C, $($param,)*> Handler<C, ($($param,)*)> for F
        where
            F: Fn($($param),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: HandlerOutput,
            $($param: FromContext<C>,)*
        {
            #[allow(non_snake_case, unused_variables, unused_mut)]
            fn call(&self, mut ctx: C) -> Result<BoxFuture<'static, Result<(), BoxError>>, ArgsError> {
                $(let $param = $param::from_context(&mut ctx)?;)*
                let future = self($($param),*);
                Ok(Box::pin(async move { future.await.into_result() }))
            }
        }
    };
}

impl_handler!();
impl_handler!(T1);
impl_handler!(T1, T2);
impl_handler!(T1, T2, T3);
impl_handler!(T1, T2, T3, T4);
impl_handler!(T1, T2, T3, T4, T5);
impl_handler!(T1, T2, T3, T4, T5, T6);
impl_handler!(T1, T2, T3, T4, T5, T6, T7);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8);

/// A [`Handler`] with its parameter types erased, as handler tables store them.
pub(crate) trait ErasedHandler<C>: Send + Sync + 'static {
    fn call(&self, ctx: C) -> Result<BoxFuture<'static, Result<(), BoxError>>, ArgsError>;
}

struct Erased<H, T>(H, std::marker::PhantomData<fn() -> T>);

impl<C, H: Handler<C, T>, T: 'static> ErasedHandler<C> for Erased<H, T> {
    fn call(&self, ctx: C) -> Result<BoxFuture<'static, Result<(), BoxError>>, ArgsError> {
        self.0.call(ctx)
    }
}

/// Erases a handler's parameter types.
pub(crate) fn erase<C: 'static, H: Handler<C, T>, T: 'static>(
    handler: H,
) -> std::sync::Arc<dyn ErasedHandler<C>> {
    std::sync::Arc::new(Erased(handler, std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn inline_futures_run_their_synchronous_part_at_once() {
        let counter = Arc::new(AtomicUsize::new(0));
        let c = counter.clone();
        spawn_inline(Box::pin(async move {
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

    /// A context of two numbers; each `u8` parameter takes the next one.
    struct Pair(Vec<u8>);

    impl FromContext<Pair> for u8 {
        fn from_context(ctx: &mut Pair) -> Result<u8, ArgsError> {
            Ok(ctx.0.remove(0))
        }
    }

    #[tokio::test]
    async fn handlers_take_their_parameters_from_the_context_and_report_errors() {
        let sum = Arc::new(AtomicUsize::new(0));
        let s = sum.clone();
        let add = erase(move |a: u8, b: u8| {
            let s = s.clone();
            async move {
                s.fetch_add(usize::from(a) * 10 + usize::from(b), Ordering::SeqCst);
            }
        });
        let outcome = add.call(Pair(vec![4, 2])).expect("extracted").await;
        assert!(outcome.is_ok());
        assert_eq!(sum.load(Ordering::SeqCst), 42);

        let failing = erase(|_: u8| async { Err::<(), _>("refused") });
        let outcome = failing.call(Pair(vec![1])).expect("extracted").await;
        assert_eq!(
            outcome.map_err(|e| e.to_string()),
            Err("refused".to_owned())
        );
    }
}
