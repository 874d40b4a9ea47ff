//! Server-side operations on sockets: data, fetch_sockets and what remote sockets can do.

mod common;

use common::{next, server_with_sockets, RawClient};
use roomcast::Room;

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
