//! The in-memory adapter: the room index of one process, and the reference behaviour of
//! every adapter operation.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::{Mutex, RwLock, RwLockWriteGuard};
use roomcast_engineio::{IdHasher, Sid};

use crate::adapter::{
    AckMessage, AckSink, Adapter, BoxFuture, BroadcastOptions, BroadcastPacket, LocalSocket,
    NamespaceHooks, RestoredSession, RoomEvent, RoomListener, Session, SocketInfo,
};
use crate::error::{Error, PartialAcks};
use crate::members::Members;
use crate::recovery::SessionStore;
use crate::rooms::Room;
use crate::spare;
use crate::value::Value;

/// The default adapter: rooms and sockets of this process only.
///
/// Two maps, as in socket.io: room → members and socket → rooms. A room exists while it has
/// members. Broadcasts only take a read lock, so they run in parallel with each other.
///
/// Room changes are told to the listeners added with [`Adapter::on_room_event`], in order;
/// without listeners they cost nothing.
///
/// With connection state recovery on (the namespace says so at [`Adapter::init`]), it also
/// keeps what recovery needs, as Node's `SessionAwareAdapter`: each recoverable broadcast with
/// its offset, and the sessions of disconnected sockets, within
/// [`RecoveryOptions`](crate::RecoveryOptions)' bounds.
#[derive(Default)]
pub struct MemoryAdapter {
    state: RwLock<State>,
    recovery: OnceLock<SessionStore>,
    listeners: RwLock<Vec<RoomListener>>,
    /// Held while room events are delivered, taken before the state lock is released: events
    /// reach listeners in the order of the changes.
    delivery: Mutex<()>,
}

/// A set of socket ids.
type SidSet = HashSet<Sid, IdHasher>;

#[derive(Default)]
struct State {
    rooms: HashMap<Room, Members>,
    sockets: HashMap<Sid, Member, IdHasher>,
}

struct Member {
    socket: Arc<dyn LocalSocket>,
    rooms: HashSet<Room>,
}

/// Where the room events of a change go: nowhere when nobody listens.
type Events = Option<Vec<RoomEvent>>;

fn record(events: &mut Events, event: impl FnOnce() -> RoomEvent) {
    if let Some(events) = events {
        events.push(event());
    }
}

impl State {
    fn join(&mut self, id: Sid, room: &Room, events: &mut Events) {
        let Some(member) = self.sockets.get_mut(&id) else {
            return;
        };
        if member.rooms.insert(room.clone()) {
            let members = self.rooms.entry(room.clone()).or_default();
            if members.is_empty() {
                record(events, || RoomEvent::Create(room.clone()));
            }
            members.insert(id, member.socket.clone());
            record(events, || RoomEvent::Join(room.clone(), id));
        }
    }

    fn leave(&mut self, id: Sid, room: &Room, events: &mut Events) {
        let was_member = self
            .sockets
            .get_mut(&id)
            .is_some_and(|member| member.rooms.remove(room));
        if was_member {
            self.drop_member(id, room, events);
        }
    }

    /// Takes `id` out of `room`'s members; a room left empty ceases to exist.
    fn drop_member(&mut self, id: Sid, room: &Room, events: &mut Events) {
        if let Some(members) = self.rooms.get_mut(room) {
            if members.remove(&id) {
                record(events, || RoomEvent::Leave(room.clone(), id));
            }
            if members.is_empty() {
                self.rooms.remove(room);
                spare::give_back(&mut self.rooms);
                record(events, || RoomEvent::Delete(room.clone()));
            }
        }
    }

    /// The rooms of a socket, sorted (empty when unknown).
    fn rooms_of(&self, id: Sid) -> Vec<Room> {
        let mut rooms: Vec<Room> = self
            .sockets
            .get(&id)
            .map(|member| member.rooms.iter().cloned().collect())
            .unwrap_or_default();
        rooms.sort();
        rooms
    }

    /// Calls `f` once for every socket the options target.
    fn apply(&self, opts: &BroadcastOptions, mut f: impl FnMut(Sid, &Arc<dyn LocalSocket>)) {
        let except: SidSet = opts
            .except
            .iter()
            .filter_map(|room| self.rooms.get(room))
            .flat_map(Members::keys)
            .copied()
            .collect();
        let excluded = |id: &Sid| !except.is_empty() && except.contains(id);
        match opts.rooms.as_slice() {
            [] => {
                for (id, member) in &self.sockets {
                    if !excluded(id) {
                        f(*id, &member.socket);
                    }
                }
            }
            [room] => {
                for (id, socket) in self.rooms.get(room).into_iter().flat_map(Members::iter) {
                    if !excluded(id) {
                        f(*id, socket);
                    }
                }
            }
            rooms => {
                let mut seen = SidSet::default();
                for (id, socket) in rooms
                    .iter()
                    .filter_map(|room| self.rooms.get(room))
                    .flat_map(Members::iter)
                {
                    if !excluded(id) && seen.insert(*id) {
                        f(*id, socket);
                    }
                }
            }
        }
    }

    fn targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let mut ids = Vec::new();
        self.apply(opts, |id, _| ids.push(id));
        ids
    }
}

impl MemoryAdapter {
    /// An empty adapter.
    pub fn new() -> MemoryAdapter {
        MemoryAdapter::default()
    }

    /// Changes the rooms under the write lock, then tells the listeners what changed.
    fn change<T>(&self, f: impl FnOnce(&mut State, &mut Events) -> T) -> T {
        let mut events: Events = (!self.listeners.read().is_empty()).then(Vec::new);
        let mut state = self.state.write();
        let result = f(&mut state, &mut events);
        match events {
            Some(events) if !events.is_empty() => self.deliver(state, &events),
            _ => drop(state),
        }
        result
    }

    fn deliver(&self, state: RwLockWriteGuard<'_, State>, events: &[RoomEvent]) {
        let _order = self.delivery.lock();
        drop(state);
        let listeners = self.listeners.read().clone();
        for event in events {
            for listener in &listeners {
                listener(event);
            }
        }
    }

    /// Delivers to the targeted local sockets; returns how many were reached.
    pub fn broadcast_local(&self, packet: &BroadcastPacket, opts: &BroadcastOptions) -> usize {
        let mut count = 0;
        self.state.read().apply(opts, |_, socket| {
            socket.deliver(packet.frames(), opts.flags.volatile);
            count += 1;
        });
        count
    }

    /// Delivers a packet asking for acknowledgements to the targeted local sockets, their
    /// answers going to `sink`; returns how many were reached. A packet without an ack id is
    /// delivered as a plain broadcast.
    pub fn broadcast_local_with_ack(
        &self,
        packet: &BroadcastPacket,
        opts: &BroadcastOptions,
        sink: &AckSink,
    ) -> usize {
        let Some(ack_id) = packet.ack_id() else {
            return self.broadcast_local(packet, opts);
        };
        let mut count = 0;
        self.state.read().apply(opts, |_, socket| {
            socket.expect_ack(ack_id, sink.clone());
            socket.deliver(packet.frames(), opts.flags.volatile);
            count += 1;
        });
        count
    }

    /// Describes the targeted local sockets.
    pub fn fetch_local(&self, opts: &BroadcastOptions) -> Vec<SocketInfo> {
        let mut found = Vec::new();
        let state = self.state.read();
        state.apply(opts, |id, socket| {
            found.push((socket.clone(), state.rooms_of(id)))
        });
        drop(state);
        // Described outside the lock: describing reads the socket's own state.
        found
            .into_iter()
            .map(|(socket, rooms)| {
                let (handshake, data) = socket.describe();
                SocketInfo {
                    id: socket.id().as_str().to_owned(),
                    rooms,
                    handshake,
                    data,
                }
            })
            .collect()
    }

    /// Makes the targeted local sockets join `rooms`.
    pub fn add_local(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.change(|state, events| {
            for id in state.targets(opts) {
                for room in rooms {
                    state.join(id, room, events);
                }
            }
        });
    }

    /// Makes the targeted local sockets leave `rooms`.
    pub fn del_local(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        self.change(|state, events| {
            for id in state.targets(opts) {
                for room in rooms {
                    state.leave(id, room, events);
                }
            }
        });
    }

    /// Disconnects the targeted local sockets.
    pub fn disconnect_local(&self, opts: &BroadcastOptions, close: bool) {
        let mut targets = Vec::new();
        self.state
            .read()
            .apply(opts, |_, socket| targets.push(socket.clone()));
        // Outside the lock: disconnecting leaves rooms.
        for socket in targets {
            socket.disconnect(close);
        }
    }
}

/// An adapter operation that completed at once.
fn done<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, Result<T, Error>> {
    Box::pin(std::future::ready(Ok(value)))
}

impl Adapter for MemoryAdapter {
    fn init(&self, nsp: Weak<dyn NamespaceHooks>) -> BoxFuture<'_, Result<(), Error>> {
        if let Some(options) = nsp.upgrade().and_then(|nsp| nsp.recovery().cloned()) {
            let _ = self.recovery.set(SessionStore::new(options));
        }
        done(())
    }

    fn add_socket(&self, socket: Arc<dyn LocalSocket>) {
        let id = socket.id();
        self.change(|state, events| {
            state.sockets.insert(
                id,
                Member {
                    socket,
                    rooms: HashSet::new(),
                },
            );
            state.join(id, &Room::of_socket(id), events);
        });
    }

    fn remove_socket(&self, id: Sid) {
        self.change(|state, events| {
            let Some(member) = state.sockets.remove(&id) else {
                return;
            };
            spare::give_back(&mut state.sockets);
            for room in member.rooms {
                state.drop_member(id, &room, events);
            }
        });
    }

    fn add_all(&self, id: Sid, rooms: &[Room]) {
        self.change(|state, events| {
            for room in rooms {
                state.join(id, room, events);
            }
        });
    }

    fn del(&self, id: Sid, room: &Room) {
        self.change(|state, events| state.leave(id, room, events));
    }

    fn socket_rooms(&self, id: Sid) -> Vec<Room> {
        self.state.read().rooms_of(id)
    }

    fn local_rooms(&self) -> Vec<Room> {
        self.state.read().rooms.keys().cloned().collect()
    }

    fn local_room_size(&self, room: &Room) -> usize {
        self.state.read().rooms.get(room).map_or(0, Members::len)
    }

    fn on_room_event(&self, listener: RoomListener) {
        self.listeners.write().push(listener);
    }

    fn broadcast<'a>(
        &'a self,
        packet: &'a BroadcastPacket,
        opts: &'a BroadcastOptions,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let Some(recovery) = self.recovery.get() else {
            self.broadcast_local(packet, opts);
            return done(());
        };
        Box::pin(std::future::ready(recovery.broadcast(
            packet,
            opts,
            |packet| {
                self.broadcast_local(packet, opts);
            },
        )))
    }

    fn broadcast_with_ack<'a>(
        &'a self,
        packet: &'a BroadcastPacket,
        opts: &'a BroadcastOptions,
        sink: AckSink,
    ) -> BoxFuture<'a, Result<usize, Error>> {
        let count = self.broadcast_local_with_ack(packet, opts, &sink);
        let _ = sink.send(AckMessage::Count(count));
        // One server: this one.
        done(1)
    }

    fn fetch_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
    ) -> BoxFuture<'a, Result<Vec<SocketInfo>, Error>> {
        done(self.fetch_local(opts))
    }

    fn add_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
        rooms: &'a [Room],
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.add_local(opts, rooms);
        done(())
    }

    fn del_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
        rooms: &'a [Room],
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.del_local(opts, rooms);
        done(())
    }

    fn disconnect_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
        close: bool,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.disconnect_local(opts, close);
        done(())
    }

    fn server_side_emit<'a>(
        &'a self,
        _event: &'a str,
        _args: &'a [Value],
    ) -> BoxFuture<'a, Result<(), Error>> {
        // One process: there is no other server to reach.
        done(())
    }

    fn server_side_emit_with_ack<'a>(
        &'a self,
        _event: &'a str,
        _args: &'a [Value],
    ) -> BoxFuture<'a, Result<Vec<Value>, PartialAcks<Value>>> {
        // No other server: nobody to answer.
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    fn all_rooms(&self) -> BoxFuture<'_, Result<Vec<Room>, Error>> {
        done(self.local_rooms())
    }

    fn server_count(&self) -> BoxFuture<'_, Result<usize, Error>> {
        done(1)
    }

    fn persist_session(&self, session: Session) -> BoxFuture<'_, ()> {
        if let Some(recovery) = self.recovery.get() {
            recovery.persist(session);
        }
        Box::pin(std::future::ready(()))
    }

    fn restore_session<'a>(
        &'a self,
        pid: &'a str,
        offset: &'a str,
    ) -> BoxFuture<'a, Result<Option<RestoredSession>, Error>> {
        done(
            self.recovery
                .get()
                .and_then(|recovery| recovery.restore(pid, offset)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::Handshake;
    use parking_lot::Mutex;
    use roomcast_engineio::Frame;

    #[derive(Default)]
    struct Probe {
        id: Option<Sid>,
        received: Mutex<usize>,
    }

    impl LocalSocket for Probe {
        fn id(&self) -> Sid {
            self.id.unwrap_or_default()
        }
        fn deliver(&self, _frames: &[Frame], _volatile: bool) {
            *self.received.lock() += 1;
        }
        fn expect_ack(&self, _ack_id: u64, _sink: AckSink) {}
        fn disconnect(&self, _close: bool) {}
        fn describe(&self) -> (Handshake, Value) {
            (Handshake::default(), Value::Null)
        }
    }

    fn room(name: &str) -> Room {
        Room::new(name).unwrap()
    }

    /// Five sockets: s0 in a, s1 in a+b, s2 in b, s3 in c, s4 in nothing.
    fn setup() -> (MemoryAdapter, Vec<Arc<Probe>>) {
        let adapter = MemoryAdapter::new();
        let sockets: Vec<Arc<Probe>> = (0..5)
            .map(|_| {
                Arc::new(Probe {
                    id: Some(Sid::new()),
                    ..Probe::default()
                })
            })
            .collect();
        for socket in &sockets {
            adapter.add_socket(socket.clone());
        }
        let memberships: [&[&str]; 5] = [&["a"], &["a", "b"], &["b"], &["c"], &[]];
        for (socket, rooms) in sockets.iter().zip(memberships) {
            let rooms: Vec<Room> = rooms.iter().map(|name| room(name)).collect();
            adapter.add_all(socket.id(), &rooms);
        }
        (adapter, sockets)
    }

    fn targets(
        adapter: &MemoryAdapter,
        sockets: &[Arc<Probe>],
        rooms: &[&str],
        except: &[&str],
    ) -> Vec<usize> {
        let opts = BroadcastOptions {
            rooms: rooms.iter().map(|name| room(name)).collect(),
            except: except.iter().map(|name| room(name)).collect(),
            ..BroadcastOptions::default()
        };
        let ids = adapter.state.read().targets(&opts);
        let mut found: Vec<usize> = ids
            .iter()
            .filter_map(|id| sockets.iter().position(|socket| socket.id() == *id))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn targets_exactly_like_socket_io() {
        let (adapter, sockets) = setup();
        let own = sockets[1].id();
        let cases: &[(&[&str], &[&str], &[usize])] = &[
            (&[], &[], &[0, 1, 2, 3, 4]),
            (&["a"], &[], &[0, 1]),
            (&["a", "b"], &[], &[0, 1, 2]),
            (&["a"], &["b"], &[0]),
            (&[], &["a"], &[2, 3, 4]),
            (&["a", "c"], &["b"], &[0, 3]),
            (&["nobody"], &[], &[]),
            (&[own.as_str()], &[], &[1]),
            (&["a", "b"], &[own.as_str()], &[0, 2]),
        ];
        for (rooms, except, expected) in cases {
            assert_eq!(
                targets(&adapter, &sockets, rooms, except),
                *expected,
                "to {rooms:?} except {except:?}"
            );
        }
    }

    #[test]
    fn a_broadcast_reaches_each_target_once_and_counts_them() {
        let (adapter, sockets) = setup();
        let packet = BroadcastPacket::new("/", "news", vec![Value::from("hi")], None).unwrap();
        let opts = BroadcastOptions {
            rooms: vec![room("a"), room("b")],
            except: vec![room("c")],
            ..BroadcastOptions::default()
        };
        assert_eq!(adapter.broadcast_local(&packet, &opts), 3);
        let received: Vec<usize> = sockets
            .iter()
            .map(|socket| *socket.received.lock())
            .collect();
        // s1 is in both a and b, and still gets the packet once.
        assert_eq!(received, vec![1, 1, 1, 0, 0]);
        assert_eq!(
            adapter.broadcast_local(&packet, &BroadcastOptions::default()),
            5
        );
        let received: Vec<usize> = sockets
            .iter()
            .map(|socket| *socket.received.lock())
            .collect();
        assert_eq!(received, vec![2, 2, 2, 1, 1]);
    }

    #[test]
    fn rooms_exist_only_while_they_have_members() {
        let (adapter, sockets) = setup();
        assert_eq!(adapter.local_room_size(&room("a")), 2);
        adapter.del(sockets[0].id(), &room("a"));
        adapter.del(sockets[1].id(), &room("a"));
        assert_eq!(adapter.local_room_size(&room("a")), 0);
        assert!(!adapter.local_rooms().contains(&room("a")));
        adapter.remove_socket(sockets[2].id());
        assert_eq!(adapter.local_room_size(&room("b")), 1);
        assert!(adapter.socket_rooms(sockets[2].id()).is_empty());
        adapter.remove_socket(sockets[1].id());
        assert!(!adapter.local_rooms().contains(&room("b")));
    }

    #[test]
    fn room_changes_reach_listeners_in_order() {
        let adapter = MemoryAdapter::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        adapter.on_room_event(Arc::new(move |event: &RoomEvent| {
            sink.lock().push(event.clone())
        }));
        let socket = Arc::new(Probe {
            id: Some(Sid::new()),
            ..Probe::default()
        });
        let id = socket.id();
        let own = Room::of_socket(id);
        adapter.add_socket(socket);
        adapter.add_all(id, &[room("a"), room("a")]);
        adapter.del(id, &room("a"));
        adapter.del(id, &room("never-joined"));
        adapter.remove_socket(id);
        assert_eq!(
            *seen.lock(),
            vec![
                RoomEvent::Create(own.clone()),
                RoomEvent::Join(own.clone(), id),
                RoomEvent::Create(room("a")),
                RoomEvent::Join(room("a"), id),
                RoomEvent::Leave(room("a"), id),
                RoomEvent::Delete(room("a")),
                RoomEvent::Leave(own.clone(), id),
                RoomEvent::Delete(own),
            ]
        );
    }

    #[test]
    fn socket_rooms_include_the_own_room() {
        let (adapter, sockets) = setup();
        let rooms = adapter.socket_rooms(sockets[1].id());
        assert_eq!(rooms.len(), 3);
        assert!(rooms.contains(&Room::of_socket(sockets[1].id())));
    }

    #[test]
    fn bulk_joins_and_leaves_follow_the_options() {
        let (adapter, sockets) = setup();
        let in_a = BroadcastOptions {
            rooms: vec![room("a")],
            ..BroadcastOptions::default()
        };
        adapter.add_local(&in_a, &[room("x")]);
        assert_eq!(targets(&adapter, &sockets, &["x"], &[]), vec![0, 1]);
        adapter.del_local(&BroadcastOptions::default(), &[room("x")]);
        assert!(!adapter.local_rooms().contains(&room("x")));
    }
}
