//! A namespace as the operations on its sockets see it: its name, its adapter and its
//! acknowledgement ids, and every operation that targets sockets by [`BroadcastOptions`]
//! (emit, emit with acknowledgements, fetch, join, leave, disconnect). Operators, sockets and
//! remote sockets all act through a scope; it is the only way to the adapter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::adapter::{
    AckMessage, Adapter, BroadcastOptions, BroadcastPacket, RecoveryOptions, SocketInfo,
};
use crate::error::{Error, PartialAcks};
use crate::packet::Parser;
use crate::report::Reports;
use crate::rooms::Room;

/// The shared part of a namespace. See the module documentation.
pub(crate) struct Scope {
    name: Arc<str>,
    adapter: Arc<dyn Adapter>,
    /// One acknowledgement id counter per namespace, shared by its sockets and broadcasts.
    ack_ids: AtomicU64,
    /// Connection state recovery, when on.
    recovery: Option<RecoveryOptions>,
    reports: Arc<dyn Reports>,
    /// How packets are encoded.
    parser: Parser,
}

impl Scope {
    pub(crate) fn new(
        name: Arc<str>,
        adapter: Arc<dyn Adapter>,
        recovery: Option<RecoveryOptions>,
        reports: Arc<dyn Reports>,
        parser: Parser,
    ) -> Scope {
        Scope {
            name,
            adapter,
            ack_ids: AtomicU64::new(0),
            recovery,
            reports,
            parser,
        }
    }

    /// What the server's observers hear from the layers under sockets.
    pub(crate) fn reports(&self) -> &Arc<dyn Reports> {
        &self.reports
    }

    /// Connection state recovery's options, when it is on.
    pub(crate) fn recovery(&self) -> Option<&RecoveryOptions> {
        self.recovery.as_ref()
    }

    /// The namespace name, e.g. `/chat`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The namespace name, shared.
    pub(crate) fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The adapter holding the namespace's rooms.
    pub(crate) fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.adapter
    }

    /// How the server encodes packets.
    pub(crate) fn parser(&self) -> Parser {
        self.parser
    }

    /// A fresh acknowledgement id.
    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// An event of this namespace, encoded once, as a broadcast packet.
    pub(crate) fn packet<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        ack_id: Option<u64>,
    ) -> Result<BroadcastPacket, Error> {
        let encoded = self.parser.event(&self.name, event, data, ack_id)?;
        BroadcastPacket::encoded(self.name.clone(), ack_id, encoded)
    }

    /// Sends an event to the targeted sockets: encoded once, queued to each.
    pub(crate) async fn emit<T: Serialize + ?Sized>(
        &self,
        opts: &BroadcastOptions,
        event: &str,
        data: &T,
    ) -> Result<(), Error> {
        let packet = self.packet(event, data, None)?;
        if tracing::enabled!(tracing::Level::DEBUG) {
            self.log_emit(opts, event);
        }
        if self.reports.any() {
            self.reports.broadcast(&self.name, &packet, opts);
        }
        self.adapter.broadcast(&packet, opts).await
    }

    /// `emit "message" -> room "general" (3 members)`: who an emit targets, with the members
    /// this process has (debug logs only).
    fn log_emit(&self, opts: &BroadcastOptions, event: &str) {
        let except = if opts.except.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = opts.except.iter().map(Room::as_str).collect();
            format!(" except {names:?}")
        };
        if opts.rooms.is_empty() {
            tracing::debug!(
                nsp = %self.name,
                "emit {event:?} -> namespace {:?}{except}",
                self.name
            );
        }
        for room in &opts.rooms {
            let members = self.adapter.local_room_size(room);
            let plural = if members == 1 { "" } else { "s" };
            tracing::debug!(
                nsp = %self.name,
                "emit {event:?} -> room {:?} ({members} member{plural}){except}",
                room.as_str()
            );
        }
    }

    /// Sends an event asking every targeted socket for an acknowledgement, and collects the
    /// first argument of each answer until `opts.flags.timeout`: done once every server that
    /// takes part has said how many sockets it reached and that many have answered.
    pub(crate) async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        opts: &BroadcastOptions,
        event: &str,
        data: &T,
    ) -> Result<Vec<R>, PartialAcks<R>> {
        let fail = |error: Error| PartialAcks {
            error,
            responses: Vec::new(),
        };
        let timeout = opts
            .flags
            .timeout
            .ok_or_else(|| fail(Error::AckWithoutTimeout))?;
        let ack_id = self.next_ack_id();
        let encoded = self
            .parser
            .event(&self.name, event, data, Some(ack_id))
            .map_err(|e| fail(e.into()))?;
        let packet =
            BroadcastPacket::encoded(self.name.clone(), Some(ack_id), encoded).map_err(fail)?;
        let (sink, mut answers) = mpsc::unbounded_channel();
        let mut responses = Vec::new();
        let collect = async {
            let servers = self.adapter.broadcast_with_ack(&packet, opts, sink).await?;
            let (mut counted, mut expected) = (0, 0);
            while counted < servers || responses.len() < expected {
                match answers.recv().await {
                    Some(AckMessage::Count(count)) => {
                        counted += 1;
                        expected += count;
                    }
                    Some(AckMessage::Ack(args)) => responses.push(args.deserialize::<R>()?),
                    None => return Err(Error::Disconnected),
                }
            }
            Ok(())
        };
        match tokio::time::timeout(timeout, collect).await {
            Ok(Ok(())) => Ok(responses),
            Ok(Err(error)) => Err(PartialAcks { error, responses }),
            Err(_) => Err(PartialAcks {
                error: {
                    if self.reports.any() {
                        self.reports.ack_timed_out(&self.name);
                    }
                    Error::Timeout
                },
                responses,
            }),
        }
    }

    /// Describes the targeted sockets, wherever they are connected.
    pub(crate) async fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> Result<Vec<SocketInfo>, Error> {
        self.adapter.fetch_sockets(opts).await
    }

    /// Makes the targeted sockets join `rooms`.
    pub(crate) async fn sockets_join(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> Result<(), Error> {
        self.adapter.add_sockets(opts, rooms).await
    }

    /// Makes the targeted sockets leave `rooms`.
    pub(crate) async fn sockets_leave(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> Result<(), Error> {
        self.adapter.del_sockets(opts, rooms).await
    }

    /// Disconnects the targeted sockets (`close`: their whole connections).
    pub(crate) async fn disconnect_sockets(
        &self,
        opts: &BroadcastOptions,
        close: bool,
    ) -> Result<(), Error> {
        self.adapter.disconnect_sockets(opts, close).await
    }
}
