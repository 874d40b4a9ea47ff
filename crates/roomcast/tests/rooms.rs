//! Rooms: names are validated where they are given, and operators report invalid rooms when they run.

mod common;

use common::{next, server_with_sockets, RawClient};
use roomcast::{Error, Room, RoomError};

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
