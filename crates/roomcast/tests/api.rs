//! The public API against real connections: a server on 127.0.0.1 and a raw WebSocket client
//! speaking Socket.IO, so that server-side state can be checked directly.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roomcast::{AckSender, Error, EventError, Room, RoomError, Server, Socket};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(5);

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A Socket.IO client reduced to the wire: text packets in, text packets out.
struct RawClient {
    ws: Ws,
}

impl RawClient {
    async fn open(port: u16) -> RawClient {
        let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket");
        let mut client = RawClient { ws };
        assert!(client.recv().await.starts_with("0{"), "open packet first");
        client
    }

    /// Opens a connection and joins `nsp`; returns the client and its socket id.
    async fn connect(port: u16, nsp: &str) -> (RawClient, String) {
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

    async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// The next text packet (heartbeats are answered and skipped).
    async fn recv(&mut self) -> String {
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

async fn start(io: &Server) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = io.clone();
    tokio::spawn(async move { server.serve(listener).await });
    port
}

/// A server whose `/` sockets are handed to the test as they connect.
async fn server_with_sockets() -> (Server, u16, mpsc::UnboundedReceiver<Socket>) {
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

async fn next<T>(receiver: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(WAIT, receiver.recv())
        .await
        .expect("in time")
        .expect("channel open")
}

#[tokio::test]
async fn joining_validates_room_names() {
    let (io, port, mut sockets) = server_with_sockets().await;
    let (_client, sid) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    assert_eq!(socket.id().as_str(), sid);

    assert!(matches!(
        socket.join("").await,
        Err(Error::InvalidRoom(RoomError::Empty))
    ));
    assert!(matches!(
        socket.join(vec!["ok", "bad\nname"]).await,
        Err(Error::InvalidRoom(RoomError::ControlCharacter(_)))
    ));
    assert!(matches!(
        socket.join("x".repeat(2000)).await,
        Err(Error::InvalidRoom(RoomError::TooLong(2000)))
    ));
    // A refused list changes nothing.
    assert_eq!(socket.rooms(), vec![Room::of_socket(socket.id())]);

    socket.join(["a", "b"]).await.expect("valid rooms");
    let names: Vec<String> = socket.rooms().iter().map(|room| room.to_string()).collect();
    assert!(
        names.contains(&"a".to_owned()) && names.contains(&"b".to_owned()) && names.contains(&sid)
    );
    assert_eq!(
        io.sockets().rooms(),
        vec![Room::new("a").unwrap(), Room::new("b").unwrap()]
    );
}

#[tokio::test]
async fn operators_report_invalid_input_when_they_run() {
    let (io, _port, _sockets) = server_with_sockets().await;
    assert!(matches!(
        io.to("").emit("e", &1).await,
        Err(Error::InvalidRoom(_))
    ));
    assert!(matches!(
        io.except(vec!["a", ""]).fetch_sockets().await,
        Err(Error::InvalidRoom(_))
    ));
    assert!(matches!(
        io.emit("disconnect", &()).await,
        Err(Error::Encode(_))
    ));
    let no_timeout = io
        .sockets()
        .broadcast()
        .emit_with_ack::<_, u32>("e", &())
        .await;
    assert!(
        matches!(no_timeout, Err(partial) if matches!(partial.error, Error::AckWithoutTimeout))
    );
    // A valid broadcast to nobody is fine.
    io.to("empty")
        .emit("e", &1)
        .await
        .expect("broadcast to an empty room");
}

#[tokio::test]
async fn payloads_that_do_not_fit_the_handler_go_to_the_error_handlers() {
    let (_io, port, mut sockets) = server_with_sockets().await;
    let (mut client, _) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    let (errors_tx, mut errors) = mpsc::unbounded_channel();
    socket.on(
        "add",
        |_socket: Socket, (a, b): (i64, i64), ack: AckSender| async move {
            let _ = ack.send(&(a + b));
        },
    );
    socket.on_error(move |_socket: Socket, error: EventError| {
        let errors_tx = errors_tx.clone();
        async move {
            let _ = errors_tx.send(error);
        }
    });

    client.send(r#"421["add","one",2]"#).await;
    let error = next(&mut errors).await;
    assert!(
        matches!(&error, EventError::InvalidPayload { event, .. } if event == "add"),
        "{error}"
    );
    assert!(error.to_string().contains("add"));

    // The connection is unaffected.
    client.send(r#"422["add",40,2]"#).await;
    assert_eq!(client.recv().await, "432[42]");
}

#[tokio::test]
async fn packet_middleware_can_refuse_events() {
    let (_io, port, mut sockets) = server_with_sockets().await;
    let (mut client, _) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    let (errors_tx, mut errors) = mpsc::unbounded_channel();
    socket.use_(|_socket: Socket, event: String, _args| async move {
        if event == "forbidden" {
            Err("not allowed".to_owned())
        } else {
            Ok(())
        }
    });
    socket.on(
        "allowed",
        |_socket: Socket, text: String, ack: AckSender| async move {
            let _ = ack.send(&text);
        },
    );
    socket.on(
        "forbidden",
        |_socket: Socket, (): (), ack: AckSender| async move {
            let _ = ack.send("reached");
        },
    );
    socket.on_error(move |_socket: Socket, error: EventError| {
        let errors_tx = errors_tx.clone();
        async move {
            let _ = errors_tx.send(error);
        }
    });
    client.send(r#"421["forbidden"]"#).await;
    let error = next(&mut errors).await;
    assert!(matches!(error, EventError::Refused { ref message, .. } if message == "not allowed"));
    client.send(r#"422["allowed","yes"]"#).await;
    assert_eq!(client.recv().await, r#"432["yes"]"#);
}

#[tokio::test]
async fn emitting_reserved_events_is_an_error() {
    let (_io, port, mut sockets) = server_with_sockets().await;
    let (_client, _) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    for name in [
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ] {
        assert!(
            matches!(socket.emit(name, &()), Err(Error::Encode(_))),
            "{name}"
        );
    }
    socket.emit("fine", &()).expect("an ordinary event");
}

#[tokio::test]
async fn a_disconnected_socket_leaves_no_state() {
    let io = Server::new();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    io.on_connect(move |socket: Socket| {
        let seen_tx = seen_tx.clone();
        async move {
            let _ = socket.join("room").await;
            socket.on_disconnecting(move |socket: Socket, reason| {
                let seen_tx = seen_tx.clone();
                async move {
                    // Still in its rooms while disconnecting.
                    let _ = seen_tx.send((socket.rooms().len(), reason.to_string()));
                }
            });
        }
    });
    let port = start(&io).await;
    let (mut client, _) = RawClient::connect(port, "/").await;
    // A round trip so the connect handler has run.
    client.send("41").await;
    let (rooms, reason) = next(&mut seen).await;
    assert_eq!(rooms, 2);
    assert_eq!(reason, "client namespace disconnect");
    for _ in 0..100 {
        if io.sockets().socket_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let nsp = io.sockets();
    assert_eq!(nsp.socket_count(), 0);
    assert!(nsp.rooms().is_empty());
    assert!(
        nsp.adapter().local_rooms().is_empty(),
        "not even the id-room is left"
    );
}

#[tokio::test]
async fn unknown_namespaces_are_refused_and_dynamic_ones_created() {
    let io = Server::new();
    let orgs = io.of_fn(|name: String, _auth| async move { name.starts_with("/org-") });
    orgs.on_connect(|socket: Socket| async move {
        let _ = socket.emit("welcome", socket.ns());
    });
    let port = start(&io).await;
    let mut client = RawClient::open(port).await;
    client.send("40/nope,").await;
    assert_eq!(
        client.recv().await,
        r#"44/nope,{"message":"Invalid namespace"}"#
    );
    client.send("40/org-acme,").await;
    assert!(client.recv().await.starts_with("40/org-acme,{\"sid\""));
    assert_eq!(
        client.recv().await,
        r#"42/org-acme,["welcome","/org-acme"]"#
    );
    assert_eq!(orgs.children().len(), 1);
    assert!(io.namespaces().iter().any(|nsp| nsp.name() == "/org-acme"));
}

#[tokio::test]
async fn middleware_refusals_carry_message_and_data() {
    let io = Server::new();
    io.of("/admin").use_(|_socket: Socket| async move {
        Err(roomcast::ConnectError::new("unauthorized")
            .with_data(serde_json::json!({ "retry": false })))
    });
    let port = start(&io).await;
    let mut client = RawClient::open(port).await;
    client.send("40/admin,").await;
    assert_eq!(
        client.recv().await,
        r#"44/admin,{"message":"unauthorized","data":{"retry":false}}"#
    );
    // The connection stays usable for other namespaces.
    client.send("40").await;
    assert!(client.recv().await.starts_with("40{\"sid\""));
}

#[tokio::test]
async fn on_any_sees_every_event_before_its_handler() {
    let (_io, port, mut sockets) = server_with_sockets().await;
    let (mut client, _) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    socket.on_any(
        move |_socket: Socket, event: String, args: roomcast::Args| {
            let seen_tx = seen_tx.clone();
            async move {
                let _ = seen_tx.send((event, args.len()));
            }
        },
    );
    client.send(r#"42["first",1,2]"#).await;
    client.send(r#"42["second"]"#).await;
    assert_eq!(next(&mut seen).await, ("first".to_owned(), 2));
    assert_eq!(next(&mut seen).await, ("second".to_owned(), 0));
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Profile {
    name: String,
    level: u32,
}

#[tokio::test]
async fn socket_data_and_remote_socket_operations() {
    let (io, port, mut sockets) = server_with_sockets().await;
    let (mut client, sid) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    socket
        .set_data(&Profile {
            name: "ada".into(),
            level: 3,
        })
        .expect("data");
    assert_eq!(socket.data::<Profile>().expect("typed data").name, "ada");

    let found = io.fetch_sockets().await.expect("fetch");
    assert_eq!(found.len(), 1);
    let remote = &found[0];
    assert_eq!(remote.id(), sid);
    assert_eq!(remote.ns(), "/");
    assert_eq!(
        remote.data().get("level").and_then(|level| level.as_u64()),
        Some(3)
    );

    remote.join("vip").await.expect("join");
    assert!(socket.rooms().contains(&Room::new("vip").unwrap()));
    assert_eq!(
        io.in_("vip")
            .fetch_sockets()
            .await
            .expect("fetch vip")
            .len(),
        1
    );
    remote.emit("note", &"for you").await.expect("emit");
    assert_eq!(client.recv().await, r#"42["note","for you"]"#);
    remote.leave("vip").await.expect("leave");
    assert!(io
        .in_("vip")
        .fetch_sockets()
        .await
        .expect("fetch vip")
        .is_empty());
    remote.disconnect(false).await.expect("disconnect");
    assert_eq!(client.recv().await, "41");
    assert!(!socket.connected());
}

#[tokio::test]
async fn middleware_sees_the_handshake() {
    let io = Server::new();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    io.use_(move |socket: Socket| {
        let seen_tx = seen_tx.clone();
        async move {
            let handshake = socket.handshake();
            let _ = seen_tx.send((
                handshake.query().get("room").cloned(),
                handshake.header("host").map(str::to_owned),
                handshake.address().map(|addr| addr.ip().to_string()),
                handshake
                    .auth
                    .get("token")
                    .and_then(|token| token.as_str())
                    .map(str::to_owned),
            ));
            Ok(())
        }
    });
    let port = start(&io).await;
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket&room=lobby");
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    let mut client = RawClient { ws };
    assert!(client.recv().await.starts_with("0{"));
    client.send(r#"40{"token":"t0k"}"#).await;
    assert!(client.recv().await.starts_with("40{"));
    let (room, host, address, token) = next(&mut seen).await;
    assert_eq!(room.as_deref(), Some("lobby"));
    assert_eq!(host, Some(format!("127.0.0.1:{port}")));
    assert_eq!(address.as_deref(), Some("127.0.0.1"));
    assert_eq!(token.as_deref(), Some("t0k"));
}

/// One long-polling request, for the volatile test: the body of the response.
async fn poll(port: u16, method: &str, query: &str, body: &str) -> String {
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

#[tokio::test]
async fn volatile_events_are_dropped_for_clients_that_cannot_take_them() {
    let (io, port, mut sockets) = server_with_sockets().await;
    let open = poll(port, "GET", "", "").await;
    let open: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').expect("open")).expect("json");
    let sid = format!("&sid={}", open["sid"].as_str().expect("sid"));
    poll(port, "POST", &sid, "40").await;
    assert!(poll(port, "GET", &sid, "").await.starts_with("40{"));
    next(&mut sockets).await;

    // No poll is waiting: the volatile event is dropped, the ordinary one queued.
    io.volatile().emit("lost", &1).await.expect("volatile emit");
    io.emit("kept", &2).await.expect("emit");
    assert_eq!(poll(port, "GET", &sid, "").await, r#"42["kept",2]"#);
}
