//! The server options and close reasons, checked over real connections on 127.0.0.1 with raw
//! HTTP requests and a WebSocket client.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use roomcast_engineio::{
    serve, CloseReason, Config, Connection, Engine, EngineLayer, Frame, Handler, Message, Socket,
    Transports,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tower_layer::Layer;

const WAIT: Duration = Duration::from_secs(5);

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket to the engine on `port`, with `query` (`EIO=4&transport=websocket…`).
async fn websocket(port: u16, query: &str) -> Ws {
    let url = format!("ws://127.0.0.1:{port}/engine.io/?{query}");
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    ws
}

/// Echoes messages and reports each session's socket and close reason.
#[derive(Clone)]
struct Recorder {
    opened: mpsc::UnboundedSender<Socket>,
    closed: mpsc::UnboundedSender<CloseReason>,
}

struct Session(Socket, mpsc::UnboundedSender<CloseReason>);

impl Handler for Recorder {
    type Connection = Session;
    fn on_open(&self, socket: Socket) -> Session {
        let _ = self.opened.send(socket.clone());
        Session(socket, self.closed.clone())
    }
}

impl Connection for Session {
    fn on_message(&self, message: Message) {
        let _ = self.0.send(Frame::from(message));
    }
    fn on_close(&self, reason: CloseReason) {
        let _ = self.1.send(reason);
    }
}

struct Server {
    port: u16,
    opened: mpsc::UnboundedReceiver<Socket>,
    closed: mpsc::UnboundedReceiver<CloseReason>,
}

async fn start(config: Config) -> Server {
    let (opened_tx, opened) = mpsc::unbounded_channel();
    let (closed_tx, closed) = mpsc::unbounded_channel();
    let engine = Engine::new(
        Recorder {
            opened: opened_tx,
            closed: closed_tx,
        },
        config,
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(serve(listener, engine));
    Server {
        port,
        opened,
        closed,
    }
}

async fn next<T>(receiver: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(WAIT, receiver.recv())
        .await
        .expect("in time")
        .expect("channel open")
}

/// One HTTP/1.1 request on its own connection; returns status, headers (lower-case) and body.
async fn request(port: u16, method: &str, path: &str, body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    let text = String::from_utf8(response).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    let status = head[9..12].parse().expect("status");
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// A polling handshake; returns the sid.
async fn handshake(port: u16) -> String {
    let (status, _, body) = request(port, "GET", "/engine.io/?EIO=4&transport=polling", "").await;
    assert_eq!(status, 200, "{body}");
    let open: serde_json::Value =
        serde_json::from_str(body.strip_prefix('0').expect("open packet")).expect("json");
    open["sid"].as_str().expect("sid").to_owned()
}

fn polling(sid: &str) -> String {
    format!("/engine.io/?EIO=4&transport=polling&sid={sid}")
}

#[tokio::test]
async fn allow_request_refusals_are_403_with_the_message() {
    let mut config = Config::default();
    config.allow_request = Some(Arc::new(|info: &roomcast_engineio::RequestInfo| {
        let refused = info.query("token").as_deref() != Some("ok");
        let silent = info.query("silent").is_some();
        Box::pin(async move {
            match (refused, silent) {
                (false, _) => Ok(()),
                (true, true) => Err(None),
                (true, false) => Err(Some("no thanks".to_owned())),
            }
        })
    }));
    let server = start(config).await;
    let (status, head, body) = request(
        server.port,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        "",
    )
    .await;
    assert_eq!(status, 403);
    assert!(head.contains("content-type: application/json"));
    assert_eq!(body, r#"{"code":4,"message":"no thanks"}"#);
    let (status, _, body) = request(
        server.port,
        "GET",
        "/engine.io/?EIO=4&transport=polling&silent=1",
        "",
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (403, r#"{"code":4,"message":"Forbidden"}"#)
    );
    let (status, _, body) = request(
        server.port,
        "GET",
        "/engine.io/?EIO=4&transport=polling&token=ok",
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.starts_with("0{"));
}

#[tokio::test]
async fn transports_and_upgrades_follow_the_options() {
    let mut config = Config::default();
    config.transports = Transports {
        polling: true,
        websocket: false,
    };
    let server = start(config).await;
    let (status, _, body) = request(
        server.port,
        "GET",
        "/engine.io/?EIO=4&transport=websocket",
        "",
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (400, r#"{"code":0,"message":"Transport unknown"}"#)
    );
    let (_, _, body) = request(
        server.port,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        "",
    )
    .await;
    assert!(body.contains(r#""upgrades":[]"#), "{body}");

    let mut config = Config::default();
    config.allow_upgrades = false;
    let server = start(config).await;
    let (_, _, body) = request(
        server.port,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        "",
    )
    .await;
    assert!(body.contains(r#""upgrades":[]"#), "{body}");
}

#[tokio::test]
async fn every_close_reason_reaches_the_handler() {
    let mut config = Config::default();
    config.ping_interval = Duration::from_millis(100);
    config.ping_timeout = Duration::from_millis(100);
    let mut server = start(config).await;

    // The client's close packet.
    let sid = handshake(server.port).await;
    next(&mut server.opened).await;
    request(server.port, "POST", &polling(&sid), "1").await;
    assert_eq!(next(&mut server.closed).await, CloseReason::TransportClose);

    // Garbage.
    let sid = handshake(server.port).await;
    next(&mut server.opened).await;
    let (status, _, body) = request(server.port, "POST", &polling(&sid), "9garbage").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert_eq!(next(&mut server.closed).await, CloseReason::ParseError);

    // The server closes: the next poll delivers the close packet.
    let sid = handshake(server.port).await;
    let socket = next(&mut server.opened).await;
    socket.close();
    let (_, _, body) = request(server.port, "GET", &polling(&sid), "").await;
    assert!(body.ends_with('1'), "{body:?}");
    assert_eq!(next(&mut server.closed).await, CloseReason::ForcedClose);

    // A client that goes away while its GET waits (Node: "poll connection closed
    // prematurely"): the session ends at once, and its id is unknown from then on.
    let sid = handshake(server.port).await;
    next(&mut server.opened).await;
    let mut waiting = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let head = format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", polling(&sid));
    waiting.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(20)).await;
    drop(waiting);
    assert_eq!(next(&mut server.closed).await, CloseReason::TransportError);
    let (status, _, _) = request(server.port, "GET", &polling(&sid), "").await;
    assert_eq!(status, 400);

    // A polling client that opens a session and never polls again: reaped after
    // ping_interval + ping_timeout, its id unknown from then on.
    let sid = handshake(server.port).await;
    next(&mut server.opened).await;
    assert_eq!(next(&mut server.closed).await, CloseReason::PingTimeout);
    let (status, _, body) = request(server.port, "GET", &polling(&sid), "").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Session ID unknown"), "{body}");
}

#[tokio::test]
async fn an_unfinished_upgrade_is_dropped_after_upgrade_timeout() {
    let mut config = Config::default();
    config.upgrade_timeout = Duration::from_millis(200);
    let server = start(config).await;
    let sid = handshake(server.port).await;
    let mut ws = websocket(server.port, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws.send(WsMessage::text("2probe")).await.expect("probe");
    let reply = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("in time");
    assert!(matches!(reply, Some(Ok(WsMessage::Text(ref text))) if text.as_str() == "3probe"));
    // No `5`: the server drops the WebSocket and the session goes on over polling.
    let ended = tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the websocket was not closed");
    request(server.port, "POST", &polling(&sid), "4still here").await;
    let (status, _, body) = request(server.port, "GET", &polling(&sid), "").await;
    assert_eq!((status, body.as_str()), (200, "4still here"));
}

#[tokio::test]
async fn the_layer_serves_its_path_and_passes_the_rest_on() {
    let (opened, _) = mpsc::unbounded_channel();
    let (closed, _) = mpsc::unbounded_channel();
    let engine = Engine::new(Recorder { opened, closed }, Config::default());
    let app = tower_service_fn(|_req: http::Request<hyper::body::Incoming>| async {
        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"app"))))
    });
    let service = EngineLayer::new(engine).layer(app);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(serve(listener, service));
    let (status, _, body) = request(port, "GET", "/elsewhere", "").await;
    assert_eq!((status, body.as_str()), (200, "app"));
    let (status, _, body) = request(port, "GET", "/engine.io/?EIO=4&transport=polling", "").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("0{"));
}

/// A tower service from an async function (what `tower::service_fn` does).
fn tower_service_fn<F>(f: F) -> ServiceFn<F> {
    ServiceFn(f)
}

#[derive(Clone)]
struct ServiceFn<F>(F);

impl<F, Fut, Req, Res> tower_service::Service<Req> for ServiceFn<F>
where
    F: Fn(Req) -> Fut,
    Fut: std::future::Future<Output = Result<Res, Infallible>>,
{
    type Response = Res;
    type Error = Infallible;
    type Future = Fut;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Fut {
        (self.0)(req)
    }
}

#[tokio::test]
async fn sockets_report_their_transport_after_an_upgrade() {
    let mut server = start(Config::default()).await;
    let sid = handshake(server.port).await;
    let socket = next(&mut server.opened).await;
    assert_eq!(
        socket.transport(),
        roomcast_engineio::TransportKind::Polling
    );
    let mut ws = websocket(server.port, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws.send(WsMessage::text("2probe")).await.expect("probe");
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("3probe in time");
    ws.send(WsMessage::text("5")).await.expect("upgrade");
    ws.send(WsMessage::text("4over websocket"))
        .await
        .expect("message");
    let echo = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("echo in time");
    assert!(
        matches!(echo, Some(Ok(WsMessage::Text(ref text))) if text.as_str() == "4over websocket")
    );
    assert_eq!(
        socket.transport(),
        roomcast_engineio::TransportKind::WebSocket
    );
}

#[tokio::test]
async fn a_queue_over_max_buffered_bytes_closes_the_session_after_what_it_holds() {
    let mut config = Config::default();
    // Each 1000-byte frame counts with its queue overhead (under 150 bytes).
    config.max_buffered_bytes = 11_500;
    let mut server = start(config).await;
    let sid = handshake(server.port).await;
    let socket = next(&mut server.opened).await;
    let frame = Frame::message("x".repeat(999));
    // Nobody polls: ten 1000-byte frames fit, the eleventh does not.
    for _ in 0..10 {
        socket.send(frame.clone()).expect("under the limit");
    }
    assert_eq!(
        socket.send(frame.clone()),
        Err(roomcast_engineio::SendError::QueueFull)
    );
    assert_eq!(
        socket.send(frame.clone()),
        Err(roomcast_engineio::SendError::Closed)
    );
    // The next poll gets the ten frames and the close packet; the session ends.
    let (status, _, body) = request(server.port, "GET", &polling(&sid), "").await;
    assert_eq!(status, 200);
    let packets: Vec<&str> = body.split('\x1e').collect();
    assert_eq!(packets.len(), 11);
    assert_eq!(packets[10], "1");
    assert_eq!(next(&mut server.closed).await, CloseReason::ForcedClose);
}

#[tokio::test]
async fn close_delivers_what_is_queued_then_ends_every_session() {
    let (opened_tx, mut opened) = mpsc::unbounded_channel();
    let (closed_tx, mut closed) = mpsc::unbounded_channel();
    let engine = Engine::new(
        Recorder {
            opened: opened_tx,
            closed: closed_tx,
        },
        Config::default(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let served = tokio::spawn(roomcast_engineio::serve_with(
        listener,
        engine.clone(),
        Default::default(),
        engine.closing(),
    ));
    let polling_sid = handshake(port).await;
    let polling_socket = next(&mut opened).await;
    let mut ws = websocket(port, "EIO=4&transport=websocket").await;
    ws.next().await.expect("open packet").expect("frame");
    let ws_socket = next(&mut opened).await;
    ws_socket.send(Frame::message("last")).expect("queued");
    // A third session never polls again: dropped after the bound.
    let _idle = handshake(port).await;
    next(&mut opened).await;

    polling_socket.send(Frame::message("last")).expect("queued");
    // The polling client's connection is open before the close begins (new connections are
    // refused from then on); its next poll gets what was queued, then the close packet.
    let mut connection = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let closing = tokio::spawn({
        let engine = engine.clone();
        async move { engine.close(Duration::from_millis(500)).await }
    });
    let head = format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        polling(&polling_sid)
    );
    connection.write_all(head.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, connection.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    let response = String::from_utf8(response).expect("utf-8");
    let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
    let status = &head[9..12];
    assert_eq!((status, body), ("200", "4last\x1e1"));
    assert_eq!(
        ws.next().await.expect("frame").expect("ok"),
        WsMessage::text("4last")
    );
    assert!(matches!(
        ws.next().await.expect("frame").expect("ok"),
        WsMessage::Close(_)
    ));
    assert_eq!(closing.await.expect("close"), 1);
    for _ in 0..3 {
        assert_eq!(next(&mut closed).await, CloseReason::ServerShuttingDown);
    }
    // The accept loop stopped with the close.
    tokio::time::timeout(WAIT, served)
        .await
        .expect("serve returns")
        .expect("task")
        .expect("served");
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

#[tokio::test]
async fn a_v3_client_that_keeps_pinging_stays_and_is_ended_once_it_stops() {
    let mut config = Config::default();
    config.allow_eio3 = true;
    config.ping_interval = Duration::from_millis(200);
    config.ping_timeout = Duration::from_millis(200);
    let mut server = start(config).await;
    let mut ws = websocket(server.port, "EIO=3&transport=websocket").await;
    next(&mut server.opened).await;
    // Pings for three times the allowance (ping_interval + ping_timeout), many at once
    // first: one queued check follows the client's deadline however often it pings.
    for _ in 0..50 {
        ws.send(WsMessage::text("2")).await.expect("ping");
    }
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ws.send(WsMessage::text("2")).await.expect("ping");
        assert!(server.closed.try_recv().is_err(), "ended while pinging");
    }
    assert_eq!(next(&mut server.closed).await, CloseReason::PingTimeout);
}
