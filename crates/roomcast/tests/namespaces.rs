//! Namespaces: unknown ones refused, dynamic ones created, middleware and the handshake it sees.

mod common;

use common::{next, start, RawClient};
use roomcast::{Server, Socket};
use tokio::sync::mpsc;

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
