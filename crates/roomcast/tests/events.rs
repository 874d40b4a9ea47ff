//! Incoming events: handler parameters, packet middleware, catch-all handlers, and what
//! happens to events that do not reach their handler or whose handler fails.

mod common;

use common::{next, server_with_sockets, RawClient};
use roomcast::{AckSender, Args, Error, EventError, Namespace, Socket};
use tokio::sync::mpsc;

/// Collects the socket's event errors.
fn errors_of(socket: &Socket) -> mpsc::UnboundedReceiver<EventError> {
    let (errors_tx, errors) = mpsc::unbounded_channel();
    socket.on_error(move |_socket: Socket, error: EventError| {
        let errors_tx = errors_tx.clone();
        async move {
            let _ = errors_tx.send(error);
        }
    });
    errors
}

#[tokio::test]
async fn handlers_take_their_parameters_in_any_order() {
    let (_io, port, mut sockets) = server_with_sockets().await;
    let (mut client, sid) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    // The acknowledgement first, then the arguments, then the socket and its namespace.
    socket.on(
        "whoami",
        |ack: AckSender, (greeting, n): (String, u32), socket: Socket, nsp: Namespace| async move {
            ack.send(&(greeting, n + 1, socket.id().as_str(), nsp.name()))
        },
    );
    // No parameter at all.
    let (hits_tx, mut hits) = mpsc::unbounded_channel();
    socket.on("ping", move || {
        let hits_tx = hits_tx.clone();
        async move {
            let _ = hits_tx.send(());
        }
    });
    // Only the acknowledgement: no `(): ()` for "no arguments".
    socket.on("time", |ack: AckSender| async move { ack.send("now") });

    client.send(r#"421["whoami","hi",41]"#).await;
    assert_eq!(client.recv().await, format!(r#"431["hi",42,"{sid}","/"]"#));
    client.send(r#"42["ping",1,2,3]"#).await;
    next(&mut hits).await;
    client.send(r#"422["time"]"#).await;
    assert_eq!(client.recv().await, r#"432["now"]"#);
}

#[tokio::test]
async fn a_handler_error_is_reported_with_its_event_name() {
    let (_io, port, mut sockets) = server_with_sockets().await;
    let (mut client, _) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    let mut errors = errors_of(&socket);
    socket.on("divide", |(a, b): (i64, i64), ack: AckSender| async move {
        if b == 0 {
            return Err("division by zero".into());
        }
        ack.send(&(a / b)).map_err(roomcast::BoxError::from)
    });
    // The error of a handler that finishes later is reported too.
    socket.on("later", |_: Args| async move {
        tokio::task::yield_now().await;
        Err::<(), _>(std::io::Error::other("failed after a wait"))
    });

    client.send(r#"421["divide",1,0]"#).await;
    let error = next(&mut errors).await;
    assert!(
        matches!(&error, EventError::Failed { event, error } if event == "divide" && error.to_string() == "division by zero"),
        "{error}"
    );
    client.send(r#"42["later"]"#).await;
    let error = next(&mut errors).await;
    assert!(
        matches!(&error, EventError::Failed { event, .. } if event == "later"),
        "{error}"
    );
    // The connection is unaffected.
    client.send(r#"422["divide",84,2]"#).await;
    assert_eq!(client.recv().await, "432[42]");
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
async fn on_any_sees_every_event_before_its_handler() {
    let (_io, port, mut sockets) = server_with_sockets().await;
    let (mut client, _) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let any_tx = seen_tx.clone();
    socket.on_any(move |_socket: Socket, event: String, args: Args| {
        let any_tx = any_tx.clone();
        async move {
            let _ = any_tx.send(format!("any {event} {}", args.len()));
        }
    });
    socket.on("first", move |(a, b): (u32, u32)| {
        let seen_tx = seen_tx.clone();
        async move {
            let _ = seen_tx.send(format!("first {a} {b}"));
        }
    });
    client.send(r#"42["first",1,2]"#).await;
    client.send(r#"42["second"]"#).await;
    assert_eq!(next(&mut seen).await, "any first 2");
    assert_eq!(next(&mut seen).await, "first 1 2");
    // An event without a handler is seen by the catch-all handler alone.
    assert_eq!(next(&mut seen).await, "any second 0");
}

#[tokio::test]
async fn handlers_take_the_server_the_handshake_and_provided_state() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Hits(AtomicUsize);

    let (io, port, mut sockets) = server_with_sockets().await;
    io.provide(Hits::default());
    let (mut client, sid) = RawClient::connect(port, "/").await;
    let socket = next(&mut sockets).await;
    socket.on(
        "info",
        |server: roomcast::Server,
         handshake: roomcast::Handshake,
         hits: roomcast::State<Hits>,
         ack: AckSender| async move {
            let n = hits.0.fetch_add(1, Ordering::Relaxed) + 1;
            let query = handshake.query().get("EIO").cloned();
            ack.send(&(server.sockets().socket_count(), query, n))
        },
    );
    // A value nobody provided is an error of the event, not a crash.
    let mut errors = errors_of(&socket);
    socket.on("missing", |_: roomcast::State<String>| async move {});
    client.send(r#"421["info"]"#).await;
    assert_eq!(client.recv().await, r#"431[1,"4",1]"#);
    client.send(r#"422["info"]"#).await;
    assert_eq!(client.recv().await, r#"432[1,"4",2]"#);
    client.send(r#"42["missing"]"#).await;
    assert!(next(&mut errors)
        .await
        .to_string()
        .contains("Server::provide"));
    // The socket reaches its server without a captured clone; a sid serializes as its text.
    let server = socket.server().expect("the server");
    assert_eq!(server.sockets().socket_count(), 1);
    assert_eq!(
        serde_json::to_string(&socket.id()).expect("json"),
        format!("\"{sid}\"")
    );
}
