//! The adapters' API across processes, with two or three servers in this process on a real
//! `redis-server` (started here on a free port): what the probe contract does not reach —
//! server-side events with answers, the server count, room listings, what a remote socket
//! can do on the server that owns it — with the classic and the streams adapter; and a session
//! recovered on another server, packet by packet.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roomcast::adapter::ServerAck;
use roomcast::{RecoveryOptions, Room, Server, ServerOptions, Socket};
use roomcast_redis::RedisAdapter;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(5);

/// A redis-server on a free port, killed when dropped.
struct Redis {
    child: Child,
    url: String,
}

impl Redis {
    fn start() -> Redis {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test.sh installs it)");
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which adapter the servers of a test use.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Classic,
    Streams,
}

/// A server on `redis` (channels, and the stream, named after `key`), listening on a free port.
async fn server(redis: &Redis, key: &str, kind: Kind) -> (Server, u16) {
    serve(redis, key, kind, None).await
}

async fn serve(
    redis: &Redis,
    key: &str,
    kind: Kind,
    recovery: Option<RecoveryOptions>,
) -> (Server, u16) {
    let timeout = Duration::from_millis(500);
    let adapters = match kind {
        Kind::Classic => {
            RedisAdapter::builder(redis.url.as_str())
                .key(key)
                .requests_timeout(timeout)
                .connect()
                .await
        }
        Kind::Streams => {
            RedisAdapter::streams(redis.url.as_str())
                .stream_name(key)
                .channel_prefix(key)
                .requests_timeout(timeout)
                .connect()
                .await
        }
    }
    .expect("connected to Redis");
    let mut options = ServerOptions::default();
    options.adapter = adapters.factory();
    options.connection_state_recovery = recovery;
    let io = Server::with_options(options);
    io.ready().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let serving = io.clone();
    tokio::spawn(async move { serving.serve(listener).await });
    (io, port)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client connected to `/`: its socket id.
async fn client(port: u16) -> (Ws, String) {
    let mut ws = open(port).await;
    ws.send(Message::text("40")).await.expect("send");
    let reply = next_text(&mut ws).await;
    let json: serde_json::Value =
        serde_json::from_str(reply.strip_prefix("40").expect("CONNECT reply")).expect("json");
    (ws, json["sid"].as_str().expect("sid").to_owned())
}

/// An Engine.IO WebSocket session, opened.
async fn open(port: u16) -> Ws {
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    assert!(next_text(&mut ws).await.starts_with("0{"));
    ws
}

/// The next text packet, pings answered on the way.
async fn next_text(ws: &mut Ws) -> String {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a packet in time")
            .expect("open")
            .expect("frame");
        match message {
            Message::Text(text) if text.as_str() == "2" => {
                ws.send(Message::text("3")).await.expect("pong");
            }
            Message::Text(text) => return text.as_str().to_owned(),
            Message::Close(_) => return "<closed>".to_owned(),
            _ => {}
        }
    }
}

/// Polls `check` until it holds.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_events_are_answered_and_counted() {
    for kind in [Kind::Classic, Kind::Streams] {
        server_side_events(kind).await;
    }
}

async fn server_side_events(kind: Kind) {
    let redis = Redis::start();
    let (a, _) = server(&redis, "sse", kind).await;
    let (b, _) = server(&redis, "sse", kind).await;
    b.sockets()
        .on_server_event("next", |n: u32, ack: ServerAck| async move {
            ack.send(&(n + 1))
        });
    assert_eq!(
        a.sockets().adapter().server_count().await.expect("count"),
        2
    );
    let answers: Vec<u32> = a
        .sockets()
        .server_side_emit_with_ack("next", &41)
        .await
        .expect("answered");
    assert_eq!(answers, vec![42]);

    // A third server that does not answer: the request ends at the timeout with what came.
    let (_c, _) = server(&redis, "sse", kind).await;
    let partial = a
        .sockets()
        .server_side_emit_with_ack::<_, u32>("next", &1)
        .await
        .expect_err("one server does not answer");
    assert_eq!(partial.responses, vec![2]);
    assert!(
        partial
            .error
            .to_string()
            .contains("1 of 2 servers answered"),
        "{}",
        partial.error
    );
    // Node refuses these names for server-side events; so does roomcast.
    assert!(a.server_side_emit("connection", &()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_socket_is_acted_on_by_the_server_that_owns_it() {
    for kind in [Kind::Classic, Kind::Streams] {
        remote_socket(kind).await;
    }
}

async fn remote_socket(kind: Kind) {
    let redis = Redis::start();
    let (a, _) = server(&redis, "remote", kind).await;
    let (b, b_port) = server(&redis, "remote", kind).await;
    let (mut ws, id) = client(b_port).await;

    let found = a.fetch_sockets().await.expect("fetched");
    let remote = found
        .iter()
        .find(|s| s.id() == id)
        .expect("the socket of b");
    assert!(remote.rooms().iter().any(|room| room.as_str() == id));
    assert_eq!(
        remote
            .handshake()
            .query()
            .get("transport")
            .map(String::as_str),
        Some("websocket")
    );

    remote.join("club").await.expect("join");
    let owner = b.sockets();
    let sid = owner.sockets().first().map(Socket::id).expect("b's socket");
    eventually("the socket to join club on b", async || {
        owner
            .get_socket(sid)
            .is_some_and(|s| s.rooms().contains(&Room::new("club").expect("a room name")))
    })
    .await;
    let rooms = a.sockets().all_rooms().await.expect("all rooms");
    assert!(
        rooms.contains(&Room::new("club").expect("a room name")),
        "{rooms:?}"
    );

    remote.emit("hello", &"from a").await.expect("emit");
    assert_eq!(next_text(&mut ws).await, r#"42["hello","from a"]"#);

    remote.leave("club").await.expect("leave");
    eventually("the socket to leave club on b", async || {
        owner
            .get_socket(sid)
            .is_some_and(|s| !s.rooms().contains(&Room::new("club").expect("a room name")))
    })
    .await;

    remote.disconnect(false).await.expect("disconnect");
    assert_eq!(next_text(&mut ws).await, "41");
    eventually("b to forget the socket", async || owner.socket_count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_dropped_on_one_server_is_recovered_on_another() {
    let redis = Redis::start();
    let recovery = Some(RecoveryOptions::default());
    let (a, a_port) = serve(&redis, "csr", Kind::Streams, recovery.clone()).await;
    let (b, b_port) = serve(&redis, "csr", Kind::Streams, recovery).await;

    let mut ws = open(a_port).await;
    ws.send(Message::text("40")).await.expect("send");
    let reply: serde_json::Value = serde_json::from_str(
        next_text(&mut ws)
            .await
            .strip_prefix("40")
            .expect("CONNECT reply"),
    )
    .expect("json");
    let (sid, pid) = (
        reply["sid"].as_str().expect("sid"),
        reply["pid"].as_str().expect("pid"),
    );
    a.sockets()
        .get_socket(roomcast::Sid::parse(sid).expect("a socket id"))
        .expect("the socket on a")
        .join("room")
        .await
        .expect("join");
    a.to("room").emit("news", &1).await.expect("emit");
    let first = next_text(&mut ws).await;
    let offset = first
        .strip_prefix(r#"42["news",1,""#)
        .and_then(|rest| rest.strip_suffix(r#""]"#))
        .expect("an offset last")
        .to_owned();
    drop(ws);
    eventually("a to see the socket go", async || {
        a.sockets().socket_count() == 0
    })
    .await;

    b.to("room").emit("news", &2).await.expect("emit");
    b.to("elsewhere").emit("news", &3).await.expect("emit");
    b.emit("news", &4).await.expect("emit");
    let mut ws = open(b_port).await;
    ws.send(Message::text(format!(
        r#"40{{"pid":"{pid}","offset":"{offset}"}}"#
    )))
    .await
    .expect("send");
    let mut got = Vec::new();
    loop {
        let text = next_text(&mut ws).await;
        let connected = text.starts_with("40");
        got.push(text);
        if connected {
            break;
        }
    }
    // What it missed, with offsets, before the CONNECT reply, as Node writes them.
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[0].starts_with(r#"42["news",2,""#), "{got:?}");
    assert!(got[1].starts_with(r#"42["news",4,""#), "{got:?}");
    assert_eq!(got[2], format!(r#"40{{"sid":"{sid}","pid":"{pid}"}}"#));
    // The session was taken: presenting it again gives a fresh socket.
    let mut again = open(b_port).await;
    again
        .send(Message::text(format!(
            r#"40{{"pid":"{pid}","offset":"{offset}"}}"#
        )))
        .await
        .expect("send");
    let reply = next_text(&mut again).await;
    assert!(reply.starts_with("40") && !reply.contains(sid), "{reply}");
}
