//! Redis adapters for roomcast: rooms and broadcasts across processes, wire-compatible with
//! Node's `@socket.io/redis-adapter` 8, so that roomcast servers scale out together **and**
//! join a fleet of Node `socket.io` servers on the same Redis.
//!
//! * The classic adapter (`createAdapter` in Node): pub/sub with `PUBLISH` / `PSUBSCRIBE`.
//! * The sharded adapter (`createShardedAdapter`, Redis ≥ 7): sharded pub/sub with `SPUBLISH` /
//!   `SSUBSCRIBE`, on one server or a Redis Cluster, each room on its own channel by
//!   [`SubscriptionMode`].
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
//! subscriptions per server process (whatever the number of namespaces), reconnecting with
//! backoff and subscribing again when Redis comes back; the gap is logged once, with its
//! duration. Messages published while Redis is away are lost, as with Node's adapters.

mod adapter;
mod driver;
mod emitter;
mod error;
mod ids;
mod mode;
mod msgpack;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use roomcast::adapter::Adapter;
use roomcast::AdapterFactory;

pub use adapter::RedisAdapter;
pub use emitter::{Emitter, EmitterBuilder};
pub use error::RedisError;
pub use mode::SubscriptionMode;

use driver::Driver;
use wire::classic::Classic;
use wire::sharded::Sharded;

/// How to connect the Redis adapters of a server; see [`RedisAdapter::builder`].
#[derive(Debug, Clone)]
pub struct RedisAdapterBuilder {
    urls: Vec<String>,
    cluster: bool,
    key: String,
    requests_timeout: Duration,
    sharded: Option<SubscriptionMode>,
    specific_responses: bool,
}

impl RedisAdapter {
    /// Adapters over the Redis server at `url` (`redis://host:port[/db]`), with Node's
    /// defaults: the classic protocol, key `socket.io`, requests timing out after 5 s.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use roomcast_redis::{RedisAdapter, SubscriptionMode};
    ///
    /// # async fn demo() -> Result<(), roomcast_redis::RedisError> {
    /// let redis = RedisAdapter::builder("redis://127.0.0.1:7000")
    ///     .cluster(["redis://127.0.0.1:7001", "redis://127.0.0.1:7002"])
    ///     .sharded(SubscriptionMode::Dynamic)
    ///     .key("myapp")
    ///     .requests_timeout(Duration::from_secs(2))
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: impl Into<String>) -> RedisAdapterBuilder {
        RedisAdapterBuilder {
            urls: vec![url.into()],
            cluster: false,
            key: "socket.io".to_owned(),
            requests_timeout: Duration::from_secs(5),
            sharded: None,
            specific_responses: false,
        }
    }
}

impl RedisAdapterBuilder {
    /// The prefix of every channel (Node's `key` for the classic adapter, `channelPrefix` for
    /// the sharded one; default `socket.io`). Every server of a cluster uses the same.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// How long a request (`fetch_sockets`, `all_rooms`, `server_side_emit_with_ack`) waits
    /// for the other servers (Node's `requestsTimeout`, default 5 s).
    pub fn requests_timeout(mut self, timeout: Duration) -> Self {
        self.requests_timeout = timeout;
        self
    }

    /// Sharded pub/sub (Node's `createShardedAdapter`, Redis ≥ 7) with this subscription
    /// mode, instead of the classic adapter. Every server of a cluster uses the same mode.
    pub fn sharded(mut self, mode: SubscriptionMode) -> Self {
        self.sharded = Some(mode);
        self
    }

    /// Treats the URL, and these, as the seed nodes of a Redis Cluster.
    pub fn cluster<I: IntoIterator<Item = S>, S: Into<String>>(mut self, nodes: I) -> Self {
        self.cluster = true;
        self.urls.extend(nodes.into_iter().map(Into::into));
        self
    }

    /// Classic adapter: answers go to the requesting server's own response channel (Node's
    /// `publishOnSpecificResponseChannel`, default off).
    pub fn publish_on_specific_response_channel(mut self, specific: bool) -> Self {
        self.specific_responses = specific;
        self
    }

    /// Connects to Redis (two connections, shared by every namespace).
    pub async fn connect(self) -> Result<RedisAdapterFactory, RedisError> {
        let driver = Driver::connect(&self.urls, self.cluster, true).await?;
        Ok(RedisAdapterFactory {
            driver,
            config: Arc::new(self),
        })
    }
}

/// Connected Redis adapters: [`RedisAdapterFactory::factory`] goes into
/// [`ServerOptions::adapter`](roomcast::ServerOptions::adapter).
#[derive(Clone)]
pub struct RedisAdapterFactory {
    driver: Arc<Driver>,
    config: Arc<RedisAdapterBuilder>,
}

impl RedisAdapterFactory {
    /// Makes the adapter of each namespace.
    pub fn factory(&self) -> AdapterFactory {
        let this = self.clone();
        Arc::new(move |nsp: &str| -> Arc<dyn Adapter> { this.adapter(nsp) })
    }

    /// The adapter of one namespace.
    pub fn adapter(&self, nsp: &str) -> Arc<RedisAdapter> {
        let config = &self.config;
        let protocol: Box<dyn wire::Protocol> = match config.sharded {
            Some(mode) => Box::new(Sharded::new(&config.key, nsp, mode)),
            None => Box::new(Classic::new(&config.key, nsp, config.specific_responses)),
        };
        RedisAdapter::new(self.driver.clone(), protocol, config.requests_timeout)
    }
}

impl std::fmt::Debug for RedisAdapterFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapterFactory")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
