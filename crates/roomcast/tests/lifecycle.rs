//! A socket's end: nothing of it is left behind.

mod common;

use std::time::Duration;

use common::{next, start, RawClient};
use roomcast::{Server, Socket};
use tokio::sync::mpsc;

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
