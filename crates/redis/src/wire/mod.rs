//! What servers say to each other through Redis, apart from how it is written: the requests,
//! the responses, and the three ways Node writes them — the classic adapter's
//! ([`classic`], `@socket.io/redis-adapter`'s `createAdapter`), the sharded adapter's
//! ([`sharded`], `createShardedAdapter`) and the streams adapter's ([`streams`],
//! `@socket.io/redis-streams-adapter`), the last two over socket.io-adapter's cluster protocol
//! ([`cluster`]).

pub(crate) mod classic;
mod cluster;
mod json;
pub(crate) mod message;
mod opts;
pub(crate) mod protocol;
mod read;
pub(crate) mod sharded;
pub(crate) mod stream;
pub(crate) mod streams;
