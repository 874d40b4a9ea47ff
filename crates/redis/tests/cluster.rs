//! The adapter's API across processes, with two or three servers in this process on a real
//! `redis-server` (started here on a free port): what the probe contract does not reach —
//! server-side events with answers, the server count, room listings, and what a remote socket
//! can do on the server that owns it.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roomcast::adapter::ServerAck;
use roomcast::{Room, Server, ServerOptions, Socket};
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

/// A server on `redis` (channels prefixed with `key`), listening on a free port.
async fn server(redis: &Redis, key: &str) -> (Server, u16) {
    let adapters = RedisAdapter::builder(redis.url.as_str())
        .key(key)
        .requests_timeout(Duration::from_millis(500))
        .connect()
        .await
        .expect("connected to Redis");
    let mut options = ServerOptions::default();
    options.adapter = adapters.factory();
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
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    assert!(next_text(&mut ws).await.starts_with("0{"));
    ws.send(Message::text("40")).await.expect("send");
    let reply = next_text(&mut ws).await;
    let json: serde_json::Value =
        serde_json::from_str(reply.strip_prefix("40").expect("CONNECT reply")).expect("json");
    (ws, json["sid"].as_str().expect("sid").to_owned())
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
    let redis = Redis::start();
    let (a, _) = server(&redis, "sse").await;
    let (b, _) = server(&redis, "sse").await;
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
    let (_c, _) = server(&redis, "sse").await;
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
    let redis = Redis::start();
    let (a, _) = server(&redis, "remote").await;
    let (b, b_port) = server(&redis, "remote").await;
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
            .is_some_and(|s| s.rooms().contains(&Room::new("club").unwrap()))
    })
    .await;
    let rooms = a.sockets().all_rooms().await.expect("all rooms");
    assert!(rooms.contains(&Room::new("club").unwrap()), "{rooms:?}");

    remote.emit("hello", &"from a").await.expect("emit");
    assert_eq!(next_text(&mut ws).await, r#"42["hello","from a"]"#);

    remote.leave("club").await.expect("leave");
    eventually("the socket to leave club on b", async || {
        owner
            .get_socket(sid)
            .is_some_and(|s| !s.rooms().contains(&Room::new("club").unwrap()))
    })
    .await;

    remote.disconnect(false).await.expect("disconnect");
    assert_eq!(next_text(&mut ws).await, "41");
    eventually("b to forget the socket", async || owner.socket_count() == 0).await;
}
