//! What the API tests share: a server on 127.0.0.1 and a raw WebSocket client speaking
//! Socket.IO, so that server-side state can be checked directly.
// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roomcast::{Server, Socket};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub(crate) const WAIT: Duration = Duration::from_secs(5);

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A Socket.IO client reduced to the wire: text packets in, text packets out.
pub(crate) struct RawClient {
    pub(crate) ws: Ws,
}

impl RawClient {
    pub(crate) async fn open(port: u16) -> RawClient {
        let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket");
        let mut client = RawClient { ws };
        assert!(client.recv().await.starts_with("0{"), "open packet first");
        client
    }

    /// Opens a connection and joins `nsp`; returns the client and its socket id.
    pub(crate) async fn connect(port: u16, nsp: &str) -> (RawClient, String) {
        let mut client = RawClient::open(port).await;
        let prefix = if nsp == "/" {
            String::new()
        } else {
            format!("{nsp},")
        };
        client.send(&format!("40{prefix}")).await;
        let reply = client.recv().await;
        let json = reply
            .strip_prefix(&format!("40{prefix}"))
            .unwrap_or_else(|| panic!("CONNECT reply expected, got {reply}"));
        let sid = serde_json::from_str::<serde_json::Value>(json).expect("json")["sid"]
            .as_str()
            .expect("sid")
            .to_owned();
        (client, sid)
    }

    pub(crate) async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// The next text packet (heartbeats are answered and skipped).
    pub(crate) async fn recv(&mut self) -> String {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a packet in time")
                .expect("connection open")
                .expect("websocket frame");
            match message {
                Message::Text(text) if text.as_str() == "2" => self.send("3").await,
                Message::Text(text) => return text.as_str().to_owned(),
                Message::Close(_) => return String::from("<closed>"),
                _ => {}
            }
        }
    }
}

pub(crate) async fn start(io: &Server) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = io.clone();
    tokio::spawn(async move { server.serve(listener).await });
    port
}

/// A server whose `/` sockets are handed to the test as they connect.
pub(crate) async fn server_with_sockets() -> (Server, u16, mpsc::UnboundedReceiver<Socket>) {
    let io = Server::new();
    let (sender, receiver) = mpsc::unbounded_channel();
    io.on_connect(move |socket: Socket| {
        let sender = sender.clone();
        async move {
            let _ = sender.send(socket);
        }
    });
    let port = start(&io).await;
    (io, port, receiver)
}

pub(crate) async fn next<T>(receiver: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(WAIT, receiver.recv())
        .await
        .expect("in time")
        .expect("channel open")
}

/// One long-polling request, for the volatile test: the body of the response.
pub(crate) async fn poll(port: u16, method: &str, query: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!(
        "{method} /socket.io/?EIO=4&transport=polling{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut response))
        .await
        .expect("in time")
        .expect("read");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}
