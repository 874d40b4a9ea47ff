//! How the adapters of a server are configured and connected, and the factory that makes the
//! adapter of each namespace.

use std::sync::Arc;
use std::time::Duration;

use roomcast::adapter::Adapter;
use roomcast::AdapterFactory;

use crate::adapter::RedisAdapter;
use crate::driver::Driver;
use crate::error::RedisError;
use crate::mode::SubscriptionMode;
use crate::reader::{ReadOptions, StreamReaders};
use crate::wire::classic::Classic;
use crate::wire::protocol::Protocol;
use crate::wire::sharded::Sharded;
use crate::wire::streams::{Streams, StreamsConfig};

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
            config: Arc::new(Config::PubSub(self)),
        })
    }
}

/// How to connect the Redis Streams adapters of a server; see [`RedisAdapter::streams`].
#[derive(Debug, Clone)]
pub struct RedisStreamsAdapterBuilder {
    urls: Vec<String>,
    cluster: bool,
    config: StreamsConfig,
    read: ReadOptions,
    requests_timeout: Duration,
}

impl RedisAdapter {
    /// Adapters over Redis Streams at `url`, wire-compatible with Node's
    /// `@socket.io/redis-streams-adapter` 0.3, with its defaults: stream `socket.io`, at most
    /// about 10,000 entries kept, pub/sub channels prefixed `socket.io`. The one to use with
    /// connection state recovery across servers: a client that drops from one server gets its
    /// socket back on any other, with what it missed.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use roomcast::{RecoveryOptions, Server, ServerOptions};
    /// use roomcast_redis::RedisAdapter;
    ///
    /// # async fn demo() -> Result<(), roomcast_redis::RedisError> {
    /// let redis = RedisAdapter::streams("redis://127.0.0.1:6379")
    ///     .stream_name("myapp")
    ///     .max_len(50_000)
    ///     .connect()
    ///     .await?;
    /// let mut options = ServerOptions::default();
    /// options.adapter = redis.factory();
    /// options.connection_state_recovery = Some(RecoveryOptions::default());
    /// let io = Server::with_options(options);
    /// # Ok(()) }
    /// ```
    pub fn streams(url: impl Into<String>) -> RedisStreamsAdapterBuilder {
        RedisStreamsAdapterBuilder {
            urls: vec![url.into()],
            cluster: false,
            config: StreamsConfig {
                stream_name: "socket.io".to_owned(),
                stream_count: 1,
                channel_prefix: "socket.io".to_owned(),
                sharded: false,
                max_len: 10_000,
                only_plaintext: false,
                session_prefix: "sio:session:".to_owned(),
            },
            read: ReadOptions {
                count: 100,
                block: Duration::from_secs(5),
            },
            requests_timeout: Duration::from_secs(5),
        }
    }
}

impl RedisStreamsAdapterBuilder {
    /// The stream's key (Node's `streamName`, default `socket.io`); with several streams, the
    /// prefix of `<name>-<i>`.
    pub fn stream_name(mut self, name: impl Into<String>) -> Self {
        self.config.stream_name = name.into();
        self
    }

    /// How many streams the namespaces are spread over (Node's `streamCount`, default 1).
    pub fn stream_count(mut self, count: u32) -> Self {
        self.config.stream_count = count.max(1);
        self
    }

    /// The prefix of the pub/sub channels of requests and answers (Node's `channelPrefix`,
    /// default `socket.io`).
    pub fn channel_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.channel_prefix = prefix.into();
        self
    }

    /// Requests and answers on sharded pub/sub (Node's `useShardedPubSub`, Redis ≥ 7).
    pub fn sharded_pub_sub(mut self, sharded: bool) -> Self {
        self.config.sharded = sharded;
        self
    }

    /// About how many entries a stream keeps (Node's `maxLen`, default 10,000): a client
    /// whose offset has been trimmed away gets a fresh socket.
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.config.max_len = max_len;
        self
    }

    /// Most entries read at a time (Node's `readCount`, default 100).
    pub fn read_count(mut self, count: usize) -> Self {
        self.read.count = count.max(1);
        self
    }

    /// How long a read waits for new entries (Node's `blockTimeInMs`, default 5 s).
    pub fn block_time(mut self, block: Duration) -> Self {
        self.read.block = block;
        self
    }

    /// The prefix of the keys sessions are kept under (Node's `sessionKeyPrefix`, default
    /// `sio:session:`).
    pub fn session_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.session_prefix = prefix.into();
        self
    }

    /// Entries always in JSON, binary written as Node's `Buffer` objects (Node's
    /// `onlyPlaintext`), rather than MessagePack when a broadcast carries binary.
    pub fn only_plaintext(mut self, only: bool) -> Self {
        self.config.only_plaintext = only;
        self
    }

    /// How long a request (`fetch_sockets`, `server_side_emit_with_ack`) waits for the other
    /// servers (default 5 s, as Node's; a fetch's own `timeout` wins).
    pub fn requests_timeout(mut self, timeout: Duration) -> Self {
        self.requests_timeout = timeout;
        self
    }

    /// Treats the URL, and these, as the seed nodes of a Redis Cluster.
    pub fn cluster<I: IntoIterator<Item = S>, S: Into<String>>(mut self, nodes: I) -> Self {
        self.cluster = true;
        self.urls.extend(nodes.into_iter().map(Into::into));
        self
    }

    /// Connects to Redis: a connection for commands, one for subscriptions, and one per
    /// stream read, shared by every namespace.
    pub async fn connect(self) -> Result<RedisAdapterFactory, RedisError> {
        let driver = Driver::connect(&self.urls, self.cluster, true).await?;
        let readers = Arc::new(StreamReaders::new(driver.clone(), self.read));
        Ok(RedisAdapterFactory {
            driver,
            config: Arc::new(Config::Streams {
                builder: self,
                readers,
            }),
        })
    }
}

/// Connected Redis adapters: [`RedisAdapterFactory::factory`] goes into
/// [`ServerOptions::adapter`](roomcast::ServerOptions::adapter).
#[derive(Clone)]
pub struct RedisAdapterFactory {
    driver: Arc<Driver>,
    config: Arc<Config>,
}

/// What the adapters of a factory are.
#[derive(Debug)]
enum Config {
    PubSub(RedisAdapterBuilder),
    Streams {
        builder: RedisStreamsAdapterBuilder,
        readers: Arc<StreamReaders>,
    },
}

impl RedisAdapterFactory {
    /// Makes the adapter of each namespace.
    pub fn factory(&self) -> AdapterFactory {
        let this = self.clone();
        Arc::new(move |nsp: &str| -> Arc<dyn Adapter> { this.adapter(nsp) })
    }

    /// The adapter of one namespace.
    pub fn adapter(&self, nsp: &str) -> Arc<RedisAdapter> {
        let driver = self.driver.clone();
        match &*self.config {
            Config::PubSub(config) => {
                let protocol: Box<dyn Protocol> = match config.sharded {
                    Some(mode) => Box::new(Sharded::new(&config.key, nsp, mode)),
                    None => Box::new(Classic::new(&config.key, nsp, config.specific_responses)),
                };
                RedisAdapter::new(driver, protocol, None, config.requests_timeout)
            }
            Config::Streams { builder, readers } => RedisAdapter::new(
                driver,
                Box::new(Streams::new(&builder.config, nsp)),
                Some(readers.clone()),
                builder.requests_timeout,
            ),
        }
    }
}

impl std::fmt::Debug for RedisAdapterFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapterFactory")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
