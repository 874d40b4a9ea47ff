//! Connection state recovery across servers (the streams adapter), as Node's adapter does it:
//! a disconnected socket's session is kept under `<prefix><pid>` for the recovery window; a
//! client coming back with its offset, on any server, takes the session (once) and gets the
//! broadcasts of the stream after that offset that reached its rooms.

use std::time::Duration;

use roomcast::adapter::{reaches, RestoredSession, Session};
use roomcast::packet::Parser;

use crate::driver::Driver;
use crate::entry::{next_id, parse_id, range_reply, Entry};
use crate::error::RedisError;
use crate::wire::stream::StreamSide;

/// Most `XRANGE` calls of one restore (Node's `RESTORE_SESSION_MAX_XRANGE_CALLS`): a stream
/// written to faster than it is read back is not followed for ever.
const MAX_RANGE_CALLS: usize = 100;

/// Keeps a session for `window` (`SET <key> <session> PX <window>`).
pub(crate) async fn persist(
    driver: &Driver,
    side: &StreamSide,
    session: &Session,
    window: Duration,
) -> Result<(), RedisError> {
    let mut cmd = redis::cmd("SET");
    cmd.arg(side.session_key(&session.pid))
        .arg(StreamSide::encode_session(session))
        .arg("PX")
        .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1));
    driver.query::<()>(&cmd).await
}

/// Takes the session `pid` back, with what it missed after `offset`; `None` when the offset is
/// not an entry id (the session is then left alone, as Node leaves it), when the session is not
/// kept, or when the offset is no longer in the stream (the session is consumed all the same).
pub(crate) async fn restore(
    driver: &Driver,
    side: &StreamSide,
    parser: Parser,
    pid: &str,
    offset: &str,
) -> Result<Option<RestoredSession>, RedisError> {
    if parse_id(offset).is_none() {
        return Ok(None);
    }
    let mut take = redis::cmd("GETDEL");
    take.arg(side.session_key(pid));
    let (raw, known) = tokio::join!(
        driver.query::<Option<Vec<u8>>>(&take),
        range(driver, &side.stream, offset, offset),
    );
    let (Some(raw), false) = (raw?, known?.is_empty()) else {
        return Ok(None);
    };
    let session = StreamSide::decode_session(&raw)
        .map_err(|error| RedisError::Reply(format!("session {pid}: {error}")))?;
    let mut missed = Vec::new();
    let mut last = offset.to_owned();
    for _ in 0..MAX_RANGE_CALLS {
        let Some(from) = next_id(&last) else {
            break;
        };
        let entries = range(driver, &side.stream, &from, "+").await?;
        let Some(newest) = entries.last() else {
            break;
        };
        last = newest.id.clone();
        for entry in &entries {
            match side.replayed(entry, parser) {
                Ok(Some(replayed)) if reaches(&session.rooms, &replayed.opts) => {
                    missed.push(replayed.packet);
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(entry = entry.id, %error, "stream entry not replayed");
                }
            }
        }
    }
    Ok(Some(RestoredSession { session, missed }))
}

/// `XRANGE <stream> <start> <end>`.
async fn range(
    driver: &Driver,
    stream: &str,
    start: &str,
    end: &str,
) -> Result<Vec<Entry>, RedisError> {
    let mut cmd = redis::cmd("XRANGE");
    cmd.arg(stream).arg(start).arg(end);
    let reply: redis::Value = driver.query(&cmd).await?;
    range_reply(&reply).map_err(RedisError::Reply)
}
