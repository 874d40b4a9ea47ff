//! Reading the streams of the streams adapter: one task per stream, on a connection of its own
//! (`XREAD BLOCK` holds it while it waits), shared by every namespace written to that stream.
//! Each entry goes to the namespace it names, in stream order; an entry that cannot be read is
//! skipped and never read again (the position moves past it whatever happens).
//!
//! A stream is read from the last entry it held when its first namespace started following it
//! (Node starts from `$` at each `XREAD` until it has seen an entry, which may miss the entries
//! written between two waits); when Redis goes away, reading resumes from the last entry seen,
//! so nothing still in the stream is missed.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use crate::driver::{Commands, Driver};
use crate::entry::{range_reply, read_reply, Entry};
use crate::error::RedisError;

/// Where the entries of a namespace go.
pub(crate) trait EntryReceiver: Send + Sync + 'static {
    /// An entry of the namespace. Runs on the stream's task: it must not block.
    fn on_entry(&self, entry: &Entry);
}

/// The receivers of one stream, by namespace.
type Routes = RwLock<HashMap<String, Weak<dyn EntryReceiver>>>;

/// How streams are read: Node's `readCount` and `blockTimeInMs`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadOptions {
    pub(crate) count: usize,
    pub(crate) block: Duration,
}

/// The stream readers of one server.
pub(crate) struct StreamReaders {
    driver: Arc<Driver>,
    options: ReadOptions,
    streams: tokio::sync::Mutex<HashMap<String, Arc<Routes>>>,
}

impl std::fmt::Debug for StreamReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReaders")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl StreamReaders {
    pub(crate) fn new(driver: Arc<Driver>, options: ReadOptions) -> StreamReaders {
        StreamReaders {
            driver,
            options,
            streams: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Hands the entries of `stream` naming `nsp` to `receiver`, from now on: when this
    /// returns, every entry appended afterwards will be read.
    pub(crate) async fn follow(
        &self,
        stream: &str,
        nsp: &str,
        receiver: Weak<dyn EntryReceiver>,
    ) -> Result<(), RedisError> {
        let mut streams = self.streams.lock().await;
        if let Some(routes) = streams.get(stream) {
            routes.write().insert(nsp.to_owned(), receiver);
            return Ok(());
        }
        let start = self.last_id(stream).await?;
        // The wait of `XREAD BLOCK`, and the time to get the entries after it.
        let connection = self
            .driver
            .dedicated(self.options.block + Duration::from_secs(5))
            .await?;
        let routes: Arc<Routes> = Arc::default();
        routes.write().insert(nsp.to_owned(), receiver);
        tokio::spawn(read(
            stream.to_owned(),
            connection,
            start,
            Arc::downgrade(&routes),
            self.options,
        ));
        streams.insert(stream.to_owned(), routes);
        Ok(())
    }

    /// Stops handing the entries of `stream` to `nsp`.
    pub(crate) async fn unfollow(&self, stream: &str, nsp: &str) {
        if let Some(routes) = self.streams.lock().await.get(stream) {
            routes.write().remove(nsp);
        }
    }

    /// The id of the stream's last entry, `0-0` when it has none (or does not exist yet).
    async fn last_id(&self, stream: &str) -> Result<String, RedisError> {
        let mut cmd = redis::cmd("XREVRANGE");
        cmd.arg(stream).arg("+").arg("-").arg("COUNT").arg(1);
        let reply: redis::Value = self.driver.query(&cmd).await?;
        let entries = range_reply(&reply).map_err(RedisError::Reply)?;
        Ok(entries
            .into_iter()
            .next()
            .map_or_else(|| "0-0".to_owned(), |entry| entry.id))
    }
}

/// Reads `stream` after `last`, until the readers are gone.
async fn read(
    stream: String,
    mut connection: Commands,
    mut last: String,
    routes: Weak<Routes>,
    options: ReadOptions,
) {
    let mut down_since: Option<Instant> = None;
    let mut backoff = Duration::from_millis(100);
    loop {
        if routes.strong_count() == 0 {
            return;
        }
        let mut cmd = redis::cmd("XREAD");
        cmd.arg("COUNT")
            .arg(options.count)
            .arg("BLOCK")
            .arg(u64::try_from(options.block.as_millis()).unwrap_or(u64::MAX))
            .arg("STREAMS")
            .arg(&stream)
            .arg(&last);
        let reply = connection.query::<redis::Value>(&cmd).await;
        let entries = match reply
            .map_err(|error| error.to_string())
            .and_then(|reply| read_reply(&reply))
        {
            Ok(entries) => entries,
            Err(error) => {
                if down_since.is_none() {
                    tracing::warn!(stream, %error, "reading the Redis stream failed; retrying");
                    down_since = Some(Instant::now());
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        if let Some(since) = down_since.take() {
            tracing::info!(
                stream,
                gap_ms = since.elapsed().as_millis() as u64,
                "reading the Redis stream again after {:.1} s",
                since.elapsed().as_secs_f64()
            );
            backoff = Duration::from_millis(100);
        }
        let Some(routes) = routes.upgrade() else {
            return;
        };
        for entry in entries {
            let receiver = entry
                .text("nsp")
                .and_then(|nsp| routes.read().get(nsp).and_then(Weak::upgrade));
            if let Some(receiver) = receiver {
                receiver.on_entry(&entry);
            }
            last = entry.id;
        }
    }
}
