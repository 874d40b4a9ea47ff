//! Server-side WebSocket push throughput: frames per second delivered and server CPU per frame
//! when one core pushes the same small text frame to many connections.
//!
//! Each run starts two pinned threads in this process:
//! - the server thread (one current-thread tokio runtime, default core 0) accepts the connections,
//!   answers the HTTP 101 handshake with the same hand-written code for every implementation, then
//!   gives each connection a writer task fed by an unbounded queue of shared buffers. The
//!   broadcaster pushes one clone of the same buffer per recipient per message; the writer task
//!   drains its queue and writes frames with the implementation under test.
//! - the client thread (one current-thread tokio runtime, default core 1) opens the connections,
//!   and reads them with a minimal parser for unmasked server frames, counting and checking frames
//!   until every connection has received every message.
//!
//! Frames/s is (connections x messages) / (time from the first enqueue to the last frame
//! received). Server CPU is the server thread's user+system time (CLOCK_THREAD_CPUTIME_ID) over
//! the same interval; write syscalls are the successful write/writev calls on the sockets.
//!
//! After each socket run, the same broadcaster and writers run over in-memory null sinks to
//! measure the user-space cost per frame alone. A run during which other processes used a
//! noticeable amount of CPU (read from /proc/stat) is measured again.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::SinkExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc as tmpsc, oneshot, Notify};
use tokio_tungstenite::tungstenite::protocol::{Role as TungRole, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use roomcast_bench::load::{foreign_allowance, MachineCpu};
use roomcast_bench::os::{pin_to_cpu, process_cpu, raise_nofile_limit, thread_cpu};
use roomcast_bench::stats::summary;
use roomcast_bench::wsframe::{
    check_upgrade_response, find, parse_server_frame, upgrade_request, OP_TEXT,
};
use roomcast_bench::wsserver::{put_header, server_handshake};
use roomcast_bench::Res;

/// Upper bound on the frames a writer takes from its queue at once.
const DRAIN_LIMIT: usize = 1024;
/// Client read buffer per connection.
const CLIENT_BUF: usize = 64 * 1024;
/// Capacity of the BufWriter placed under fastwebsockets in the buffered variant.
const BUFWRITER_CAP: usize = 64 * 1024;

/// Successful write/writev syscalls made on server sockets during the measured interval.
static WRITES: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    /// tokio-tungstenite, `SinkExt::send` per frame (feed + flush: one write per frame).
    TungSend,
    /// tokio-tungstenite, `feed` every drained frame then one `flush`.
    TungFeed,
    /// fastwebsockets `write_frame` straight on the TcpStream (one write per frame).
    Fws,
    /// fastwebsockets `write_frame` on a 64 KiB `BufWriter<TcpStream>`, one `flush` per drain.
    FwsBuf,
    /// Hand-written framing: every drained frame encoded into one reused Vec, one `write_all`.
    Raw,
}

impl Impl {
    const ALL: [Impl; 5] = [
        Impl::TungSend,
        Impl::TungFeed,
        Impl::Fws,
        Impl::FwsBuf,
        Impl::Raw,
    ];

    fn name(self) -> &'static str {
        match self {
            Impl::TungSend => "tungstenite-send",
            Impl::TungFeed => "tungstenite-feed",
            Impl::Fws => "fastwebsockets",
            Impl::FwsBuf => "fastwebsockets-bufwriter",
            Impl::Raw => "raw",
        }
    }

    /// Accepts a variant name, a crate name (all its variants) or `all`.
    fn parse_list(s: &str) -> Option<Vec<Impl>> {
        let mut out = Vec::new();
        for part in s.split(',') {
            match part {
                "all" => out.extend(Impl::ALL),
                "tungstenite" => out.extend([Impl::TungSend, Impl::TungFeed]),
                "fastwebsockets" => out.extend([Impl::Fws, Impl::FwsBuf]),
                "fastwebsockets-direct" => out.push(Impl::Fws),
                other => out.push(*Impl::ALL.iter().find(|i| i.name() == other)?),
            }
        }
        let mut unique = Vec::with_capacity(out.len());
        for variant in out {
            if !unique.contains(&variant) {
                unique.push(variant);
            }
        }
        Some(unique)
    }
}

#[derive(Clone, Debug)]
struct Opts {
    impls: Vec<Impl>,
    conns: usize,
    msgs: usize,
    size: usize,
    /// Messages pushed to every connection before the broadcaster waits for the writers to
    /// have written them all; equal to `msgs` for one single burst.
    burst: usize,
    rounds: usize,
    timeout: Duration,
    server_cpu: usize,
    client_cpu: usize,
    /// Attempts per measurement while other processes use the CPU during it.
    retries: usize,
}

const USAGE: &str = "usage: ws-crates [--impl all|tungstenite|fastwebsockets|raw|<variant>[,...]] \
[--conns 1000] [--msgs 200] [--size 100] [--burst MSGS] [--rounds 3] [--timeout-secs 60] \
[--server-cpu 0] [--client-cpu 1] [--retries 30]
variants: tungstenite-send tungstenite-feed fastwebsockets-direct fastwebsockets-bufwriter raw
(`fastwebsockets` alone names the crate: both of its variants)";

fn parse_args() -> Res<Opts> {
    let mut opts = Opts {
        impls: Impl::ALL.to_vec(),
        conns: 1000,
        msgs: 200,
        size: 100,
        burst: 0,
        rounds: 3,
        timeout: Duration::from_secs(60),
        server_cpu: 0,
        client_cpu: 1,
        retries: 30,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("missing value for {flag}\n{USAGE}"))?;
        let num = || -> Res<usize> {
            value
                .parse::<usize>()
                .map_err(|e| format!("bad value for {flag}: {e}").into())
        };
        match flag.as_str() {
            "--impl" => {
                opts.impls = Impl::parse_list(&value)
                    .ok_or_else(|| format!("unknown implementation in {value}\n{USAGE}"))?
            }
            "--conns" => opts.conns = num()?,
            "--msgs" => opts.msgs = num()?,
            "--size" => opts.size = num()?,
            "--burst" => opts.burst = num()?,
            "--rounds" => opts.rounds = num()?,
            "--timeout-secs" => opts.timeout = Duration::from_secs(num()? as u64),
            "--server-cpu" => opts.server_cpu = num()?,
            "--client-cpu" => opts.client_cpu = num()?,
            "--retries" => opts.retries = num()?.max(1),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}").into()),
        }
    }
    if opts.conns == 0 || opts.msgs == 0 || opts.rounds == 0 {
        return Err("--conns, --msgs and --rounds must be positive".into());
    }
    if opts.burst == 0 || opts.burst > opts.msgs {
        opts.burst = opts.msgs;
    }
    Ok(opts)
}

/// The pushed text: a Socket.IO event packet `42["msg",0,"xxx..."]` of exactly `size` bytes.
fn make_payload(size: usize) -> Res<Bytes> {
    let prefix = br#"42["msg",0,""#;
    let suffix = br#""]"#;
    let min = prefix.len() + suffix.len();
    if size < min || size > 65535 {
        return Err(format!("--size must be between {min} and 65535").into());
    }
    let mut v = Vec::with_capacity(size);
    v.extend_from_slice(prefix);
    v.resize(size - suffix.len(), b'x');
    v.extend_from_slice(suffix);
    Ok(Bytes::from(v))
}

// ---------------------------------------------------------------------------------------------
// OS helpers

/// User plus system CPU time consumed so far by the calling thread ([`thread_cpu`]).
#[derive(Clone, Copy, Default, Debug)]
struct Cpu(Duration);

impl Cpu {
    fn now() -> Cpu {
        Cpu(thread_cpu())
    }

    fn since(self, start: Cpu) -> Cpu {
        Cpu(self.0.saturating_sub(start.0))
    }

    fn total(self) -> Duration {
        self.0
    }
}

// ---------------------------------------------------------------------------------------------
// Server

/// A server stream that counts its successful write calls (write/writev syscalls on a socket).
struct CountingStream<S>(S);

impl<S: AsyncRead + Unpin> AsyncRead for CountingStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CountingStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.0).poll_write(cx, buf);
        if let Poll::Ready(Ok(_)) = r {
            WRITES.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.0).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(_)) = r {
            WRITES.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Count of queued frames not yet written, with a wake-up for the broadcaster when it reaches 0.
struct Pending {
    frames: AtomicUsize,
    drained: Notify,
}

impl Pending {
    fn written(&self, n: usize) {
        if self.frames.fetch_sub(n, Ordering::AcqRel) == n {
            self.drained.notify_one();
        }
    }
}

async fn writer_raw<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: CountingStream<S>,
    mut rx: tmpsc::UnboundedReceiver<Bytes>,
    pending: Arc<Pending>,
) -> Res<()> {
    let mut batch = Vec::with_capacity(DRAIN_LIMIT);
    // Reused across drains: after warm-up no allocation per batch.
    let mut out: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        let n = rx.recv_many(&mut batch, DRAIN_LIMIT).await;
        if n == 0 {
            return Ok(());
        }
        out.clear();
        for p in batch.drain(..) {
            put_header(&mut out, OP_TEXT, p.len());
            out.extend_from_slice(&p);
        }
        stream.write_all(&out).await?;
        pending.written(n);
    }
}

async fn writer_tung_send<S: AsyncRead + AsyncWrite + Unpin>(
    stream: CountingStream<S>,
    mut rx: tmpsc::UnboundedReceiver<Utf8Bytes>,
    pending: Arc<Pending>,
) -> Res<()> {
    let mut ws = WebSocketStream::from_raw_socket(
        stream,
        TungRole::Server,
        Some(WebSocketConfig::default()),
    )
    .await;
    let mut batch = Vec::with_capacity(DRAIN_LIMIT);
    loop {
        let n = rx.recv_many(&mut batch, DRAIN_LIMIT).await;
        if n == 0 {
            return Ok(());
        }
        for p in batch.drain(..) {
            ws.send(Message::Text(p)).await?;
        }
        pending.written(n);
    }
}

async fn writer_tung_feed<S: AsyncRead + AsyncWrite + Unpin>(
    stream: CountingStream<S>,
    mut rx: tmpsc::UnboundedReceiver<Utf8Bytes>,
    pending: Arc<Pending>,
) -> Res<()> {
    let mut ws = WebSocketStream::from_raw_socket(
        stream,
        TungRole::Server,
        Some(WebSocketConfig::default()),
    )
    .await;
    let mut batch = Vec::with_capacity(DRAIN_LIMIT);
    loop {
        let n = rx.recv_many(&mut batch, DRAIN_LIMIT).await;
        if n == 0 {
            return Ok(());
        }
        for p in batch.drain(..) {
            ws.feed(Message::Text(p)).await?;
        }
        ws.flush().await?;
        pending.written(n);
    }
}

async fn writer_fws<S: AsyncRead + AsyncWrite + Unpin>(
    stream: CountingStream<S>,
    mut rx: tmpsc::UnboundedReceiver<Bytes>,
    pending: Arc<Pending>,
) -> Res<()> {
    let mut ws = fastwebsockets::WebSocket::after_handshake(stream, fastwebsockets::Role::Server);
    let mut batch = Vec::with_capacity(DRAIN_LIMIT);
    loop {
        let n = rx.recv_many(&mut batch, DRAIN_LIMIT).await;
        if n == 0 {
            return Ok(());
        }
        for p in batch.drain(..) {
            let frame = fastwebsockets::Frame::text(fastwebsockets::Payload::Borrowed(&p));
            ws.write_frame(frame).await?;
        }
        pending.written(n);
    }
}

async fn writer_fws_buf<S: AsyncRead + AsyncWrite + Unpin>(
    stream: CountingStream<S>,
    mut rx: tmpsc::UnboundedReceiver<Bytes>,
    pending: Arc<Pending>,
) -> Res<()> {
    let buffered = BufWriter::with_capacity(BUFWRITER_CAP, stream);
    let mut ws = fastwebsockets::WebSocket::after_handshake(buffered, fastwebsockets::Role::Server);
    let mut batch = Vec::with_capacity(DRAIN_LIMIT);
    loop {
        let n = rx.recv_many(&mut batch, DRAIN_LIMIT).await;
        if n == 0 {
            return Ok(());
        }
        for p in batch.drain(..) {
            let frame = fastwebsockets::Frame::text(fastwebsockets::Payload::Borrowed(&p));
            ws.write_frame(frame).await?;
        }
        ws.flush().await?;
        pending.written(n);
    }
}

/// Measured figures of the server side of one run.
struct ServerStats {
    start: Instant,
    cpu: Cpu,
    writes: u64,
}

/// Cross-thread messages to the coordinating main thread.
enum Event {
    ServerAddr(SocketAddr),
    ServerReady,
    ClientReady,
    ServerDone(ServerStats),
    ClientDone { end: Instant, cpu: Cpu },
    Failed(String),
}

/// Channels the server side uses during a run.
struct ServerCtl {
    events: mpsc::Sender<Event>,
    go: oneshot::Receiver<()>,
    /// Fires when the client has received every frame; `None` ends the measured interval when
    /// the writers have written every frame (null-sink runs).
    client_done: Option<oneshot::Receiver<()>>,
}

/// A stream that accepts every write at once and never yields data: isolates the user-space
/// cost of a writer from the kernel's.
struct NullStream;

impl AsyncRead for NullStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Pending
    }
}

impl AsyncWrite for NullStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(std::hint::black_box(buf).len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(std::hint::black_box(bufs).iter().map(|b| b.len()).sum()))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Spawns one writer per stream, then on `go` pushes `item` `msgs` times to every queue, in
/// bursts of `burst` messages.
async fn broadcast<S, T, W, Fut>(
    streams: Vec<S>,
    item: T,
    writer: W,
    msgs: usize,
    burst: usize,
    ctl: ServerCtl,
) -> Res<()>
where
    T: Clone + Send + 'static,
    W: Fn(CountingStream<S>, tmpsc::UnboundedReceiver<T>, Arc<Pending>) -> Fut,
    Fut: Future<Output = Res<()>> + Send + 'static,
{
    let pending = Arc::new(Pending {
        frames: AtomicUsize::new(0),
        drained: Notify::new(),
    });
    let mut senders = Vec::with_capacity(streams.len());
    for (i, s) in streams.into_iter().enumerate() {
        let (tx, rx) = tmpsc::unbounded_channel::<T>();
        let fut = writer(CountingStream(s), rx, pending.clone());
        let events = ctl.events.clone();
        tokio::spawn(async move {
            if let Err(e) = fut.await {
                let _ = events.send(Event::Failed(format!("server writer {i}: {e}")));
            }
        });
        senders.push(tx);
    }
    // Let every writer reach its empty queue before the measured interval.
    tokio::task::yield_now().await;
    ctl.events.send(Event::ServerReady)?;
    ctl.go.await?;

    WRITES.store(0, Ordering::Relaxed);
    let start = Instant::now();
    let cpu0 = Cpu::now();
    let mut sent = 0;
    while sent < msgs {
        let k = burst.min(msgs - sent);
        pending
            .frames
            .fetch_add(k * senders.len(), Ordering::AcqRel);
        for _ in 0..k {
            for tx in &senders {
                tx.send(item.clone())
                    .map_err(|_| "a writer task ended early")?;
            }
        }
        sent += k;
        if sent < msgs || ctl.client_done.is_none() {
            // The next burst starts once every queued frame has been written.
            while pending.frames.load(Ordering::Acquire) != 0 {
                pending.drained.notified().await;
            }
        }
    }
    if let Some(done) = ctl.client_done {
        done.await?;
    }
    let cpu = Cpu::now().since(cpu0);
    let writes = WRITES.load(Ordering::Relaxed);
    ctl.events
        .send(Event::ServerDone(ServerStats { start, cpu, writes }))?;
    Ok(())
}

/// Runs the writers of `kind` over `streams`.
async fn serve<S>(
    kind: Impl,
    streams: Vec<S>,
    payload: Bytes,
    msgs: usize,
    burst: usize,
    ctl: ServerCtl,
) -> Res<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // tungstenite takes text as `Utf8Bytes`: validated once here, then cloned per recipient
    // like the `Bytes` given to the other implementations.
    let text = Utf8Bytes::try_from(payload.clone())?;
    match kind {
        Impl::TungSend => broadcast(streams, text, writer_tung_send, msgs, burst, ctl).await,
        Impl::TungFeed => broadcast(streams, text, writer_tung_feed, msgs, burst, ctl).await,
        Impl::Fws => broadcast(streams, payload, writer_fws, msgs, burst, ctl).await,
        Impl::FwsBuf => broadcast(streams, payload, writer_fws_buf, msgs, burst, ctl).await,
        Impl::Raw => broadcast(streams, payload, writer_raw, msgs, burst, ctl).await,
    }
}

async fn server_main(kind: Impl, opts: Opts, payload: Bytes, ctl: ServerCtl) -> Res<()> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind("127.0.0.1:0".parse()?)?;
    let listener = socket.listen(4096)?;
    ctl.events.send(Event::ServerAddr(listener.local_addr()?))?;
    let mut streams = Vec::with_capacity(opts.conns);
    while streams.len() < opts.conns {
        let (mut s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        server_handshake(&mut s).await?;
        streams.push(s);
    }
    drop(listener);
    serve(kind, streams, payload, opts.msgs, opts.burst, ctl).await
}

// ---------------------------------------------------------------------------------------------
// Client

/// Parses the header of one complete unmasked, final text frame at the start of `buf`.
/// Returns (header length, payload length), or None when the frame is not complete yet.
fn parse_frame(buf: &[u8]) -> Result<Option<(usize, usize)>, String> {
    match parse_server_frame(buf)? {
        Some(frame) if !(frame.fin && frame.opcode == OP_TEXT) => Err(format!(
            "unexpected frame: fin {}, opcode {:#x}",
            frame.fin, frame.opcode
        )),
        frame => Ok(frame.map(|frame| (frame.header, frame.len))),
    }
}

/// Reads the 101 response; returns bytes received after it.
async fn client_response(stream: &mut TcpStream) -> Res<Vec<u8>> {
    let mut resp = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("connection closed during handshake".into());
        }
        resp.extend_from_slice(&chunk[..n]);
        if let Some(p) = find(&resp, b"\r\n\r\n") {
            check_upgrade_response(&resp[..p])?;
            return Ok(resp.split_off(p + 4));
        }
        if resp.len() > 8192 {
            return Err("handshake response too large".into());
        }
    }
}

/// Reads frames until `msgs` frames equal to `expected` have arrived.
async fn client_read(
    mut stream: TcpStream,
    leftover: Vec<u8>,
    expected: Bytes,
    msgs: usize,
) -> Res<()> {
    let mut buf = vec![0u8; CLIENT_BUF];
    buf[..leftover.len()].copy_from_slice(&leftover);
    let mut filled = leftover.len();
    let mut got = 0;
    loop {
        let mut pos = 0;
        while let Some((hlen, plen)) = parse_frame(&buf[pos..filled])? {
            let payload = &buf[pos + hlen..pos + hlen + plen];
            if payload != &expected[..] {
                return Err(format!("frame {got} has unexpected payload").into());
            }
            pos += hlen + plen;
            got += 1;
        }
        buf.copy_within(pos..filled, 0);
        filled -= pos;
        if got >= msgs {
            if got > msgs || filled != 0 {
                return Err("more data than expected".into());
            }
            return Ok(());
        }
        if filled == buf.len() {
            return Err("frame larger than the client buffer".into());
        }
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Err(format!("connection closed after {got} of {msgs} frames").into());
        }
        filled += n;
    }
}

async fn client_main(
    addr: SocketAddr,
    opts: Opts,
    payload: Bytes,
    events: mpsc::Sender<Event>,
    server_done: oneshot::Sender<()>,
) -> Res<()> {
    let mut streams = Vec::with_capacity(opts.conns);
    for _ in 0..opts.conns {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(upgrade_request("127.0.0.1").as_bytes()).await?;
        streams.push(s);
    }
    let remaining = Arc::new(AtomicUsize::new(opts.conns));
    let all_done = Arc::new(Notify::new());
    for (i, mut s) in streams.into_iter().enumerate() {
        let leftover = client_response(&mut s).await?;
        let expected = payload.clone();
        let remaining = remaining.clone();
        let all_done = all_done.clone();
        let events = events.clone();
        let msgs = opts.msgs;
        tokio::spawn(async move {
            match client_read(s, leftover, expected, msgs).await {
                Ok(()) => {
                    if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                        all_done.notify_one();
                    }
                }
                Err(e) => {
                    let _ = events.send(Event::Failed(format!("client connection {i}: {e}")));
                }
            }
        });
    }
    let cpu0 = Cpu::now();
    events.send(Event::ClientReady)?;
    while remaining.load(Ordering::Acquire) != 0 {
        all_done.notified().await;
    }
    let end = Instant::now();
    let cpu = Cpu::now().since(cpu0);
    let _ = server_done.send(());
    events.send(Event::ClientDone { end, cpu })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Coordination

/// Runs `f` on a new thread pinned to `cpu` inside a current-thread runtime; errors become
/// `Event::Failed`.
fn spawn_pinned<F, Fut>(
    name: &str,
    cpu: usize,
    events: mpsc::Sender<Event>,
    f: F,
) -> io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Res<()>>,
{
    let label = name.to_string();
    std::thread::Builder::new()
        .name(label.clone())
        .spawn(move || {
            let res = (|| -> Res<()> {
                pin_to_cpu(cpu)?;
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(f())
            })();
            if let Err(e) = res {
                let _ = events.send(Event::Failed(format!("{label}: {e}")));
            }
        })
}

/// Figures of one run.
#[derive(Clone, Copy, Debug)]
struct RunResult {
    kind: Impl,
    frames: u64,
    wall: Duration,
    server: Cpu,
    client: Cpu,
    writes: u64,
    /// Server CPU ns per frame of the same writers over null sinks.
    null_ns_per_frame: f64,
}

impl RunResult {
    fn frames_per_sec(&self) -> f64 {
        self.frames as f64 / self.wall.as_secs_f64()
    }
    fn server_ns_per_frame(&self) -> f64 {
        self.server.total().as_nanos() as f64 / self.frames as f64
    }
    fn writes_per_frame(&self) -> f64 {
        self.writes as f64 / self.frames as f64
    }
    fn server_busy(&self) -> f64 {
        self.server.total().as_secs_f64() / self.wall.as_secs_f64()
    }
    fn client_busy(&self) -> f64 {
        self.client.total().as_secs_f64() / self.wall.as_secs_f64()
    }
}

fn run_once(kind: Impl, opts: &Opts, payload: &Bytes) -> Res<RunResult> {
    let deadline = Instant::now() + opts.timeout;
    let (events_tx, events) = mpsc::channel::<Event>();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel::<()>();

    let server = {
        let ctl = ServerCtl {
            events: events_tx.clone(),
            go: go_rx,
            client_done: Some(done_rx),
        };
        let (opts, payload) = (opts.clone(), payload.clone());
        spawn_pinned("server", opts.server_cpu, events_tx.clone(), move || {
            server_main(kind, opts, payload, ctl)
        })?
    };

    let recv = |what: &str| -> Res<Event> {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Event::Failed(msg)) => Err(msg.into()),
            Ok(ev) => Ok(ev),
            Err(_) => Err(format!(
                "{}: timed out after {:?} waiting for {what}",
                kind.name(),
                opts.timeout
            )
            .into()),
        }
    };

    let addr = match recv("the server address")? {
        Event::ServerAddr(a) => a,
        _ => return Err("unexpected event order".into()),
    };
    let client = {
        let (opts, payload, ev) = (opts.clone(), payload.clone(), events_tx.clone());
        spawn_pinned("client", opts.client_cpu, events_tx.clone(), move || {
            client_main(addr, opts, payload, ev, done_tx)
        })?
    };
    drop(events_tx);

    let (mut server_ready, mut client_ready) = (false, false);
    while !(server_ready && client_ready) {
        match recv("connections and handshakes")? {
            Event::ServerReady => server_ready = true,
            Event::ClientReady => client_ready = true,
            _ => return Err("unexpected event order".into()),
        }
    }
    go_tx.send(()).map_err(|_| "server thread ended early")?;

    let (mut server_stats, mut client_stats) = (None, None);
    while server_stats.is_none() || client_stats.is_none() {
        match recv("all frames to arrive")? {
            Event::ServerDone(s) => server_stats = Some(s),
            Event::ClientDone { end, cpu } => client_stats = Some((end, cpu)),
            _ => return Err("unexpected event order".into()),
        }
    }
    let (Some(s), Some((end, client_cpu))) = (server_stats, client_stats) else {
        return Err("missing result".into());
    };
    server.join().map_err(|_| "server thread panicked")?;
    client.join().map_err(|_| "client thread panicked")?;
    Ok(RunResult {
        kind,
        frames: (opts.conns * opts.msgs) as u64,
        wall: end.saturating_duration_since(s.start),
        server: s.cpu,
        client: client_cpu,
        writes: s.writes,
        null_ns_per_frame: f64::NAN,
    })
}

/// Bursts pushed in a null-sink run, so that it lasts long enough to time.
const NULL_REPS: usize = 10;

/// Server CPU per frame of `kind` writing into `NullStream`s instead of sockets: the
/// user-space part of the server cost (queueing, framing, buffering), with no syscall.
/// Returns (ns per frame, write calls per frame).
fn run_null(kind: Impl, opts: &Opts, payload: &Bytes) -> Res<(f64, f64)> {
    let (events_tx, events) = mpsc::channel::<Event>();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    go_tx.send(()).map_err(|_| "go channel closed")?;
    let ctl = ServerCtl {
        events: events_tx.clone(),
        go: go_rx,
        client_done: None,
    };
    let (conns, msgs, burst) = (opts.conns, opts.msgs * NULL_REPS, opts.burst);
    let payload = payload.clone();
    let server = spawn_pinned("null-server", opts.server_cpu, events_tx, move || {
        let streams: Vec<NullStream> = (0..conns).map(|_| NullStream).collect();
        serve(kind, streams, payload, msgs, burst, ctl)
    })?;
    let deadline = Instant::now() + opts.timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Event::ServerDone(s)) => {
                server.join().map_err(|_| "null-sink thread panicked")?;
                let frames = (conns * msgs) as f64;
                return Ok((
                    s.cpu.total().as_nanos() as f64 / frames,
                    s.writes as f64 / frames,
                ));
            }
            Ok(Event::Failed(msg)) => return Err(msg.into()),
            Ok(_) => {}
            Err(_) => return Err(format!("{}: null-sink run timed out", kind.name()).into()),
        }
    }
}

fn print_table(opts: &Opts, results: &[RunResult]) {
    println!();
    println!(
        "conns={} msgs={} size={} burst={} rounds={} (median, min-max in brackets)",
        opts.conns, opts.msgs, opts.size, opts.burst, opts.rounds
    );
    println!();
    println!(
        "| implementation | frames/s | server CPU ns/frame | user-space ns/frame (null sink) | write syscalls/frame | server CPU busy | client CPU busy |"
    );
    println!("|---|---|---|---|---|---|---|");
    for kind in &opts.impls {
        let rs: Vec<&RunResult> = results.iter().filter(|r| r.kind == *kind).collect();
        if rs.is_empty() {
            continue;
        }
        let col = |f: &dyn Fn(&RunResult) -> f64| {
            let values: Vec<f64> = rs.iter().map(|r| f(r)).collect();
            summary(&values).map_or((f64::NAN, f64::NAN, f64::NAN), |s| (s.median, s.min, s.max))
        };
        let (fps, fps_lo, fps_hi) = col(&|r| r.frames_per_sec());
        let (ns, ns_lo, ns_hi) = col(&|r| r.server_ns_per_frame());
        let (null, null_lo, null_hi) = col(&|r| r.null_ns_per_frame);
        let (w, _, _) = col(&|r| r.writes_per_frame());
        let (sb, _, _) = col(&|r| r.server_busy());
        let (cb, _, _) = col(&|r| r.client_busy());
        println!(
            "| {} | {:.2} M ({:.2}–{:.2}) | {:.0} ({:.0}–{:.0}) | {:.0} ({:.0}–{:.0}) | {:.3} | {:.0}% | {:.0}% |",
            kind.name(),
            fps / 1e6,
            fps_lo / 1e6,
            fps_hi / 1e6,
            ns,
            ns_lo,
            ns_hi,
            null,
            null_lo,
            null_hi,
            w,
            sb * 100.0,
            cb * 100.0
        );
    }
}

fn main() -> Res<()> {
    let opts = parse_args()?;
    let payload = make_payload(opts.size)?;
    raise_nofile_limit(2 * opts.conns as u64 + 64)?;
    // The coordinating thread shares the client's core so that the server core only runs the
    // server thread.
    pin_to_cpu(opts.client_cpu)?;

    let mut results = Vec::new();
    for round in 0..opts.rounds {
        // Rotate the order each round so no implementation always runs first.
        let n = opts.impls.len();
        for j in 0..n {
            let kind = opts.impls[(round + j) % n];
            let mut attempt = 0;
            let run = loop {
                attempt += 1;
                let (machine0, own0, t0) = (MachineCpu::now()?, process_cpu(), Instant::now());
                let run = run_once(kind, &opts, &payload).and_then(|mut r| {
                    let (ns, writes) = run_null(kind, &opts, &payload)?;
                    if (writes - r.writes_per_frame()).abs() > 0.01 {
                        return Err(format!(
                            "{}: null-sink writes/frame {writes:.3} differ from the socket run",
                            kind.name()
                        )
                        .into());
                    }
                    r.null_ns_per_frame = ns;
                    Ok(r)
                });
                let machine = MachineCpu::now()?.since(machine0);
                let foreign = machine.saturating_sub(process_cpu().saturating_sub(own0));
                let allowed = foreign_allowance(t0.elapsed());
                if run.is_err() || foreign <= allowed {
                    break run;
                }
                if attempt >= opts.retries {
                    eprintln!(
                        "warning: {} measured with {:.0} ms of CPU used by other processes",
                        kind.name(),
                        foreign.as_secs_f64() * 1e3
                    );
                    break run;
                }
                eprintln!(
                    "other processes used {:.0} ms of CPU during the {} run; measuring again",
                    foreign.as_secs_f64() * 1e3,
                    kind.name()
                );
                std::thread::sleep(Duration::from_secs(2));
            };
            match run {
                Ok(r) => {
                    println!(
                        "round {} {:<25} {:>7.3} Mframes/s  wall {:>8.2} ms  server cpu {:>8.2} ms  \
                         {:>5.0} ns/frame  writes/frame {:.3}  client cpu {:>8.2} ms  null-sink {:>4.0} ns/frame",
                        round + 1,
                        kind.name(),
                        r.frames_per_sec() / 1e6,
                        r.wall.as_secs_f64() * 1e3,
                        r.server.total().as_secs_f64() * 1e3,
                        r.server_ns_per_frame(),
                        r.writes_per_frame(),
                        r.client.total().as_secs_f64() * 1e3,
                        r.null_ns_per_frame,
                    );
                    results.push(r);
                }
                Err(e) => {
                    eprintln!("FAILED: {e}");
                    std::process::exit(1);
                }
            }
            // Let the closed sockets of the previous run wind down.
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    print_table(&opts, &results);
    Ok(())
}
