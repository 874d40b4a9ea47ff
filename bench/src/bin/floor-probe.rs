//! `floor-probe`: the least work a Socket.IO server can do per delivery, as a yardstick for the
//! benchmark results, not a server to use.
//!
//! It speaks just enough Engine.IO v4 (WebSocket only) and Socket.IO v5 (the main namespace `/`)
//! for the `latency` and `echo` scenarios of the probe contract (../shared/CONTRACT.md): `join`,
//! `broadcast` from the server to rooms, and `echo`, each acknowledged. It runs on one thread,
//! and the code that handles the sender's packet writes the event's frame, built once, straight
//! to each recipient's socket: one `send` per recipient, with no queue, no task wake-up and no
//! copy per recipient (a socket that does not take the whole frame gets the rest from a task
//! later). No heartbeat is sent (the open packet announces a ping interval of an hour), and
//! anything else of the contract is answered with an error acknowledgement.
//!
//! Environment: `PORT` (default 3000). Prints `listening on 127.0.0.1:<port>` when ready.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{ErrorKind, Write};
use std::rc::Rc;

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::net::{TcpListener, TcpStream};

use roomcast_bench::os::raise_nofile_limit;
use roomcast_bench::sio::split_number;
use roomcast_bench::wsframe::{OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use roomcast_bench::wsserver::{parse_client_frame, put_header, server_handshake, unmask};
use roomcast_bench::Res;

/// Largest accepted client frame payload (Engine.IO's default maxPayload).
const MAX_PAYLOAD: usize = 1_000_000;
/// Initial capacity of a connection's receive buffer.
const READ_CAPACITY: usize = 16 * 1024;

/// One connected client.
struct Peer {
    sid: String,
    stream: TcpStream,
    /// Bytes the socket did not take yet, written by [`flush_later`].
    backlog: RefCell<Vec<u8>>,
    /// Rooms joined, the client's own id included (as `socket.rooms` in Node).
    rooms: RefCell<BTreeSet<String>>,
    closed: Cell<bool>,
}

impl Peer {
    /// Writes `frame` now; what the socket does not take is left to [`flush_later`].
    fn send(self: &Rc<Self>, frame: &[u8]) {
        if self.closed.get() {
            return;
        }
        let mut backlog = self.backlog.borrow_mut();
        if !backlog.is_empty() {
            backlog.extend_from_slice(frame);
            return;
        }
        let mut written = 0;
        while written < frame.len() {
            match self.stream.try_write(&frame[written..]) {
                Ok(0) => return self.fail("the socket took no bytes"),
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    backlog.extend_from_slice(&frame[written..]);
                    tokio::task::spawn_local(flush_later(self.clone()));
                    return;
                }
                Err(e) => return self.fail(&e.to_string()),
            }
        }
    }

    fn fail(&self, reason: &str) {
        if !self.closed.replace(true) {
            eprintln!("{}: write failed: {reason}", self.sid);
        }
    }
}

/// Writes a peer's backlog as its socket takes it.
async fn flush_later(peer: Rc<Peer>) {
    while !peer.closed.get() {
        if let Err(e) = peer.stream.writable().await {
            return peer.fail(&e.to_string());
        }
        let mut backlog = peer.backlog.borrow_mut();
        match peer.stream.try_write(&backlog) {
            Ok(0) => return peer.fail("the socket took no bytes"),
            Ok(n) => {
                backlog.drain(..n);
                if backlog.is_empty() {
                    return;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return peer.fail(&e.to_string()),
        }
    }
}

/// Who is in which room.
#[derive(Default)]
struct Hub {
    rooms: RefCell<HashMap<String, Vec<Rc<Peer>>>>,
    next_id: Cell<u64>,
}

impl Hub {
    fn join(&self, peer: &Rc<Peer>, room: &str) {
        if peer.rooms.borrow_mut().insert(room.to_owned()) {
            let mut rooms = self.rooms.borrow_mut();
            rooms.entry(room.to_owned()).or_default().push(peer.clone());
        }
    }

    fn leave_all(&self, peer: &Rc<Peer>) {
        let mut rooms = self.rooms.borrow_mut();
        for room in std::mem::take(&mut *peer.rooms.borrow_mut()) {
            if let Some(members) = rooms.get_mut(&room) {
                members.retain(|m| !Rc::ptr_eq(m, peer));
                if members.is_empty() {
                    rooms.remove(&room);
                }
            }
        }
    }

    /// Sends `frame` once to every member of the union of `to`.
    fn deliver(&self, to: &[String], frame: &[u8]) {
        let rooms = self.rooms.borrow();
        let mut members = to.iter().filter_map(|room| rooms.get(room));
        match to.len() {
            1 => {
                for peer in members.next().into_iter().flatten() {
                    peer.send(frame);
                }
            }
            _ => {
                let mut seen = HashSet::new();
                for peer in members.flatten() {
                    if seen.insert(Rc::as_ptr(peer)) {
                        peer.send(frame);
                    }
                }
            }
        }
    }
}

/// `join`'s argument.
#[derive(Deserialize)]
#[serde(untagged)]
enum Rooms {
    One(String),
    Many(Vec<String>),
}

/// `broadcast`'s argument.
#[derive(Deserialize)]
struct Broadcast<'a> {
    from: String,
    #[serde(default)]
    to: Vec<String>,
    except: Option<Vec<String>>,
    event: String,
    #[serde(borrow)]
    args: &'a RawValue,
}

/// Appends the unmasked text frame holding `payload`.
fn put_text(out: &mut Vec<u8>, payload: &[u8]) {
    put_header(out, OP_TEXT, payload.len());
    out.extend_from_slice(payload);
}

/// The elements of a JSON array's text, without the brackets; `None` when it is not an array.
fn array_items(raw: &RawValue) -> Option<&str> {
    raw.get()
        .trim()
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
}

/// What the connection does after a packet.
enum Next {
    Continue,
    Close,
}

struct Session {
    hub: Rc<Hub>,
    peer: Rc<Peer>,
    /// Scratch space for frames sent to this client.
    out: Vec<u8>,
}

impl Session {
    fn reply(&mut self, text: std::fmt::Arguments) {
        let mut payload = Vec::with_capacity(64);
        let _ = payload.write_fmt(text);
        self.out.clear();
        put_text(&mut self.out, &payload);
        self.peer.send(&self.out);
    }

    fn ack(&mut self, id: Option<u64>, args: std::fmt::Arguments) {
        if let Some(id) = id {
            self.reply(format_args!("43{id}{args}"));
        }
    }

    fn refuse(&mut self, id: Option<u64>, reason: &str) {
        eprintln!("{}: {reason}", self.peer.sid);
        let reason = serde_json::to_string(reason).unwrap_or_default();
        self.ack(id, format_args!("[{{\"error\":{reason}}}]"));
    }

    fn on_text(&mut self, text: &[u8]) -> Result<Next, String> {
        match text {
            [b'4', b'0'] | [b'4', b'0', b'{', ..] => {
                let sid = self.peer.sid.clone();
                self.reply(format_args!("40{{\"sid\":\"{sid}\"}}"));
            }
            b"1" | b"41" => return Ok(Next::Close),
            b"2" | b"3" => {}
            [b'4', b'0', b'/', ..] => {
                self.reply(format_args!(
                    "44{},{{\"message\":\"Invalid namespace\"}}",
                    String::from_utf8_lossy(&text[2..]).trim_end_matches(',')
                ));
            }
            [b'4', b'2', rest @ ..] => self.on_event(rest)?,
            _ => {
                return Err(format!(
                    "unsupported packet {:?}",
                    String::from_utf8_lossy(&text[..text.len().min(40)])
                ))
            }
        }
        Ok(Next::Continue)
    }

    fn on_event(&mut self, rest: &[u8]) -> Result<(), String> {
        let (id, rest) = split_number(rest);
        let items: Vec<&RawValue> =
            serde_json::from_slice(rest).map_err(|e| format!("bad event: {e}"))?;
        let (name, args) = items.split_first().ok_or("event without a name")?;
        let name: String =
            serde_json::from_str(name.get()).map_err(|e| format!("bad event name: {e}"))?;
        match name.as_str() {
            "join" => {
                let rooms = args
                    .first()
                    .and_then(|a| serde_json::from_str::<Rooms>(a.get()).ok());
                match rooms {
                    Some(Rooms::One(room)) => self.hub.join(&self.peer, &room),
                    Some(Rooms::Many(rooms)) => {
                        for room in rooms {
                            self.hub.join(&self.peer, &room);
                        }
                    }
                    None => {
                        self.refuse(id, "join needs a room name or a list of them");
                        return Ok(());
                    }
                }
                let rooms = serde_json::to_string(&*self.peer.rooms.borrow()).unwrap_or_default();
                self.ack(id, format_args!("[{rooms}]"));
            }
            "broadcast" => {
                let spec = args
                    .first()
                    .and_then(|a| serde_json::from_str::<Broadcast>(a.get()).ok());
                let Some(spec) = spec else {
                    self.refuse(id, "broadcast needs { from, to, event, args }");
                    return Ok(());
                };
                let items = array_items(spec.args);
                match items {
                    Some(items) if spec.from == "server" && spec.except.is_none() => {
                        let event = serde_json::to_string(&spec.event).unwrap_or_default();
                        let sep = if items.trim().is_empty() { "" } else { "," };
                        let payload = format!("42[{event}{sep}{items}]");
                        self.out.clear();
                        put_text(&mut self.out, payload.as_bytes());
                        self.hub.deliver(&spec.to, &self.out);
                        self.ack(id, format_args!("[true]"));
                    }
                    _ => self.refuse(
                        id,
                        "floor-probe broadcasts only from the server to rooms, with args an array",
                    ),
                }
            }
            "echo" => {
                let items = args.iter().map(|a| a.get()).collect::<Vec<_>>().join(",");
                self.ack(id, format_args!("[{items}]"));
            }
            other => self.refuse(id, &format!("floor-probe does not handle {other:?}")),
        }
        Ok(())
    }
}

/// Reads frames until the client closes; every complete text frame is handled in turn.
async fn read_loop(session: &mut Session) -> Res<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CAPACITY);
    let mut start = 0;
    loop {
        while let Some(f) = parse_client_frame(&buf[start..], MAX_PAYLOAD)? {
            let (s, e) = (start + f.frame.header, start + f.frame.total());
            start = e;
            if !f.frame.fin {
                return Err("fragmented frames are not supported".into());
            }
            let payload = &mut buf[s..e];
            unmask(payload, f.mask);
            match f.frame.opcode {
                OP_TEXT => {
                    if let Next::Close = session.on_text(payload)? {
                        return Ok(());
                    }
                }
                OP_PING => {
                    session.out.clear();
                    put_header(&mut session.out, OP_PONG, payload.len());
                    session.out.extend_from_slice(payload);
                    session.peer.send(&session.out);
                }
                OP_PONG => {}
                OP_CLOSE => {
                    session.out.clear();
                    put_header(&mut session.out, OP_CLOSE, 0);
                    session.peer.send(&session.out);
                    return Ok(());
                }
                op => return Err(format!("unsupported opcode {op:#x}").into()),
            }
        }
        buf.drain(..start);
        start = 0;
        if buf.len() == buf.capacity() {
            buf.reserve(READ_CAPACITY);
        }
        session.peer.stream.readable().await?;
        match session.peer.stream.try_read_buf(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.into()),
        }
        if session.peer.closed.get() {
            return Ok(());
        }
    }
}

async fn serve(hub: Rc<Hub>, mut stream: TcpStream) -> Res<()> {
    stream.set_nodelay(true)?;
    let head = server_handshake(&mut stream).await?;
    let request_line = head.lines().next().unwrap_or_default();
    if !(request_line.starts_with("GET /socket.io/?") && request_line.contains("EIO=4")) {
        return Err(format!("not an Engine.IO v4 request: {request_line}").into());
    }
    let id = hub.next_id.get() + 1;
    hub.next_id.set(id);
    let peer = Rc::new(Peer {
        sid: format!("floor{id:015}"),
        stream,
        backlog: RefCell::default(),
        rooms: RefCell::default(),
        closed: Cell::new(false),
    });
    hub.join(&peer, &peer.sid);
    let mut session = Session {
        hub: hub.clone(),
        peer: peer.clone(),
        out: Vec::with_capacity(256),
    };
    session.reply(format_args!(
        "0{{\"sid\":\"{}\",\"upgrades\":[],\"pingInterval\":3600000,\"pingTimeout\":20000,\
         \"maxPayload\":{MAX_PAYLOAD}}}",
        peer.sid
    ));
    let result = read_loop(&mut session).await;
    peer.closed.set(true);
    hub.leave_all(&peer);
    result.map_err(|e| format!("{}: {e}", peer.sid).into())
}

fn main() -> Res<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|e| format!("PORT={p}: {e}"))?,
        Err(_) => 3000,
    };
    raise_nofile_limit(10_240)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        let hub = Rc::new(Hub::default());
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let hub = hub.clone();
            tokio::task::spawn_local(async move {
                if let Err(e) = serve(hub, stream).await {
                    eprintln!("{e}");
                }
            });
        }
    })
}
