//! Volatile broadcasts: dropped for a client that cannot take them right away.

mod common;

use common::{next, poll, server_with_sockets};

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
