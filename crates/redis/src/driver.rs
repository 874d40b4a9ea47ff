//! Redis itself: one connection for commands and publishing, one for subscriptions (RESP3 push
//! messages), on a standalone server or a Redis Cluster. Messages are handed to the receiver
//! that subscribed their channel or pattern, on one task, in the order Redis sent them;
//! publishing goes through one queue, written in batches, in order; so do stream entries, each
//! followed, in order, by what its writer does with the id Redis gave it.
//!
//! When Redis goes away, both connections reconnect with backoff and the subscriptions are
//! made again; the gap is logged once, with its duration, when it ends. Messages published
//! meanwhile are lost, as with Node's adapters; everything local goes on.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{MultipleNodeRoutingInfo, ResponsePolicy, RoutingInfo};
use redis::{
    Client, Cmd, FromRedisValue, IntoConnectionInfo, Msg, ProtocolVersion, PushInfo, PushKind,
    RedisResult,
};
use tokio::sync::mpsc;

use crate::error::RedisError;
use crate::wire::message::{Append, Count, Publish, Subscriptions};

/// How long a command may take before it counts as failed (Redis gone: the reconnection
/// goes on, the caller does not wait for it).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// Most messages written in one round trip.
const BATCH: usize = 256;

/// Where the messages of a subscription go.
pub(crate) trait Receiver: Send + Sync + 'static {
    /// A message on `channel`. Runs on the driver's task: it must not block.
    fn on_message(&self, channel: &str, payload: &[u8]);
}

/// A connection for commands.
#[derive(Clone)]
pub(crate) enum Commands {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Commands {
    /// Runs a command (on a cluster, on the node of its key).
    pub(crate) async fn query<T: FromRedisValue>(&mut self, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Commands::Single(connection) => cmd.query_async(connection).await,
            Commands::Cluster(connection) => cmd.query_async(connection).await,
        }
    }
}

/// What a stream entry's writer does once Redis has taken it (with its id) or failed to.
pub(crate) type Appended = Box<dyn FnOnce(Result<String, RedisError>) + Send>;

/// What the subscription task is asked to do, in order.
enum Change {
    Subscribe(Subscriptions, Weak<dyn Receiver>),
    Unsubscribe(Subscriptions),
}

/// A Redis server or cluster, shared by the adapters of every namespace of a server.
pub(crate) struct Driver {
    commands: Commands,
    /// `None` for a process that only publishes (an emitter).
    subscriber: Option<Commands>,
    routes: RwLock<Routes>,
    outbox: mpsc::UnboundedSender<Publish>,
    appends: mpsc::UnboundedSender<(Append, Appended)>,
    changes: mpsc::UnboundedSender<Change>,
    /// Sharded channels subscribed to, made again after a cluster node comes back (the client
    /// does not restore them itself).
    shard_channels: Mutex<HashSet<String>>,
    urls: Vec<String>,
    cluster: bool,
}

#[derive(Default)]
struct Routes {
    channels: HashMap<String, Weak<dyn Receiver>>,
    patterns: HashMap<String, Weak<dyn Receiver>>,
}

fn connection_manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_secs(2))
        .set_number_of_retries(usize::MAX)
        .set_connection_timeout(Some(COMMAND_TIMEOUT))
        .set_response_timeout(Some(COMMAND_TIMEOUT))
}

impl Driver {
    /// Connects to `urls`: one standalone server, or the seed nodes of a cluster; with
    /// `subscribe`, also a connection for subscriptions.
    pub(crate) async fn connect(
        urls: &[String],
        cluster: bool,
        subscribe: bool,
    ) -> Result<Arc<Driver>, RedisError> {
        let (push_sender, pushes) = mpsc::unbounded_channel::<PushInfo>();
        let (commands, subscriber) = if cluster {
            let builder = || ClusterClientBuilder::new(urls.to_vec()).retries(u32::MAX);
            let commands = builder().build()?.get_async_connection().await?;
            let subscriber = if subscribe {
                let connection = builder()
                    .use_protocol(ProtocolVersion::RESP3)
                    .push_sender(push_sender)
                    .build()?
                    .get_async_connection()
                    .await?;
                Some(Commands::Cluster(connection))
            } else {
                None
            };
            (Commands::Cluster(commands), subscriber)
        } else {
            let url = urls
                .first()
                .ok_or_else(|| RedisError::Config("no Redis URL".into()))?;
            let info = url.as_str().into_connection_info()?;
            let resp3 = info.clone().set_redis_settings(
                info.redis_settings()
                    .clone()
                    .set_protocol(ProtocolVersion::RESP3),
            );
            let commands = Client::open(info)?
                .get_connection_manager_with_config(connection_manager_config())
                .await?;
            let subscriber = if subscribe {
                let connection = Client::open(resp3)?
                    .get_connection_manager_with_config(
                        connection_manager_config()
                            .set_push_sender(push_sender)
                            .set_automatic_resubscription(),
                    )
                    .await?;
                Some(Commands::Single(connection))
            } else {
                None
            };
            (Commands::Single(commands), subscriber)
        };
        let (outbox, queue) = mpsc::unbounded_channel();
        let (appends, append_queue) = mpsc::unbounded_channel();
        let (changes, change_queue) = mpsc::unbounded_channel();
        let driver = Arc::new(Driver {
            commands: commands.clone(),
            subscriber,
            routes: RwLock::new(Routes::default()),
            outbox,
            appends,
            changes,
            shard_channels: Mutex::new(HashSet::new()),
            urls: urls.to_vec(),
            cluster,
        });
        tokio::spawn(append_queue_task(commands.clone(), append_queue));
        tokio::spawn(publish_queue(commands, queue));
        tokio::spawn(dispatch(Arc::downgrade(&driver), pushes));
        tokio::spawn(apply_changes(Arc::downgrade(&driver), change_queue));
        Ok(driver)
    }

    /// Queues a message; it is written in order with the others. Never waits.
    pub(crate) fn publish(&self, message: Publish) {
        let _ = self.outbox.send(message);
    }

    /// Queues a stream entry; it is written in order with the others, then `then` runs with
    /// its id, in the same order. Never waits.
    pub(crate) fn append(&self, entry: Append, then: Appended) {
        if let Err(mpsc::error::SendError((_, then))) = self.appends.send((entry, then)) {
            then(Err(RedisError::Config(
                "the Redis connection is closed".into(),
            )));
        }
    }

    /// A command on the command connection, giving up after [`COMMAND_TIMEOUT`].
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, RedisError> {
        let mut commands = self.commands.clone();
        timed(commands.query(cmd)).await
    }

    /// A connection of its own, for commands that wait on the server (`XREAD BLOCK`): a reply
    /// may take up to `longest`.
    pub(crate) async fn dedicated(&self, longest: Duration) -> Result<Commands, RedisError> {
        if self.cluster {
            let connection = ClusterClientBuilder::new(self.urls.clone())
                .retries(u32::MAX)
                .response_timeout(longest)
                .build()?
                .get_async_connection()
                .await?;
            return Ok(Commands::Cluster(connection));
        }
        let url = self
            .urls
            .first()
            .ok_or_else(|| RedisError::Config("no Redis URL".into()))?;
        let connection = Client::open(url.as_str())?
            .get_connection_manager_with_config(
                connection_manager_config().set_response_timeout(Some(longest)),
            )
            .await?;
        Ok(Commands::Single(connection))
    }

    /// Publishes a message now, waiting for Redis to take it.
    pub(crate) async fn publish_now(&self, message: Publish) -> Result<(), RedisError> {
        let mut commands = self.commands.clone();
        timed(write_batch(&mut commands, std::slice::from_ref(&message))).await
    }

    /// Routes `subscriptions` to `receiver` and subscribes to them; returns once Redis has
    /// confirmed.
    pub(crate) async fn subscribe(
        &self,
        receiver: Weak<dyn Receiver>,
        subscriptions: &Subscriptions,
    ) -> Result<(), RedisError> {
        self.route(subscriptions, Some(&receiver));
        timed(self.change(true, subscriptions)).await
    }

    /// Unsubscribes and forgets the routes; returns once Redis has confirmed.
    pub(crate) async fn unsubscribe(
        &self,
        subscriptions: &Subscriptions,
    ) -> Result<(), RedisError> {
        let result = timed(self.change(false, subscriptions)).await;
        self.route(subscriptions, None);
        result
    }

    /// Routes the messages of `subscriptions` to `receiver`, or (`None`) nowhere.
    fn route(&self, subscriptions: &Subscriptions, receiver: Option<&Weak<dyn Receiver>>) {
        let mut routes = self.routes.write();
        let channels = subscriptions
            .channels
            .iter()
            .chain(&subscriptions.shard_channels);
        for channel in channels {
            match receiver {
                Some(receiver) => routes.channels.insert(channel.clone(), receiver.clone()),
                None => routes.channels.remove(channel),
            };
        }
        for pattern in &subscriptions.patterns {
            match receiver {
                Some(receiver) => routes.patterns.insert(pattern.clone(), receiver.clone()),
                None => routes.patterns.remove(pattern),
            };
        }
    }

    /// Subscribes to a sharded channel later, in order with the other changes (for the
    /// rooms of the sharded adapter's dynamic modes). Never waits.
    pub(crate) fn subscribe_later(&self, receiver: Weak<dyn Receiver>, channel: String) {
        let subscriptions = Subscriptions {
            shard_channels: vec![channel],
            ..Subscriptions::default()
        };
        let _ = self
            .changes
            .send(Change::Subscribe(subscriptions, receiver));
    }

    /// Unsubscribes from a sharded channel later, in order with the other changes.
    pub(crate) fn unsubscribe_later(&self, channel: String) {
        let _ = self.changes.send(Change::Unsubscribe(Subscriptions {
            shard_channels: vec![channel],
            ..Subscriptions::default()
        }));
    }

    async fn change(&self, subscribe: bool, subscriptions: &Subscriptions) -> RedisResult<()> {
        let Some(mut subscriber) = self.subscriber.clone() else {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Client,
                "this connection does not subscribe",
            )));
        };
        match &mut subscriber {
            Commands::Single(connection) => {
                if subscribe {
                    for pattern in &subscriptions.patterns {
                        connection.psubscribe(pattern).await?;
                    }
                    if !subscriptions.channels.is_empty() {
                        connection.subscribe(&subscriptions.channels).await?;
                    }
                    for channel in &subscriptions.shard_channels {
                        // One channel per command: the connection takes the one confirmation
                        // as the reply.
                        redis::cmd("SSUBSCRIBE")
                            .arg(channel)
                            .query_async::<()>(connection)
                            .await?;
                    }
                } else {
                    for pattern in &subscriptions.patterns {
                        connection.punsubscribe(pattern).await?;
                    }
                    if !subscriptions.channels.is_empty() {
                        connection.unsubscribe(&subscriptions.channels).await?;
                    }
                    for channel in &subscriptions.shard_channels {
                        sunsubscribe_single(connection, channel).await?;
                    }
                }
            }
            Commands::Cluster(connection) => {
                if subscribe {
                    for pattern in &subscriptions.patterns {
                        connection.psubscribe(pattern).await?;
                    }
                    for channel in &subscriptions.channels {
                        connection.subscribe(channel).await?;
                    }
                    for channel in &subscriptions.shard_channels {
                        connection.ssubscribe(channel).await?;
                    }
                } else {
                    for pattern in &subscriptions.patterns {
                        connection.punsubscribe(pattern).await?;
                    }
                    for channel in &subscriptions.channels {
                        connection.unsubscribe(channel).await?;
                    }
                    for channel in &subscriptions.shard_channels {
                        connection.sunsubscribe(channel).await?;
                    }
                }
            }
        }
        let mut shard_channels = self.shard_channels.lock();
        for channel in &subscriptions.shard_channels {
            if subscribe {
                shard_channels.insert(channel.clone());
            } else {
                shard_channels.remove(channel);
            }
        }
        Ok(())
    }

    /// How many subscribers a channel has, summed over a cluster's masters.
    pub(crate) async fn count(&self, count: &Count) -> Result<usize, RedisError> {
        let (command, channel) = match count {
            Count::NumSub(channel) => ("NUMSUB", channel),
            Count::ShardNumSub(channel) => ("SHARDNUMSUB", channel),
        };
        let mut cmd = redis::cmd("PUBSUB");
        cmd.arg(command).arg(channel);
        let mut commands = self.commands.clone();
        let reply: redis::Value = timed(async {
            match &mut commands {
                Commands::Single(connection) => cmd.query_async(connection).await,
                Commands::Cluster(connection) => {
                    connection
                        .route_command(
                            cmd.clone(),
                            RoutingInfo::MultiNode((
                                MultipleNodeRoutingInfo::AllMasters,
                                Some(ResponsePolicy::CombineMaps),
                            )),
                        )
                        .await
                }
            }
        })
        .await?;
        subscriber_count(&reply, channel)
    }

    /// Makes every sharded subscription again (after a cluster node came back).
    async fn resubscribe_shards(&self) -> RedisResult<()> {
        let channels: Vec<String> = self.shard_channels.lock().iter().cloned().collect();
        let Some(Commands::Cluster(mut connection)) = self.subscriber.clone() else {
            return Ok(());
        };
        for channel in channels {
            connection.ssubscribe(&channel).await?;
        }
        Ok(())
    }
}

/// `SUNSUBSCRIBE` on a standalone connection: its confirmation is a push, not a reply, so a
/// `PING` rides along and its reply is the one the connection waits for.
async fn sunsubscribe_single(connection: &mut ConnectionManager, channel: &str) -> RedisResult<()> {
    let mut pipe = redis::pipe();
    pipe.cmd("SUNSUBSCRIBE").arg(channel).cmd("PING");
    connection.req_packed_commands(&pipe, 0, 1).await.map(drop)
}

/// The count in a `PUBSUB NUMSUB` / `SHARDNUMSUB` reply: `[channel, n]` from one node, a map of
/// channel to the sum from a cluster.
fn subscriber_count(reply: &redis::Value, channel: &str) -> Result<usize, RedisError> {
    use redis::Value as V;
    let as_count = |value: &V| match value {
        V::Int(n) => usize::try_from(*n).ok(),
        _ => None,
    };
    let count = match reply {
        V::Array(items) => items.chunks(2).find_map(|pair| match pair {
            [name, n]
                if redis::from_redis_value_ref::<String>(name).ok().as_deref() == Some(channel) =>
            {
                as_count(n)
            }
            _ => None,
        }),
        V::Map(entries) => entries.iter().find_map(|(name, n)| {
            (redis::from_redis_value_ref::<String>(name).ok().as_deref() == Some(channel))
                .then(|| as_count(n))
                .flatten()
        }),
        _ => None,
    };
    count.ok_or_else(|| RedisError::Reply(format!("unexpected PUBSUB reply {reply:?}")))
}

/// Runs a command, giving up after [`COMMAND_TIMEOUT`].
async fn timed<T>(
    command: impl std::future::Future<Output = RedisResult<T>>,
) -> Result<T, RedisError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(RedisError::Timeout(COMMAND_TIMEOUT)),
    }
}

/// Writes the queued messages, in order, as many at a time as have accumulated.
async fn publish_queue(mut commands: Commands, mut queue: mpsc::UnboundedReceiver<Publish>) {
    let failing = AtomicBool::new(false);
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = queue.recv().await {
        batch.push(first);
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(message) => batch.push(message),
                Err(_) => break,
            }
        }
        let result = timed(write_batch(&mut commands, &batch)).await;
        match result {
            Ok(()) => {
                if failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("publishing to Redis again");
                }
            }
            Err(error) => {
                if !failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "publishing to Redis failed; messages are lost until it is back");
                }
            }
        }
        batch.clear();
    }
}

async fn write_batch(commands: &mut Commands, batch: &[Publish]) -> RedisResult<()> {
    let verb = |message: &Publish| {
        if message.sharded {
            "SPUBLISH"
        } else {
            "PUBLISH"
        }
    };
    match commands {
        Commands::Single(connection) => {
            let mut pipe = redis::pipe();
            for message in batch {
                pipe.cmd(verb(message))
                    .arg(&message.channel)
                    .arg(&message.payload[..])
                    .ignore();
            }
            pipe.query_async::<()>(connection).await
        }
        Commands::Cluster(connection) => {
            // Each message goes to the node of its channel; issued in order, awaited together.
            let writes = batch.iter().map(|message| {
                let mut connection = connection.clone();
                let mut cmd = redis::cmd(verb(message));
                cmd.arg(&message.channel).arg(&message.payload[..]);
                async move { cmd.query_async::<()>(&mut connection).await }
            });
            for result in futures_util::future::join_all(writes).await {
                result?;
            }
            Ok(())
        }
    }
}

/// Writes the queued stream entries, as many at a time as have accumulated, then tells each
/// writer its entry's id, in order.
async fn append_queue_task(
    mut commands: Commands,
    mut queue: mpsc::UnboundedReceiver<(Append, Appended)>,
) {
    let mut failing = false;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = queue.recv().await {
        batch.push(first);
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let entries: Vec<&Append> = batch.iter().map(|(entry, _)| entry).collect();
        let ids = match timed(append_batch(&mut commands, &entries)).await {
            Ok(ids) => ids,
            Err(error) => {
                let error = error.to_string();
                vec![Err(error); batch.len()]
            }
        };
        let failed = ids.iter().find_map(|id| id.as_ref().err()).cloned();
        match failed {
            Some(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "appending to a Redis stream failed; other servers miss these operations until it is back");
            }
            None if failing => {
                failing = false;
                tracing::info!("appending to Redis streams again");
            }
            _ => {}
        }
        for ((_, then), id) in batch.drain(..).zip(ids) {
            then(id.map_err(RedisError::Reply));
        }
    }
}

fn xadd(entry: &Append) -> Cmd {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(&entry.stream)
        .arg("MAXLEN")
        .arg("~")
        .arg(entry.max_len)
        .arg("*");
    for (field, value) in &entry.fields {
        cmd.arg(*field).arg(&value[..]);
    }
    cmd
}

/// The ids of the entries, or why each failed.
async fn append_batch(
    commands: &mut Commands,
    entries: &[&Append],
) -> RedisResult<Vec<Result<String, String>>> {
    match commands {
        Commands::Single(connection) => {
            let mut pipe = redis::pipe();
            for entry in entries {
                pipe.add_command(xadd(entry));
            }
            // Each entry on its own: one refused (a key of another type, say) fails alone.
            let replies: Vec<RedisResult<String>> =
                pipe.ignore_errors().query_async(connection).await?;
            Ok(replies
                .into_iter()
                .map(|id| id.map_err(|error| error.to_string()))
                .collect())
        }
        Commands::Cluster(connection) => {
            // Each entry goes to the node of its stream; issued in order, awaited together.
            let writes = entries.iter().map(|entry| {
                let mut connection = connection.clone();
                let cmd = xadd(entry);
                async move { cmd.query_async::<String>(&mut connection).await }
            });
            Ok(futures_util::future::join_all(writes)
                .await
                .into_iter()
                .map(|id| id.map_err(|error| error.to_string()))
                .collect())
        }
    }
}

/// Hands every message to the receiver of its channel or pattern; notices when the
/// subscription connection drops and when it is back.
async fn dispatch(driver: Weak<Driver>, mut pushes: mpsc::UnboundedReceiver<PushInfo>) {
    let mut down_since: Option<Instant> = None;
    while let Some(push) = pushes.recv().await {
        let Some(driver) = driver.upgrade() else {
            return;
        };
        match push.kind {
            PushKind::Message | PushKind::SMessage | PushKind::PMessage => {
                let Some(message) = Msg::from_push_info(push) else {
                    continue;
                };
                driver.deliver(&message);
            }
            PushKind::Disconnection => {
                if down_since.is_none() {
                    tracing::warn!("connection to Redis lost; reconnecting");
                    down_since = Some(Instant::now());
                }
                if driver.cluster {
                    tokio::spawn(resubscribe_shards(Arc::downgrade(&driver)));
                }
            }
            PushKind::Subscribe | PushKind::PSubscribe | PushKind::SSubscribe => {
                if let Some(since) = down_since.take() {
                    tracing::info!(
                        gap_ms = since.elapsed().as_millis() as u64,
                        "Redis is back: subscribed again after {:.1} s",
                        since.elapsed().as_secs_f64()
                    );
                }
            }
            _ => {}
        }
    }
}

impl Driver {
    fn deliver(&self, message: &Msg) {
        let channel = message.get_channel_name();
        let receiver = {
            let routes = self.routes.read();
            match message.get_pattern::<Option<String>>().ok().flatten() {
                Some(pattern) => routes.patterns.get(&pattern).cloned(),
                None => routes.channels.get(channel).cloned(),
            }
        };
        if let Some(receiver) = receiver.and_then(|receiver| receiver.upgrade()) {
            receiver.on_message(channel, message.get_payload_bytes());
        }
    }
}

/// After a cluster node dropped, subscribes every sharded channel again until it works.
async fn resubscribe_shards(driver: Weak<Driver>) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Some(driver) = driver.upgrade() else {
            return;
        };
        if timed(driver.resubscribe_shards()).await.is_ok() {
            return;
        }
    }
}

/// Applies the dynamic subscription changes one after the other.
async fn apply_changes(driver: Weak<Driver>, mut changes: mpsc::UnboundedReceiver<Change>) {
    while let Some(change) = changes.recv().await {
        let Some(driver) = driver.upgrade() else {
            return;
        };
        let result = match &change {
            Change::Subscribe(subscriptions, receiver) => {
                driver.route(subscriptions, Some(receiver));
                timed(driver.change(true, subscriptions)).await
            }
            Change::Unsubscribe(subscriptions) => {
                let result = timed(driver.change(false, subscriptions)).await;
                driver.route(subscriptions, None);
                result
            }
        };
        if let Err(error) = result {
            tracing::warn!(%error, "room channel subscription not changed");
        }
    }
}
