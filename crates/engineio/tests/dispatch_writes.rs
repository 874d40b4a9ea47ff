//! Frames sent while a client's message is handled are written by the handling thread at the
//! end of the dispatch (up to a number of sessions), the rest by each session's own task.
//! These tests check that every frame arrives whole and in order either way, over real
//! WebSocket connections on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roomcast_engineio::{serve, CloseReason, Config, Connection, Engine, Handler, Message, Socket};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(10);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// On `go <count> <size> <inline>` from any client, sends every open session `count` numbered
/// messages of `size` bytes: the first `inline` from the handler, the rest from a task it
/// spawns.
#[derive(Clone, Default)]
struct Fanout {
    sockets: Arc<Mutex<Vec<Socket>>>,
}

struct Member(Fanout);

impl Handler for Fanout {
    type Connection = Member;
    fn on_open(&self, socket: Socket) -> Member {
        self.sockets.lock().expect("lock").push(socket);
        Member(self.clone())
    }
}

fn numbered(i: usize, size: usize) -> roomcast_engineio::Frame {
    let mut text = format!("{i}:");
    text.extend(std::iter::repeat_n('x', size.saturating_sub(text.len())));
    roomcast_engineio::Frame::message(text)
}

impl Connection for Member {
    fn on_message(&self, message: Message) {
        let Message::Text(text) = message else {
            return;
        };
        let mut words = text.split(' ').skip(1).map(|w| w.parse::<usize>());
        let (Some(Ok(count)), Some(Ok(size)), Some(Ok(inline))) =
            (words.next(), words.next(), words.next())
        else {
            return;
        };
        let sockets = self.0.sockets.lock().expect("lock").clone();
        for i in 0..inline {
            for socket in &sockets {
                let _ = socket.send(numbered(i, size));
            }
        }
        tokio::spawn(async move {
            for i in inline..count {
                for socket in &sockets {
                    let _ = socket.send(numbered(i, size));
                }
            }
        });
    }
    fn on_close(&self, _reason: CloseReason) {}
}

async fn start() -> u16 {
    let engine = Engine::new(Fanout::default(), Config::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(serve(listener, engine));
    port
}

/// A WebSocket session, past its open packet.
async fn connect(port: u16) -> Ws {
    let url = format!("ws://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    let open = tokio::time::timeout(WAIT, ws.next()).await.expect("open");
    assert!(matches!(open, Some(Ok(WsMessage::Text(ref t))) if t.starts_with('0')));
    ws
}

/// Reads `count` messages and checks they are numbered 0.. in order, each `size` bytes long.
async fn expect_numbered(ws: &mut Ws, count: usize, size: usize) {
    for expected in 0..count {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap_or_else(|_| panic!("message {expected} in time"));
        let Some(Ok(WsMessage::Text(text))) = message else {
            panic!("message {expected}: {message:?}");
        };
        let body = text.strip_prefix('4').expect("an engine.io message");
        let (number, _) = body.split_once(':').expect("numbered");
        assert_eq!(number, expected.to_string(), "order");
        assert_eq!(body.len(), size, "message {expected} whole");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_past_what_one_dispatch_writes_reaches_everyone_in_order() {
    let port = start().await;
    let mut clients = Vec::new();
    for _ in 0..200 {
        clients.push(connect(port).await);
    }
    clients[0]
        .send(WsMessage::text("4go 30 100 15"))
        .await
        .expect("send");
    for ws in &mut clients {
        expect_numbered(ws, 30, 100).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_messages_to_a_client_that_reads_late_arrive_whole_and_in_order() {
    let port = start().await;
    let mut sender = connect(port).await;
    let mut late = connect(port).await;
    // Far more than the socket buffers hold: the writes stop part-way and resume later.
    sender
        .send(WsMessage::text("4go 40 300000 20"))
        .await
        .expect("send");
    expect_numbered(&mut sender, 40, 300_000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    expect_numbered(&mut late, 40, 300_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatch_larger_than_the_socket_buffer_is_finished_by_the_connection() {
    let port = start().await;
    let mut sender = connect(port).await;
    let mut late = connect(port).await;
    sender
        .send(WsMessage::text("4go 40 300000 40"))
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_millis(300)).await;
    expect_numbered(&mut late, 40, 300_000).await;
    expect_numbered(&mut sender, 40, 300_000).await;
}
