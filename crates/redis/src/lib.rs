//! Redis adapters for roomcast: rooms and broadcasts across processes, wire-compatible with
//! Node's `@socket.io/redis-adapter` 8 and `@socket.io/redis-streams-adapter` 0.3, so that
//! roomcast servers scale out together **and** join a fleet of Node `socket.io` servers on the
//! same Redis.
//!
//! * The classic adapter (`createAdapter` in Node): pub/sub with `PUBLISH` / `PSUBSCRIBE`.
//! * The sharded adapter (`createShardedAdapter`, Redis ≥ 7): sharded pub/sub with `SPUBLISH` /
//!   `SSUBSCRIBE`, on one server or a Redis Cluster, each room on its own channel by
//!   [`SubscriptionMode`].
//! * The streams adapter ([`RedisAdapter::streams`]): broadcasts and room changes through a
//!   Redis stream, which keeps them for a while, so that connection state recovery works across
//!   servers: a client that drops from one server recovers its socket on any other.
//! * The [`Emitter`]: publish into a cluster from a process that is not a server
//!   (`@socket.io/redis-emitter`).
//!
//! Every operation reaches the other servers: broadcasts (with `rooms` / `except`,
//! `volatile`; `local` stays local), broadcasts with acknowledgements, `sockets_join`,
//! `sockets_leave`, `disconnect_sockets`, `fetch_sockets`, `server_side_emit` with or without
//! acknowledgements, room listings, the server count. Requests wait for as many answers as
//! there are other servers (counted with `PUBSUB NUMSUB` / `SHARDNUMSUB`), at most
//! `requests_timeout`.
//!
//! ```no_run
//! use roomcast::{Server, ServerOptions, Socket};
//! use roomcast_redis::RedisAdapter;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let redis = RedisAdapter::builder("redis://127.0.0.1:6379").connect().await?;
//!     let mut options = ServerOptions::default();
//!     options.adapter = redis.factory();
//!     let io = Server::with_options(options);
//!     io.on_connect(|socket: Socket| async move {
//!         let _ = socket.join("general").await;
//!         // Reaches the sockets of "general" on every server of the cluster.
//!         let _ = socket.to("general").emit("joined", socket.id().as_str()).await;
//!     });
//!     io.listen("127.0.0.1:3000").await?;
//!     Ok(())
//! }
//! ```
//!
//! Redis itself: [redis-rs](https://docs.rs/redis), one connection for commands and one for
//! subscriptions per server process (whatever the number of namespaces), plus one per stream
//! read, reconnecting with backoff and subscribing again when Redis comes back; the gap is
//! logged once, with its duration. Messages published while Redis is away are lost, as with
//! Node's adapters; a stream is read again from where reading stopped.

mod adapter;
mod builder;
mod driver;
mod emitter;
mod entry;
mod error;
mod ids;
mod mode;
mod reader;
mod session;
mod wire;

pub use adapter::RedisAdapter;
pub use builder::{RedisAdapterBuilder, RedisAdapterFactory, RedisStreamsAdapterBuilder};
pub use emitter::{Emitter, EmitterBuilder};
pub use error::RedisError;
pub use mode::SubscriptionMode;
