//! The adapter boundary: which sockets an operation reaches, and where they live.
//!
//! Every server-side operation that can involve other processes goes through an [`Adapter`]:
//! broadcasts (with or without acknowledgements), `socketsJoin` / `socketsLeave`,
//! `disconnectSockets`, `fetchSockets`, `serverSideEmit` and room listings. The in-memory
//! [`MemoryAdapter`](crate::MemoryAdapter) is the default; a cluster adapter implements the
//! same trait, keeps a `MemoryAdapter` for the sockets of its own process, and reaches the
//! other servers for the rest.
//!
//! An adapter sees sockets only through [`LocalSocket`] (deliver frames, wait for an
//! acknowledgement, disconnect, describe), broadcasts as a [`BroadcastPacket`] (encoded once,
//! readable as its event and arguments), and its namespace through [`NamespaceHooks`].
//!
//! A small custom adapter: the in-memory one, counting broadcasts. Every operation is
//! forwarded; only `broadcast` does something more.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//!
//! use roomcast::adapter::{
//!     AckSink, Adapter, BoxFuture, BroadcastOptions, BroadcastPacket, LocalSocket,
//!     RoomListener, SocketInfo,
//! };
//! use roomcast::{Error, MemoryAdapter, PartialAcks, Room, Server, ServerOptions, Sid, Value};
//!
//! #[derive(Default)]
//! struct Counting {
//!     inner: MemoryAdapter,
//!     broadcasts: AtomicUsize,
//! }
//!
//! impl Adapter for Counting {
//!     fn broadcast<'a>(
//!         &'a self,
//!         packet: &'a BroadcastPacket,
//!         opts: &'a BroadcastOptions,
//!     ) -> BoxFuture<'a, Result<(), Error>> {
//!         self.broadcasts.fetch_add(1, Ordering::Relaxed);
//!         self.inner.broadcast(packet, opts)
//!     }
//!
//!     // The rest is the in-memory adapter's.
//!     fn add_socket(&self, socket: Arc<dyn LocalSocket>) { self.inner.add_socket(socket) }
//!     fn remove_socket(&self, id: Sid) { self.inner.remove_socket(id) }
//!     fn add_all(&self, id: Sid, rooms: &[Room]) { self.inner.add_all(id, rooms) }
//!     fn del(&self, id: Sid, room: &Room) { self.inner.del(id, room) }
//!     fn socket_rooms(&self, id: Sid) -> Vec<Room> { self.inner.socket_rooms(id) }
//!     fn local_rooms(&self) -> Vec<Room> { self.inner.local_rooms() }
//!     fn local_room_size(&self, room: &Room) -> usize { self.inner.local_room_size(room) }
//!     fn on_room_event(&self, listener: RoomListener) { self.inner.on_room_event(listener) }
//!     fn broadcast_with_ack<'a>(&'a self, packet: &'a BroadcastPacket, opts: &'a BroadcastOptions,
//!         sink: AckSink) -> BoxFuture<'a, Result<usize, Error>> {
//!         self.inner.broadcast_with_ack(packet, opts, sink)
//!     }
//!     fn fetch_sockets<'a>(&'a self, opts: &'a BroadcastOptions)
//!         -> BoxFuture<'a, Result<Vec<SocketInfo>, Error>> { self.inner.fetch_sockets(opts) }
//!     fn add_sockets<'a>(&'a self, opts: &'a BroadcastOptions, rooms: &'a [Room])
//!         -> BoxFuture<'a, Result<(), Error>> { self.inner.add_sockets(opts, rooms) }
//!     fn del_sockets<'a>(&'a self, opts: &'a BroadcastOptions, rooms: &'a [Room])
//!         -> BoxFuture<'a, Result<(), Error>> { self.inner.del_sockets(opts, rooms) }
//!     fn disconnect_sockets<'a>(&'a self, opts: &'a BroadcastOptions, close: bool)
//!         -> BoxFuture<'a, Result<(), Error>> { self.inner.disconnect_sockets(opts, close) }
//!     fn server_side_emit<'a>(&'a self, event: &'a str, args: &'a [Value])
//!         -> BoxFuture<'a, Result<(), Error>> { self.inner.server_side_emit(event, args) }
//!     fn server_side_emit_with_ack<'a>(&'a self, event: &'a str, args: &'a [Value])
//!         -> BoxFuture<'a, Result<Vec<Value>, PartialAcks<Value>>> {
//!         self.inner.server_side_emit_with_ack(event, args)
//!     }
//!     fn all_rooms(&self) -> BoxFuture<'_, Result<Vec<Room>, Error>> { self.inner.all_rooms() }
//!     fn server_count(&self) -> BoxFuture<'_, Result<usize, Error>> { self.inner.server_count() }
//! }
//!
//! let mut options = ServerOptions::default();
//! options.adapter = Arc::new(|_nsp: &str| -> Arc<dyn Adapter> { Arc::new(Counting::default()) });
//! let io = Server::with_options(options);
//! ```

mod boundary;
mod hooks;
mod options;
mod packet;
mod session;
mod socket;

pub use crate::handler::BoxFuture;
pub use boundary::Adapter;
pub use hooks::{NamespaceHooks, RoomEvent, RoomListener, ServerAck};
pub use options::{BroadcastFlags, BroadcastOptions};
pub use packet::{read_event, BroadcastPacket};
pub use session::{reaches, RecoveryOptions, RestoredSession, Session};
pub use socket::{AckMessage, AckSink, LocalSocket, SocketInfo};
