//! One Socket.IO client connection over WebSocket, with its own framing: opening (TCP, HTTP
//! upgrade, Engine.IO open, Socket.IO CONNECT of `/`), reading packets (heartbeats answered on the
//! way), and sending events. Also the bounded-concurrency opening of many connections.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Instant;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::os::set_linger_zero;
use crate::rng::Rng;
use crate::sio::{self, Packet};
use crate::wsframe::{self, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use crate::{BoxError, Res};

/// Initial capacity of a connection's receive buffer (grown when a frame does not fit).
const READ_CAPACITY: usize = 32 * 1024;
/// Largest accepted HTTP upgrade response head.
const MAX_HEAD: usize = 8 * 1024;

/// A client connection to the main namespace `/`.
pub struct Conn {
    stream: TcpStream,
    /// Received bytes; those before `start` are consumed.
    buf: Vec<u8>,
    start: usize,
    /// Frames not yet written.
    out: Vec<u8>,
    /// Scratch space for the text of the next event.
    text: Vec<u8>,
    masks: Rng,
    read_at: Instant,
}

impl Conn {
    /// Connects and completes the WebSocket upgrade, the Engine.IO open and the Socket.IO
    /// CONNECT of `/`: returns once the server acknowledged the namespace connection.
    pub async fn open(addr: SocketAddr) -> Res<Conn> {
        Conn::open_from(addr, None).await
    }

    /// [`Conn::open`] from the source address `source` (any of 127.0.0.0/8 on loopback).
    pub async fn open_from(addr: SocketAddr, source: Option<IpAddr>) -> Res<Conn> {
        let stream = match source {
            Some(source) => {
                let socket = TcpSocket::new_v4()?;
                socket.bind(SocketAddr::new(source, 0))?;
                socket.connect(addr).await?
            }
            None => TcpStream::connect(addr).await?,
        };
        stream.set_nodelay(true)?;
        set_linger_zero(stream.as_raw_fd())?;
        let port = stream.local_addr()?.port();
        let mut conn = Conn {
            stream,
            buf: Vec::with_capacity(READ_CAPACITY),
            start: 0,
            out: Vec::with_capacity(256),
            text: Vec::with_capacity(256),
            masks: Rng::new(u64::from(port)),
            read_at: Instant::now(),
        };
        conn.out
            .extend_from_slice(wsframe::upgrade_request(&addr.to_string()).as_bytes());
        conn.flush().await?;
        loop {
            if let Some(p) = wsframe::find(&conn.buf, b"\r\n\r\n") {
                wsframe::check_upgrade_response(&conn.buf[..p])?;
                conn.start = p + 4;
                break;
            }
            if conn.buf.len() > MAX_HEAD {
                return Err("upgrade response head too large".into());
            }
            if conn.stream.read_buf(&mut conn.buf).await? == 0 {
                return Err("connection closed during the upgrade".into());
            }
        }
        match conn.next().await? {
            Packet::Open => {}
            other => {
                return Err(format!("expected the Engine.IO open packet, got {other:?}").into())
            }
        }
        conn.queue_text(b"40");
        conn.flush().await?;
        loop {
            match conn.next().await? {
                Packet::Connect => return Ok(conn),
                Packet::Noop => {}
                Packet::ConnectError(reason) => {
                    let reason = String::from_utf8_lossy(reason).into_owned();
                    return Err(format!("namespace connection refused: {reason}").into());
                }
                other => {
                    return Err(
                        format!("expected the Socket.IO CONNECT reply, got {other:?}").into(),
                    )
                }
            }
        }
    }

    /// When the read that delivered the last returned packet completed.
    pub fn read_at(&self) -> Instant {
        self.read_at
    }

    /// The next packet from the server. Engine.IO pings and WebSocket pings are answered here
    /// and not returned. Cancel-safe: a packet is consumed only when it is returned.
    pub async fn next(&mut self) -> Res<Packet<'_>> {
        loop {
            if let Some(f) = wsframe::parse_server_frame(&self.buf[self.start..])? {
                let (s, e) = (self.start + f.header, self.start + f.total());
                self.start = e;
                if !f.fin {
                    return Err("fragmented frames are not supported".into());
                }
                match f.opcode {
                    OP_TEXT => {
                        if self.buf[s..e] == *b"2" {
                            self.queue_text(b"3");
                            self.try_flush()?;
                            continue;
                        }
                        return Ok(sio::classify(&self.buf[s..e]));
                    }
                    OP_BINARY => return Ok(Packet::Other(&self.buf[s..e])),
                    OP_PING => {
                        let payload = self.buf[s..e].to_vec();
                        let mask = self.mask();
                        wsframe::put_client_frame(&mut self.out, OP_PONG, &payload, mask);
                        self.try_flush()?;
                        continue;
                    }
                    OP_PONG => continue,
                    OP_CLOSE => return Err("the server closed the WebSocket".into()),
                    op => return Err(format!("unexpected opcode {op:#x}").into()),
                }
            }
            if self.start == self.buf.len() {
                self.buf.clear();
            } else if self.start > 0 {
                self.buf.drain(..self.start);
            }
            self.start = 0;
            if self.buf.len() == self.buf.capacity() {
                self.buf.reserve(self.buf.capacity().max(READ_CAPACITY));
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err("the server closed the connection".into());
            }
            self.read_at = Instant::now();
        }
    }

    /// Waits for the acknowledgement `id`, dropping everything else; returns its arguments.
    pub async fn wait_ack(&mut self, id: u64) -> Res<Vec<u8>> {
        loop {
            if let Packet::Ack { id: got, args } = self.next().await? {
                if got == id {
                    return Ok(args.to_vec());
                }
            }
        }
    }

    fn mask(&mut self) -> [u8; 4] {
        (self.masks.next_u64() as u32).to_ne_bytes()
    }

    /// Queues one text frame.
    pub fn queue_text(&mut self, text: &[u8]) {
        let mask = self.mask();
        wsframe::put_client_frame(&mut self.out, OP_TEXT, text, mask);
    }

    /// Queues the event `name` (see [`sio::put_event`]).
    pub fn queue_event(&mut self, ack: Option<u64>, name: &str, args: std::fmt::Arguments) {
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        sio::put_event(&mut text, ack, name, args);
        self.queue_text(&text);
        self.text = text;
    }

    /// Writes every queued frame.
    pub async fn flush(&mut self) -> Res<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Writes what the socket takes now without waiting.
    fn try_flush(&mut self) -> Res<()> {
        while !self.out.is_empty() {
            match self.stream.try_write(&self.out) {
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Opens `n` connections, at most `concurrency` at a time.
pub async fn open_many(addr: SocketAddr, n: usize, concurrency: usize) -> Res<Vec<Conn>> {
    stream::iter(0..n)
        .map(|i| async move {
            Conn::open_from(addr, source_address(addr, i))
                .await
                .map_err(|e| -> BoxError { format!("connection {} of {n}: {e}", i + 1).into() })
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<Conn>>()
        .await
}

/// The source address of connection `i` to a loopback server: 127.h.0.l, a different one for
/// each of the first 62,500 connections, so that however many are opened (and however many
/// earlier runs left in TIME_WAIT), ephemeral ports never run out.
fn source_address(server: SocketAddr, i: usize) -> Option<IpAddr> {
    if !server.ip().is_loopback() || !server.is_ipv4() {
        return None;
    }
    let (high, low) = ((i / 250) % 250, i % 250);
    Some(IpAddr::V4(Ipv4Addr::new(
        127,
        1 + high as u8,
        0,
        1 + low as u8,
    )))
}

/// Makes connection `i` join the room `room(i)` and waits for every acknowledgement.
pub async fn join_rooms(conns: &mut [Conn], room: impl Fn(usize) -> String) -> Res<()> {
    const ID: u64 = 1_000_000_000;
    for (i, conn) in conns.iter_mut().enumerate() {
        conn.queue_event(Some(ID), "join", format_args!("\"{}\"", room(i)));
        conn.flush().await?;
    }
    for conn in conns.iter_mut() {
        conn.wait_ack(ID).await?;
    }
    Ok(())
}
