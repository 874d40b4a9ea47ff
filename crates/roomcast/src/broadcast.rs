//! Broadcast operators: `to`, `in`, `except`, `local`, `volatile`, `compress`, `timeout`, and
//! what they end with (`emit`, `fetch_sockets`, `sockets_join`, …), with socket.io's exact
//! recipients. Every terminal operation goes through the namespace's [`Scope`].
//!
//! The same methods on [`Server`](crate::Server), [`Namespace`](crate::Namespace) and
//! [`Socket`](crate::Socket) start an operator; they are written once, in the macros at the end
//! of this file.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::adapter::BroadcastOptions;
use crate::error::{Error, PartialAcks};
use crate::remote_socket::RemoteSocket;
use crate::rooms::{IntoRooms, RoomError};
use crate::scope::Scope;

/// Who receives an operation, built by chaining (Node's `BroadcastOperator`).
///
/// An invalid room name does not break the chain: the terminal operation reports it.
///
/// ```no_run
/// # use roomcast::Server;
/// # async fn demo(io: Server) -> Result<(), roomcast::Error> {
/// // Everyone in room1 or room2 (once), except those in room3.
/// io.to("room1").to("room2").except("room3").emit("news", "hello").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BroadcastOperator {
    scope: Arc<Scope>,
    opts: BroadcastOptions,
    invalid: Option<RoomError>,
}

impl BroadcastOperator {
    /// Every socket of the scope's namespace.
    pub(crate) fn new(scope: Arc<Scope>) -> BroadcastOperator {
        BroadcastOperator {
            scope,
            opts: BroadcastOptions::default(),
            invalid: None,
        }
    }

    fn add(mut self, rooms: impl IntoRooms, except: bool) -> Self {
        match rooms.into_rooms() {
            Ok(rooms) => {
                let target = if except {
                    &mut self.opts.except
                } else {
                    &mut self.opts.rooms
                };
                for room in rooms {
                    if !target.contains(&room) {
                        target.push(room);
                    }
                }
            }
            Err(error) => {
                self.invalid.get_or_insert(error);
            }
        }
        self
    }

    /// Adds target rooms (a union: a socket in several gets the event once).
    pub fn to(self, rooms: impl IntoRooms) -> Self {
        self.add(rooms, false)
    }

    /// Same as [`BroadcastOperator::to`].
    pub fn in_(self, rooms: impl IntoRooms) -> Self {
        self.add(rooms, false)
    }

    /// Leaves out the sockets in `rooms`.
    pub fn except(self, rooms: impl IntoRooms) -> Self {
        self.add(rooms, true)
    }

    /// Only this process's sockets.
    pub fn local(mut self) -> Self {
        self.opts.flags.local = true;
        self
    }

    /// Dropped for clients that cannot take the event right away.
    pub fn volatile(mut self) -> Self {
        self.opts.flags.volatile = true;
        self
    }

    /// socket.io's `compress` flag, accepted for compatibility.
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.flags.compress = Some(compress);
        self
    }

    /// How long [`BroadcastOperator::emit_with_ack`] waits.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.flags.timeout = Some(timeout);
        self
    }

    /// The options this operator stands for.
    pub fn options(&self) -> &BroadcastOptions {
        &self.opts
    }

    fn checked(&self) -> Result<&BroadcastOptions, Error> {
        match &self.invalid {
            Some(error) => Err(error.clone().into()),
            None => Ok(&self.opts),
        }
    }

    /// Sends an event to the targeted sockets: encoded once, queued to each.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        self.scope.emit(self.checked()?, event, data).await
    }

    /// Sends an event asking every recipient for an acknowledgement, and collects the first
    /// argument of each answer as an `R`. Needs [`BroadcastOperator::timeout`]; when it
    /// expires, the error carries the answers received so far.
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<R>, PartialAcks<R>> {
        let opts = self.checked().map_err(|error| PartialAcks {
            error,
            responses: Vec::new(),
        })?;
        self.scope.emit_with_ack(opts, event, data).await
    }

    /// Describes the targeted sockets, wherever they are connected.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, Error> {
        let found = self.scope.fetch_sockets(self.checked()?).await?;
        Ok(found
            .into_iter()
            .map(|info| RemoteSocket::new(self.scope.clone(), info))
            .collect())
    }

    /// Makes the targeted sockets join `rooms`.
    pub async fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        let opts = self.checked()?;
        self.scope.sockets_join(opts, &rooms.into_rooms()?).await
    }

    /// Makes the targeted sockets leave `rooms`.
    pub async fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        let opts = self.checked()?;
        self.scope.sockets_leave(opts, &rooms.into_rooms()?).await
    }

    /// Disconnects the targeted sockets (`close`: their whole connections).
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), Error> {
        self.scope.disconnect_sockets(self.checked()?, close).await
    }
}

impl fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("nsp", &self.scope.name())
            .field("opts", &self.opts)
            .field("invalid", &self.invalid)
            .finish()
    }
}

/// `to`, `in_` and `except` for a type whose `broadcast()` starts an operator: on a server or
/// a namespace every socket of the namespace, on a socket every other one.
macro_rules! targeting_methods {
    () => {
        /// Narrows [`broadcast`](Self::broadcast) to the sockets in `rooms`: a room name, a
        /// socket id (its own room), or a list of them. Chained calls add rooms: a socket in
        /// several of them receives once. On a socket, the socket itself stays left out (Node's
        /// `socket.to(room)`).
        pub fn to(&self, rooms: impl $crate::IntoRooms) -> $crate::BroadcastOperator {
            self.broadcast().to(rooms)
        }

        /// Same as `to` (Node's `in`).
        pub fn in_(&self, rooms: impl $crate::IntoRooms) -> $crate::BroadcastOperator {
            self.broadcast().to(rooms)
        }

        /// Leaves the sockets in `rooms` out of [`broadcast`](Self::broadcast)'s recipients.
        pub fn except(&self, rooms: impl $crate::IntoRooms) -> $crate::BroadcastOperator {
            self.broadcast().except(rooms)
        }
    };
}
pub(crate) use targeting_methods;

/// The flags and the terminal operations of an operator over a whole namespace, for
/// [`Server`](crate::Server) (its main namespace) and [`Namespace`](crate::Namespace).
macro_rules! namespace_methods {
    () => {
        $crate::broadcast::targeting_methods!();

        /// Only the sockets connected to this process (no cluster fan-out).
        pub fn local(&self) -> $crate::BroadcastOperator {
            self.broadcast().local()
        }

        /// Dropped for a client that cannot take the event right away, instead of queued.
        pub fn volatile(&self) -> $crate::BroadcastOperator {
            self.broadcast().volatile()
        }

        /// How long [`BroadcastOperator::emit_with_ack`]($crate::BroadcastOperator::emit_with_ack)
        /// waits for acknowledgements.
        pub fn timeout(&self, timeout: std::time::Duration) -> $crate::BroadcastOperator {
            self.broadcast().timeout(timeout)
        }

        /// socket.io's `compress` flag, accepted for compatibility (compression is decided per
        /// connection by the per-message-deflate threshold).
        pub fn compress(&self, compress: bool) -> $crate::BroadcastOperator {
            self.broadcast().compress(compress)
        }

        /// Sends an event to every socket of the namespace, across the cluster.
        pub async fn emit<T: serde::Serialize + ?Sized>(
            &self,
            event: &str,
            data: &T,
        ) -> Result<(), $crate::Error> {
            self.broadcast().emit(event, data).await
        }

        /// Describes every socket of the namespace, across the cluster.
        pub async fn fetch_sockets(&self) -> Result<Vec<$crate::RemoteSocket>, $crate::Error> {
            self.broadcast().fetch_sockets().await
        }

        /// Makes every socket of the namespace join `rooms`.
        pub async fn sockets_join(
            &self,
            rooms: impl $crate::IntoRooms,
        ) -> Result<(), $crate::Error> {
            self.broadcast().sockets_join(rooms).await
        }

        /// Makes every socket of the namespace leave `rooms`.
        pub async fn sockets_leave(
            &self,
            rooms: impl $crate::IntoRooms,
        ) -> Result<(), $crate::Error> {
            self.broadcast().sockets_leave(rooms).await
        }

        /// Disconnects every socket of the namespace (`close`: their whole connections).
        pub async fn disconnect_sockets(&self, close: bool) -> Result<(), $crate::Error> {
            self.broadcast().disconnect_sockets(close).await
        }
    };
}
pub(crate) use namespace_methods;
