//! Broadcast operators: `to`, `in`, `except`, `local`, `volatile`, `compress`, `timeout`, and
//! what they end with (`emit`, `fetch_sockets`, `sockets_join`, …), with socket.io's exact
//! recipients. Every terminal operation goes through the namespace's adapter.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::adapter::{BroadcastOptions, BroadcastPacket};
use crate::error::{Error, PartialAcks};
use crate::namespace::Namespace;
use crate::packet::encode_event;
use crate::remote_socket::RemoteSocket;
use crate::rooms::{IntoRooms, RoomError};

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
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    nsp: Namespace,
    opts: BroadcastOptions,
    invalid: Option<RoomError>,
}

impl BroadcastOperator {
    pub(crate) fn new(nsp: Namespace) -> BroadcastOperator {
        BroadcastOperator {
            nsp,
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
        let opts = self.checked()?;
        let encoded = encode_event(self.nsp.name(), event, data, None)?;
        let packet = BroadcastPacket::new(self.nsp.shared_name(), encoded)?;
        self.nsp.adapter().broadcast(&packet, opts).await
    }

    /// Sends an event asking every recipient for an acknowledgement, and collects the first
    /// argument of each answer as an `R`. Needs [`BroadcastOperator::timeout`]; when it
    /// expires, the error carries the answers received so far.
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<R>, PartialAcks<R>> {
        let fail = |error: Error| PartialAcks {
            error,
            responses: Vec::new(),
        };
        let opts = self.checked().map_err(fail)?;
        let timeout = opts
            .flags
            .timeout
            .ok_or_else(|| fail(Error::AckWithoutTimeout))?;
        let ack_id = self.nsp.next_ack_id();
        let encoded =
            encode_event(self.nsp.name(), event, data, Some(ack_id)).map_err(|e| fail(e.into()))?;
        let packet = BroadcastPacket::new(self.nsp.shared_name(), encoded).map_err(fail)?;
        let (sink, mut answers) = mpsc::unbounded_channel();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut responses = Vec::new();
        let collect = async {
            let expected = self
                .nsp
                .adapter()
                .broadcast_with_ack(&packet, ack_id, opts, sink)
                .await?;
            while responses.len() < expected {
                let Some(args) = answers.recv().await else {
                    return Err(Error::Disconnected);
                };
                responses.push(args.deserialize::<R>()?);
            }
            Ok(())
        };
        let outcome = tokio::time::timeout_at(deadline, collect).await;
        match outcome {
            Ok(Ok(())) => Ok(responses),
            Ok(Err(error)) => Err(PartialAcks { error, responses }),
            Err(_) => Err(PartialAcks {
                error: Error::Timeout,
                responses,
            }),
        }
    }

    /// Describes the targeted sockets, wherever they are connected.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, Error> {
        let opts = self.checked()?;
        let found = self.nsp.adapter().fetch_sockets(opts).await?;
        Ok(found
            .into_iter()
            .map(|info| RemoteSocket::new(self.nsp.clone(), info))
            .collect())
    }

    /// Makes the targeted sockets join `rooms`.
    pub async fn sockets_join(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        let opts = self.checked()?;
        let rooms = rooms.into_rooms()?;
        self.nsp.adapter().add_sockets(opts, &rooms).await
    }

    /// Makes the targeted sockets leave `rooms`.
    pub async fn sockets_leave(&self, rooms: impl IntoRooms) -> Result<(), Error> {
        let opts = self.checked()?;
        let rooms = rooms.into_rooms()?;
        self.nsp.adapter().del_sockets(opts, &rooms).await
    }

    /// Disconnects the targeted sockets (`close`: their whole connections).
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), Error> {
        let opts = self.checked()?;
        self.nsp.adapter().disconnect_sockets(opts, close).await
    }
}
