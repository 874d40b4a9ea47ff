//! The emitter: a process that is not a server publishes into a cluster of roomcast or Node
//! servers, as `@socket.io/redis-emitter` does (the classic adapter's protocol).

use std::sync::Arc;

use roomcast::adapter::BroadcastOptions;
use roomcast::packet::{is_reserved_event, EncodeError};
use roomcast::payload::to_arg_values;
use roomcast::{IntoRooms, RoomError};
use serde::Serialize;

use crate::driver::Driver;
use crate::error::RedisError;
use crate::wire::classic;
use crate::wire::message::Publish;

/// The uid every emitter's messages carry.
const EMITTER_UID: &str = "emitter";

/// Publishes events and operations into a cluster, without being a server (Node's
/// `@socket.io/redis-emitter`). Cheap to clone; chain `to` / `except` / `volatile` as on a
/// server.
///
/// ```no_run
/// use roomcast_redis::Emitter;
///
/// # async fn demo() -> Result<(), roomcast_redis::RedisError> {
/// let emitter = Emitter::builder("redis://127.0.0.1:6379").connect().await?;
/// emitter.of("/chat").to("general").emit("news", &"maintenance at noon").await?;
/// emitter.in_("order:123").sockets_join("watchers").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Emitter {
    driver: Arc<Driver>,
    key: Arc<str>,
    nsp: Arc<str>,
    opts: BroadcastOptions,
    invalid: Option<RoomError>,
}

/// How to connect an [`Emitter`].
#[derive(Debug, Clone)]
pub struct EmitterBuilder {
    urls: Vec<String>,
    cluster: bool,
    key: String,
}

impl EmitterBuilder {
    /// The channel prefix (Node's `key`, default `socket.io`).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// Treats the URL, and these, as the seed nodes of a Redis Cluster.
    pub fn cluster<I: IntoIterator<Item = S>, S: Into<String>>(mut self, nodes: I) -> Self {
        self.cluster = true;
        self.urls.extend(nodes.into_iter().map(Into::into));
        self
    }

    /// Connects; the emitter targets the namespace `/`.
    pub async fn connect(self) -> Result<Emitter, RedisError> {
        let driver = Driver::connect(&self.urls, self.cluster, false).await?;
        Ok(Emitter {
            driver,
            key: self.key.into(),
            nsp: "/".into(),
            opts: BroadcastOptions::default(),
            invalid: None,
        })
    }
}

impl Emitter {
    /// An emitter for the Redis server at `url`.
    pub fn builder(url: impl Into<String>) -> EmitterBuilder {
        EmitterBuilder {
            urls: vec![url.into()],
            cluster: false,
            key: "socket.io".to_owned(),
        }
    }

    /// The same emitter for the namespace `nsp` (a missing leading `/` is added).
    pub fn of(&self, nsp: &str) -> Emitter {
        let nsp = if nsp.starts_with('/') {
            nsp.to_owned()
        } else {
            format!("/{nsp}")
        };
        Emitter {
            nsp: nsp.into(),
            opts: BroadcastOptions::default(),
            invalid: None,
            ..self.clone()
        }
    }

    fn rooms(&self, rooms: impl IntoRooms, except: bool) -> Emitter {
        let mut emitter = self.clone();
        match rooms.into_rooms() {
            Ok(rooms) => {
                let target = if except {
                    &mut emitter.opts.except
                } else {
                    &mut emitter.opts.rooms
                };
                for room in rooms {
                    if !target.contains(&room) {
                        target.push(room);
                    }
                }
            }
            Err(error) => {
                emitter.invalid.get_or_insert(error);
            }
        }
        emitter
    }

    /// Targets the sockets in `rooms` (chained calls add rooms: a union).
    pub fn to(&self, rooms: impl IntoRooms) -> Emitter {
        self.rooms(rooms, false)
    }

    /// Same as [`Emitter::to`].
    pub fn in_(&self, rooms: impl IntoRooms) -> Emitter {
        self.rooms(rooms, false)
    }

    /// Leaves out the sockets in `rooms`.
    pub fn except(&self, rooms: impl IntoRooms) -> Emitter {
        self.rooms(rooms, true)
    }

    /// Dropped for clients that cannot take the event right away.
    pub fn volatile(&self) -> Emitter {
        let mut emitter = self.clone();
        emitter.opts.flags.volatile = true;
        emitter
    }

    /// socket.io's `compress` flag.
    pub fn compress(&self, compress: bool) -> Emitter {
        let mut emitter = self.clone();
        emitter.opts.flags.compress = Some(compress);
        emitter
    }

    fn checked(&self) -> Result<&BroadcastOptions, RedisError> {
        match &self.invalid {
            Some(error) => Err(error.clone().into()),
            None => Ok(&self.opts),
        }
    }

    fn request(&self, payload: Vec<u8>) -> Publish {
        Publish {
            channel: format!("{}-request#{}#", self.key, self.nsp),
            payload,
            sharded: false,
        }
    }

    /// Sends an event to the targeted sockets of every server (a tuple is several arguments,
    /// `()` none, anything else one; binary travels as binary). Acknowledgements cannot be
    /// asked for through an emitter.
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), RedisError> {
        if is_reserved_event(event) {
            return Err(EncodeError::ReservedEvent(event.to_owned()).into());
        }
        let opts = self.checked()?;
        let args = to_arg_values(data).map_err(EncodeError::from)?;
        let mut channel = format!("{}#{}#", self.key, self.nsp);
        if let [room] = opts.rooms.as_slice() {
            channel.push_str(room.as_str());
            channel.push('#');
        }
        let payload = classic::broadcast_message(EMITTER_UID, &self.nsp, event, &args, opts, true);
        self.driver
            .publish_now(Publish {
                channel,
                payload,
                sharded: false,
            })
            .await
    }

    /// Makes the targeted sockets join `rooms`, on every server.
    pub async fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), RedisError> {
        let rooms = rooms.into_rooms()?;
        let payload = classic::sockets_join(None, self.checked()?, &rooms);
        self.driver.publish_now(self.request(payload)).await
    }

    /// Makes the targeted sockets leave `rooms`, on every server.
    pub async fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), RedisError> {
        let rooms = rooms.into_rooms()?;
        let payload = classic::sockets_leave(None, self.checked()?, &rooms);
        self.driver.publish_now(self.request(payload)).await
    }

    /// Disconnects the targeted sockets (`close`: their whole connections), on every server.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), RedisError> {
        let payload = classic::disconnect_sockets(None, self.checked()?, close);
        self.driver.publish_now(self.request(payload)).await
    }

    /// Sends a server-side event to every server of the namespace (acknowledgements are not
    /// supported through an emitter, as in Node).
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), RedisError> {
        if is_reserved_event(event) || ["connection", "new_namespace"].contains(&event) {
            return Err(EncodeError::ReservedEvent(event.to_owned()).into());
        }
        let args = to_arg_values(data).map_err(EncodeError::from)?;
        let payload = classic::server_side_emit(EMITTER_UID, None, event, &args);
        self.driver.publish_now(self.request(payload)).await
    }
}
