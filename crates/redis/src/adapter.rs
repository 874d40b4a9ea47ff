//! The adapter of one namespace over Redis, whatever the protocol: the sockets of this process
//! in a [`MemoryAdapter`], every operation published to the other servers (or appended to the
//! namespace's stream, then done here once Redis has taken it), their requests answered, their
//! answers collected until each expected server has answered or the request times out.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use roomcast::adapter::{
    AckMessage, AckSink, Adapter, BoxFuture, BroadcastOptions, BroadcastPacket, LocalSocket,
    NamespaceHooks, RecoveryOptions, RestoredSession, RoomEvent, RoomListener, ServerAck, Session,
    SocketInfo,
};
use roomcast::packet::Parser;
use roomcast::{Args, Error, MemoryAdapter, PartialAcks, Room, Sid, Value};
use tokio::sync::{mpsc, oneshot};

use crate::driver::{Appended, Driver, Receiver};
use crate::entry::Entry;
use crate::error::RedisError;
use crate::mode::SubscriptionMode;
use crate::reader::{EntryReceiver, StreamReaders};
use crate::wire::message::{Body, Incoming, Outgoing, Publish, RemoteAction, Request, Response};
use crate::wire::protocol::Protocol;

/// A Redis adapter of one namespace (see the crate documentation for how to make them).
pub struct RedisAdapter {
    me: Weak<RedisAdapter>,
    driver: Arc<Driver>,
    protocol: Box<dyn Protocol>,
    /// The readers of the streams, for the streams adapter.
    readers: Option<Arc<StreamReaders>>,
    /// The sockets of this process.
    local: MemoryAdapter,
    nsp: OnceLock<Weak<dyn NamespaceHooks>>,
    /// Connection state recovery's options, when the server has it on.
    recovery: OnceLock<Option<RecoveryOptions>>,
    /// Requests of ours waiting for answers, by request id.
    pending: Mutex<HashMap<String, mpsc::UnboundedSender<Response>>>,
    /// Broadcasts with acknowledgements of ours, by request id.
    acks: Mutex<HashMap<String, AckSink>>,
    requests_timeout: Duration,
}

impl RedisAdapter {
    pub(crate) fn new(
        driver: Arc<Driver>,
        protocol: Box<dyn Protocol>,
        readers: Option<Arc<StreamReaders>>,
        requests_timeout: Duration,
    ) -> Arc<RedisAdapter> {
        Arc::new_cyclic(|me| RedisAdapter {
            me: me.clone(),
            driver,
            protocol,
            readers,
            local: MemoryAdapter::new(),
            nsp: OnceLock::new(),
            recovery: OnceLock::new(),
            pending: Mutex::new(HashMap::new()),
            acks: Mutex::new(HashMap::new()),
            requests_timeout,
        })
    }

    fn hooks(&self) -> Option<Arc<dyn NamespaceHooks>> {
        self.nsp.get().and_then(Weak::upgrade)
    }

    fn name(&self) -> String {
        self.hooks()
            .map_or_else(|| "/".to_owned(), |hooks| hooks.name().to_owned())
    }

    fn receiver(&self) -> Weak<dyn Receiver> {
        self.me.clone()
    }

    fn publish(&self, message: Publish) {
        self.driver.publish(message);
    }

    fn recovery(&self) -> Option<&RecoveryOptions> {
        self.recovery.get().and_then(Option::as_ref)
    }

    /// Sends an operation to the other servers and does it here: at once when published; once
    /// Redis has taken it when appended to the stream (in the order of the appends, so that this
    /// process sees its own operations in stream order), with the entry id as offset. With
    /// `Until::Done` the future resolves when it is done here; with `Until::Queued` as soon as it
    /// is on its way (broadcasts: an emitter that sends many in a row gets them written in one
    /// round trip, in order, rather than one round trip each).
    fn send_and_do(
        &self,
        outgoing: Outgoing,
        until: Until,
        here: impl FnOnce(&RedisAdapter, Option<String>) + Send + 'static,
    ) -> BoxFuture<'static, Result<(), Error>> {
        let entry = match outgoing {
            Outgoing::Publish(message) => {
                self.publish(message);
                here(self, None);
                return done(Ok(()));
            }
            Outgoing::Append(entry) => entry,
        };
        let (finished, finish) = oneshot::channel();
        let me = self.me.clone();
        let then: Appended = Box::new(move |id| {
            if let Some(adapter) = me.upgrade() {
                // A failed append is still done here, without an offset, as Node does.
                here(&adapter, id.ok());
            }
            let _ = finished.send(());
        });
        self.driver.append(entry, then);
        match until {
            Until::Queued => done(Ok(())),
            Until::Done => Box::pin(async move {
                let _ = finish.await;
                Ok(())
            }),
        }
    }

    /// Delivers a broadcast to the sockets of this process; with recovery on, a recoverable
    /// one carries the offset of its stream entry.
    fn deliver(&self, packet: &BroadcastPacket, opts: &BroadcastOptions, offset: Option<&str>) {
        let offset =
            offset.filter(|_| self.recovery().is_some() && packet.recoverable(opts.flags.volatile));
        match offset.map(|offset| packet.with_offset(offset)) {
            None => self.local.broadcast_local(packet, opts),
            Some(Ok(packet)) => self.local.broadcast_local(&packet, opts),
            Some(Err(error)) => {
                tracing::warn!(%error, "broadcast not delivered");
                0
            }
        };
    }

    /// How many other servers serve the namespace.
    async fn others(&self) -> Result<usize, RedisError> {
        Ok(self
            .driver
            .count(&self.protocol.count())
            .await?
            .saturating_sub(1))
    }

    /// Publishes a request (`kind`, as Node names it) and collects `expected` answers to it,
    /// until the timeout; the namespace's observers are told how it went.
    async fn ask(
        &self,
        kind: &'static str,
        request_id: String,
        request: Publish,
        expected: usize,
        timeout: Duration,
    ) -> (Vec<Response>, bool) {
        let started = std::time::Instant::now();
        let (responses, complete) = self.collect(request_id, request, expected, timeout).await;
        if let Some(hooks) = self.hooks() {
            hooks.adapter_request(kind, started.elapsed(), complete);
        }
        (responses, complete)
    }

    async fn collect(
        &self,
        request_id: String,
        request: Publish,
        expected: usize,
        timeout: Duration,
    ) -> (Vec<Response>, bool) {
        let (sender, mut answers) = mpsc::unbounded_channel();
        self.pending.lock().insert(request_id.clone(), sender);
        self.publish(request);
        let mut responses = Vec::with_capacity(expected);
        let complete = tokio::time::timeout(timeout, async {
            while responses.len() < expected {
                match answers.recv().await {
                    Some(response) => responses.push(response),
                    None => return,
                }
            }
        })
        .await
        .is_ok();
        self.pending.lock().remove(&request_id);
        (responses, complete)
    }

    /// Whether a room gets a channel of its own (the sharded adapter's dynamic modes): in
    /// `dynamic`, rooms that are not a socket of this process; in `dynamic-private`, all.
    fn has_channel(&self, room: &Room) -> bool {
        match self.protocol.sharded_mode() {
            Some(SubscriptionMode::DynamicPrivate) => true,
            Some(SubscriptionMode::Dynamic) => !self.is_local_socket(room),
            _ => false,
        }
    }

    fn is_local_socket(&self, room: &Room) -> bool {
        Sid::parse(room.as_str()).is_some_and(|id| !self.local.socket_rooms(id).is_empty())
    }

    fn follow_rooms(&self) {
        if !matches!(
            self.protocol.sharded_mode(),
            Some(SubscriptionMode::Dynamic | SubscriptionMode::DynamicPrivate)
        ) {
            return;
        }
        let me = self.me.clone();
        let listener: RoomListener = Arc::new(move |event: &RoomEvent| {
            let Some(adapter) = me.upgrade() else {
                return;
            };
            match event {
                RoomEvent::Create(room) if adapter.has_channel(room) => {
                    if let Some(channel) = adapter.protocol.room_channel(room) {
                        adapter.driver.subscribe_later(adapter.receiver(), channel);
                    }
                }
                RoomEvent::Delete(room) if adapter.has_channel(room) => {
                    if let Some(channel) = adapter.protocol.room_channel(room) {
                        adapter.driver.unsubscribe_later(channel);
                    }
                }
                _ => {}
            }
        });
        self.local.on_room_event(listener);
    }

    /// Acts on a message from another server.
    fn handle(&self, incoming: Incoming) {
        let from = incoming.from.unwrap_or_default();
        let own = from == self.protocol.uid();
        match incoming.body {
            Body::Response(response) => self.on_response(response),
            Body::Request(request) => self.on_request(from, own, request, incoming.offset),
        }
    }

    fn on_response(&self, response: Response) {
        let request_id = response.request_id().to_owned();
        let message = match response {
            Response::ClientCount { count, .. } => AckMessage::Count(count),
            Response::Ack { value, .. } => {
                AckMessage::Ack(Args::from_values(value.into_iter().collect()))
            }
            answer => {
                // Answers to other servers' requests share the channel: only ours are waited for.
                if let Some(waiter) = self.pending.lock().get(&request_id) {
                    let _ = waiter.send(answer);
                }
                return;
            }
        };
        let sink = self.acks.lock().get(&request_id).cloned();
        if sink.is_some_and(|sink| sink.send(message).is_err()) {
            self.acks.lock().remove(&request_id);
        }
    }

    fn on_request(&self, from: String, own: bool, request: Request, offset: Option<String>) {
        match request {
            Request::Broadcast { event, args, opts } => {
                if own {
                    return;
                }
                let parser = self.hooks().map_or(Parser::Json, |hooks| hooks.parser());
                match BroadcastPacket::encode(parser, self.name(), &event, args, None) {
                    Ok(packet) => self.deliver(&packet, &opts, offset.as_deref()),
                    Err(error) => {
                        tracing::warn!(%error, event, "broadcast from another server not delivered")
                    }
                }
            }
            Request::BroadcastWithAck {
                request_id,
                event,
                args,
                opts,
            } => {
                if own || self.acks.lock().contains_key(&request_id) {
                    return;
                }
                self.answer_broadcast(from, request_id, &event, args, opts);
            }
            Request::SocketsJoin { opts, rooms } => {
                if !own {
                    self.local.add_local(&opts, &rooms);
                }
            }
            Request::SocketsLeave { opts, rooms } => {
                if !own {
                    self.local.del_local(&opts, &rooms);
                }
            }
            Request::DisconnectSockets { opts, close } => {
                if !own {
                    self.local.disconnect_local(&opts, close);
                }
            }
            Request::FetchSockets { request_id, opts } => {
                if own || self.pending.lock().contains_key(&request_id) {
                    return;
                }
                let sockets = self.local.fetch_local(&opts);
                self.publish(
                    self.protocol
                        .fetch_sockets_response(&from, &request_id, &sockets),
                );
            }
            Request::AllRooms { request_id } => {
                if own || self.pending.lock().contains_key(&request_id) {
                    return;
                }
                let rooms = self.local.local_rooms();
                if let Some(answer) = self.protocol.all_rooms_response(&from, &request_id, &rooms) {
                    self.publish(answer);
                }
            }
            Request::ServerSideEmit {
                request_id,
                event,
                args,
            } => {
                if own {
                    return;
                }
                let Some(hooks) = self.hooks() else {
                    return;
                };
                let ack = request_id.map(|request_id| {
                    let me = self.me.clone();
                    ServerAck::new(move |value: Value| {
                        if let Some(adapter) = me.upgrade() {
                            adapter.publish(adapter.protocol.server_side_emit_response(
                                &from,
                                &request_id,
                                &value,
                            ));
                        }
                    })
                });
                hooks.server_side_event(event, args, ack);
            }
            Request::Sockets { request_id, rooms } => {
                let ids: Vec<String> = self
                    .local
                    .fetch_local(&BroadcastOptions::to(rooms))
                    .into_iter()
                    .map(|socket| socket.id)
                    .collect();
                if let Some(answer) = self.protocol.legacy_response(&request_id, Some(&ids)) {
                    self.publish(answer);
                }
            }
            Request::RemoteSocket {
                request_id,
                sid,
                action,
            } => self.act_on_socket(request_id, &sid, action),
        }
    }

    /// Delivers another server's broadcast with acknowledgements: the count of sockets
    /// reached at once, then each answer, as they come (until the sender's timeout).
    fn answer_broadcast(
        &self,
        from: String,
        request_id: String,
        event: &str,
        args: Vec<Value>,
        opts: BroadcastOptions,
    ) {
        let Some(hooks) = self.hooks() else {
            return;
        };
        let packet = match BroadcastPacket::encode(
            hooks.parser(),
            self.name(),
            event,
            args,
            Some(hooks.next_ack_id()),
        ) {
            Ok(packet) => packet,
            Err(error) => {
                tracing::warn!(%error, event, "broadcast from another server not delivered");
                return;
            }
        };
        let (sink, mut answers) = mpsc::unbounded_channel();
        let count = self.local.broadcast_local_with_ack(&packet, &opts, &sink);
        drop(sink);
        self.publish(
            self.protocol
                .client_count_response(&from, &request_id, count),
        );
        if count == 0 {
            return;
        }
        let timeout = opts.flags.timeout.unwrap_or(self.requests_timeout);
        let me = self.me.clone();
        tokio::spawn(async move {
            let forward = async {
                while let Some(message) = answers.recv().await {
                    let AckMessage::Ack(args) = message else {
                        continue;
                    };
                    let Some(adapter) = me.upgrade() else {
                        return;
                    };
                    let first = args
                        .into_values()
                        .ok()
                        .and_then(|values| values.into_iter().next());
                    adapter.publish(adapter.protocol.ack_response(
                        &from,
                        &request_id,
                        first.as_ref(),
                    ));
                }
            };
            let _ = tokio::time::timeout(timeout, forward).await;
        });
    }

    /// A legacy request on one socket: done, and answered, when the socket is here.
    fn act_on_socket(&self, request_id: Option<String>, sid: &str, action: RemoteAction) {
        let Some(id) = Sid::parse(sid).filter(|id| !self.local.socket_rooms(*id).is_empty()) else {
            return;
        };
        match action {
            RemoteAction::Join(room) => self.local.add_all(id, &[room]),
            RemoteAction::Leave(room) => self.local.del(id, &room),
            RemoteAction::Disconnect { close } => self
                .local
                .disconnect_local(&BroadcastOptions::to(vec![Room::of_socket(id)]), close),
        }
        if let Some(answer) = request_id.and_then(|id| self.protocol.legacy_response(&id, None)) {
            self.publish(answer);
        }
    }

    async fn fetch(&self, opts: &BroadcastOptions) -> Result<Vec<SocketInfo>, Error> {
        let mut sockets = self.local.fetch_local(opts);
        if opts.flags.local {
            return Ok(sockets);
        }
        let expected = self.others().await?;
        if expected == 0 {
            return Ok(sockets);
        }
        let request_id = self.protocol.request_id();
        let request = self.protocol.fetch_sockets(&request_id, opts);
        let timeout = self.protocol.fetch_timeout(opts, self.requests_timeout);
        let (responses, complete) = self
            .ask("fetchSockets", request_id, request, expected, timeout)
            .await;
        if !complete {
            return Err(RedisError::RequestTimeout {
                request: "fetchSockets",
                expected,
                received: responses.len(),
            }
            .into());
        }
        for response in responses {
            if let Response::FetchSockets {
                sockets: remote, ..
            } = response
            {
                sockets.extend(remote);
            }
        }
        Ok(sockets)
    }
}

impl Receiver for RedisAdapter {
    fn on_message(&self, channel: &str, payload: &[u8]) {
        if let Some(room) = self.protocol.room_of_channel(channel) {
            // A room's channel: only for servers that hold the room.
            if self.local.local_room_size(&Room::from_peer(room)) == 0 {
                return;
            }
        }
        match self.protocol.decode(channel, payload) {
            Ok(Some(incoming)) => self.handle(incoming),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(channel, %error, "message from Redis skipped");
            }
        }
    }
}

impl EntryReceiver for RedisAdapter {
    fn on_entry(&self, entry: &Entry) {
        let Some(side) = self.protocol.log() else {
            return;
        };
        match side.decode_entry(entry) {
            Ok(Some(incoming)) => self.handle(incoming),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(stream = side.stream, entry = entry.id, %error, "stream entry skipped");
            }
        }
    }
}

/// When the future of an operation sent through the stream resolves.
#[derive(Debug, Clone, Copy)]
enum Until {
    /// Once it is on its way to Redis.
    Queued,
    /// Once it is done in this process too.
    Done,
}

fn done<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Adapter for RedisAdapter {
    fn init(&self, nsp: Weak<dyn NamespaceHooks>) -> BoxFuture<'_, Result<(), Error>> {
        let _ = self
            .recovery
            .set(nsp.upgrade().and_then(|hooks| hooks.recovery().cloned()));
        let _ = self.nsp.set(nsp);
        self.follow_rooms();
        Box::pin(async move {
            self.driver
                .subscribe(self.receiver(), &self.protocol.subscriptions())
                .await?;
            if let (Some(readers), Some(side)) = (&self.readers, self.protocol.log()) {
                let receiver: Weak<dyn EntryReceiver> = self.me.clone();
                readers.follow(&side.stream, &self.name(), receiver).await?;
            }
            Ok(())
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let (Some(readers), Some(side)) = (&self.readers, self.protocol.log()) {
                readers.unfollow(&side.stream, &self.name()).await;
            }
            let mut subscriptions = self.protocol.subscriptions();
            subscriptions.shard_channels.extend(
                self.local
                    .local_rooms()
                    .iter()
                    .filter(|room| self.has_channel(room))
                    .filter_map(|room| self.protocol.room_channel(room)),
            );
            if let Err(error) = self.driver.unsubscribe(&subscriptions).await {
                tracing::warn!(%error, "Redis subscriptions not released");
            }
        })
    }

    fn add_socket(&self, socket: Arc<dyn LocalSocket>) {
        self.local.add_socket(socket);
    }

    fn remove_socket(&self, id: Sid) {
        self.local.remove_socket(id);
    }

    fn add_all(&self, id: Sid, rooms: &[Room]) {
        self.local.add_all(id, rooms);
    }

    fn del(&self, id: Sid, room: &Room) {
        self.local.del(id, room);
    }

    fn socket_rooms(&self, id: Sid) -> Vec<Room> {
        self.local.socket_rooms(id)
    }

    fn local_rooms(&self) -> Vec<Room> {
        self.local.local_rooms()
    }

    fn local_room_size(&self, room: &Room) -> usize {
        self.local.local_room_size(room)
    }

    fn on_room_event(&self, listener: RoomListener) {
        self.local.on_room_event(listener);
    }

    fn broadcast<'a>(
        &'a self,
        packet: &'a BroadcastPacket,
        opts: &'a BroadcastOptions,
    ) -> BoxFuture<'a, Result<(), Error>> {
        if opts.flags.local {
            self.local.broadcast_local(packet, opts);
            return done(Ok(()));
        }
        let outgoing = match self.protocol.broadcast(packet, opts) {
            Ok(outgoing) => outgoing,
            Err(error) => return done(Err(error)),
        };
        if let Outgoing::Publish(message) = outgoing {
            self.publish(message);
            self.local.broadcast_local(packet, opts);
            return done(Ok(()));
        }
        let (packet, opts) = (packet.clone(), opts.clone());
        self.send_and_do(outgoing, Until::Queued, move |adapter, offset| {
            adapter.deliver(&packet, &opts, offset.as_deref());
        })
    }

    fn broadcast_with_ack<'a>(
        &'a self,
        packet: &'a BroadcastPacket,
        opts: &'a BroadcastOptions,
        sink: AckSink,
    ) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            if opts.flags.local {
                return self.local.broadcast_with_ack(packet, opts, sink).await;
            }
            let request_id = self.protocol.request_id();
            let message = self
                .protocol
                .broadcast_with_ack(&request_id, packet, opts)?;
            self.acks.lock().insert(request_id.clone(), sink.clone());
            self.publish(message);
            let count = self.local.broadcast_local_with_ack(packet, opts, &sink);
            let _ = sink.send(AckMessage::Count(count));
            // Forget the request once nobody waits for its answers any more.
            let me = self.me.clone();
            let forget = request_id.clone();
            tokio::spawn(async move {
                sink.closed().await;
                if let Some(adapter) = me.upgrade() {
                    adapter.acks.lock().remove(&forget);
                }
            });
            match self.driver.count(&self.protocol.count()).await {
                Ok(servers) => Ok(servers.max(1)),
                Err(error) => {
                    tracing::warn!(%error, "server count unknown: waiting for this server's acknowledgements only");
                    Ok(1)
                }
            }
        })
    }

    fn fetch_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
    ) -> BoxFuture<'a, Result<Vec<SocketInfo>, Error>> {
        Box::pin(self.fetch(opts))
    }

    fn add_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
        rooms: &'a [Room],
    ) -> BoxFuture<'a, Result<(), Error>> {
        if opts.flags.local {
            self.local.add_local(opts, rooms);
            return done(Ok(()));
        }
        let (opts, rooms) = (opts.clone(), rooms.to_vec());
        self.send_and_do(
            self.protocol.sockets_join(&opts, &rooms),
            Until::Done,
            move |adapter, _| {
                adapter.local.add_local(&opts, &rooms);
            },
        )
    }

    fn del_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
        rooms: &'a [Room],
    ) -> BoxFuture<'a, Result<(), Error>> {
        if opts.flags.local {
            self.local.del_local(opts, rooms);
            return done(Ok(()));
        }
        let (opts, rooms) = (opts.clone(), rooms.to_vec());
        self.send_and_do(
            self.protocol.sockets_leave(&opts, &rooms),
            Until::Done,
            move |adapter, _| {
                adapter.local.del_local(&opts, &rooms);
            },
        )
    }

    fn disconnect_sockets<'a>(
        &'a self,
        opts: &'a BroadcastOptions,
        close: bool,
    ) -> BoxFuture<'a, Result<(), Error>> {
        if opts.flags.local {
            self.local.disconnect_local(opts, close);
            return done(Ok(()));
        }
        let opts = opts.clone();
        self.send_and_do(
            self.protocol.disconnect_sockets(&opts, close),
            Until::Done,
            move |adapter, _| adapter.local.disconnect_local(&opts, close),
        )
    }

    fn server_side_emit<'a>(
        &'a self,
        event: &'a str,
        args: &'a [Value],
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.publish(self.protocol.server_side_emit(None, event, args));
        done(Ok(()))
    }

    fn server_side_emit_with_ack<'a>(
        &'a self,
        event: &'a str,
        args: &'a [Value],
    ) -> BoxFuture<'a, Result<Vec<Value>, PartialAcks<Value>>> {
        Box::pin(async move {
            let expected = self.others().await.map_err(Error::from)?;
            if expected == 0 {
                return Ok(Vec::new());
            }
            let request_id = self.protocol.request_id();
            let request = self
                .protocol
                .server_side_emit(Some(&request_id), event, args);
            let (responses, complete) = self
                .ask(
                    "serverSideEmit",
                    request_id,
                    request,
                    expected,
                    self.requests_timeout,
                )
                .await;
            let values: Vec<Value> = responses
                .into_iter()
                .filter_map(|response| match response {
                    Response::ServerSideEmit { value, .. } => Some(value),
                    _ => None,
                })
                .collect();
            if complete {
                return Ok(values);
            }
            Err(PartialAcks {
                error: RedisError::RequestTimeout {
                    request: "serverSideEmit",
                    expected,
                    received: values.len(),
                }
                .into(),
                responses: values,
            })
        })
    }

    fn all_rooms(&self) -> BoxFuture<'_, Result<Vec<Room>, Error>> {
        Box::pin(async move {
            let request_id = self.protocol.request_id();
            let Some(request) = self.protocol.all_rooms(&request_id) else {
                // No such request in the cluster protocol: the rooms of every socket.
                let mut rooms: Vec<Room> = self
                    .fetch(&BroadcastOptions::default())
                    .await?
                    .into_iter()
                    .flat_map(|socket| socket.rooms)
                    .collect();
                rooms.sort();
                rooms.dedup();
                return Ok(rooms);
            };
            let mut rooms = self.local.local_rooms();
            let expected = self.others().await?;
            if expected > 0 {
                let (responses, complete) = self
                    .ask(
                        "allRooms",
                        request_id,
                        request,
                        expected,
                        self.requests_timeout,
                    )
                    .await;
                if !complete {
                    return Err(RedisError::RequestTimeout {
                        request: "allRooms",
                        expected,
                        received: responses.len(),
                    }
                    .into());
                }
                for response in responses {
                    if let Response::AllRooms { rooms: remote, .. } = response {
                        rooms.extend(remote);
                    }
                }
            }
            rooms.sort();
            rooms.dedup();
            Ok(rooms)
        })
    }

    fn server_count(&self) -> BoxFuture<'_, Result<usize, Error>> {
        Box::pin(async move { Ok(self.driver.count(&self.protocol.count()).await?) })
    }

    fn persist_session(&self, session: Session) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let (Some(side), Some(recovery)) = (self.protocol.log(), self.recovery()) else {
                return;
            };
            let window = recovery.max_disconnection_duration;
            if let Err(error) = crate::session::persist(&self.driver, side, &session, window).await
            {
                tracing::warn!(socket = session.sid, %error, "session not kept in Redis");
            }
        })
    }

    fn restore_session<'a>(
        &'a self,
        pid: &'a str,
        offset: &'a str,
    ) -> BoxFuture<'a, Result<Option<RestoredSession>, Error>> {
        Box::pin(async move {
            let Some(side) = self.protocol.log() else {
                return Ok(None);
            };
            let parser = self.hooks().map_or(Parser::Json, |hooks| hooks.parser());
            Ok(crate::session::restore(&self.driver, side, parser, pid, offset).await?)
        })
    }
}
