//! What can go wrong with Redis, as the adapters and the emitter report it (inside
//! [`roomcast::Error::Adapter`] for the adapter operations).

use std::time::Duration;

/// A failure of the Redis adapters or the emitter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// Redis refused a command, or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer a command in time (it is down, or reconnecting).
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// Not all servers answered a request within the request timeout.
    #[error("timeout reached while waiting for {request} response: {received} of {expected} servers answered")]
    RequestTimeout {
        /// The request, as Node names it (`fetchSockets`, `allRooms`, `serverSideEmit`).
        request: &'static str,
        /// How many servers were to answer.
        expected: usize,
        /// How many did.
        received: usize,
    },
    /// The configuration cannot work (no URL, say).
    #[error("configuration: {0}")]
    Config(String),
    /// Redis answered something unexpected.
    #[error("unexpected reply: {0}")]
    Reply(String),
    /// A payload could not be serialized, or an event name is reserved.
    #[error(transparent)]
    Encode(#[from] roomcast::packet::EncodeError),
    /// A room name was refused.
    #[error(transparent)]
    InvalidRoom(#[from] roomcast::RoomError),
}

impl From<RedisError> for roomcast::Error {
    fn from(error: RedisError) -> roomcast::Error {
        roomcast::Error::Adapter(Box::new(error))
    }
}
