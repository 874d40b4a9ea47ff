//! floor-probe serves what the `latency` and `echo` scenarios ask of it, refuses the rest with an
//! error acknowledgement, and a client that sends garbage is closed without disturbing others.

use roomcast_bench::client::Conn;
use roomcast_bench::servers::{launch, Programs, ServerKind};
use roomcast_bench::sio::Packet;
use std::path::PathBuf;
use std::time::Duration;

/// Starts floor-probe, its stderr going to a log file named after `test`.
fn start(test: &str) -> roomcast_bench::servers::Running {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut programs = Programs::defaults(&root);
    programs.floor = PathBuf::from(env!("CARGO_BIN_EXE_floor-probe"));
    let log = std::env::temp_dir().join(format!("floor-probe-{test}-{}.log", std::process::id()));
    launch(
        ServerKind::Floor,
        &programs,
        0,
        log,
        Duration::from_secs(10),
    )
    .expect("floor-probe starts")
}

/// Sends the event `name` with acknowledgement `id` and returns the acknowledgement's arguments.
async fn request(conn: &mut Conn, id: u64, name: &str, args: std::fmt::Arguments<'_>) -> String {
    conn.queue_event(Some(id), name, args);
    conn.flush().await.expect("flush");
    String::from_utf8(conn.wait_ack(id).await.expect("an ack")).expect("UTF-8 ack")
}

/// The next event, skipping nothing: returns its name and what follows the name.
async fn next_event(conn: &mut Conn) -> (String, String) {
    match conn.next().await.expect("a packet") {
        Packet::Event { name, rest, .. } => (
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(rest).into_owned(),
        ),
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn broadcasts_to_a_union_of_rooms_echoes_and_refuses_the_rest() {
    let server = start("broadcasts");
    let mut a = Conn::open(server.addr).await.unwrap();
    let mut b = Conn::open(server.addr).await.unwrap();
    let mut c = Conn::open(server.addr).await.unwrap();

    let b_rooms = request(&mut b, 1, "join", format_args!("\"r1\"")).await;
    let c_rooms = request(&mut c, 2, "join", format_args!("[\"r2\",\"r1\"]")).await;
    assert!(
        b_rooms.starts_with("[[\"floor") && b_rooms.ends_with("\"r1\"]]"),
        "{b_rooms}"
    );
    assert!(c_rooms.ends_with("\"r1\",\"r2\"]]"), "{c_rooms}");

    let both = r#"{"from":"server","to":["r1","r2"],"event":"t","args":[7,"x"]}"#;
    assert_eq!(
        request(&mut a, 3, "broadcast", format_args!("{both}")).await,
        "[true]"
    );
    assert_eq!(next_event(&mut b).await, ("t".into(), ",7,\"x\"]".into()));
    // c is in both rooms and gets the event once: the next thing it sees is the second event.
    assert_eq!(next_event(&mut c).await, ("t".into(), ",7,\"x\"]".into()));
    let r2 = r#"{"from":"server","to":["r2"],"event":"u","args":[]}"#;
    assert_eq!(
        request(&mut a, 4, "broadcast", format_args!("{r2}")).await,
        "[true]"
    );
    assert_eq!(next_event(&mut c).await, ("u".into(), "]".into()));

    let echoed = request(&mut a, 5, "echo", format_args!("1,\"two\",{{\"x\":[3]}}")).await;
    assert_eq!(echoed, "[1,\"two\",{\"x\":[3]}]");

    let from_socket = r#"{"from":"socket","event":"t","args":[]}"#;
    let refused = request(&mut a, 6, "broadcast", format_args!("{from_socket}")).await;
    assert!(refused.starts_with("[{\"error\":"), "{refused}");
    let refused = request(&mut a, 7, "fetchSockets", format_args!("{{}}")).await;
    assert!(refused.contains("does not handle"), "{refused}");
}

#[tokio::test]
async fn a_malformed_packet_closes_only_its_connection() {
    let server = start("malformed");
    let mut bad = Conn::open(server.addr).await.unwrap();
    let mut good = Conn::open(server.addr).await.unwrap();
    request(&mut good, 1, "join", format_args!("\"r\"")).await;

    bad.queue_text(b"42[\"broadcast\",");
    bad.flush().await.unwrap();
    assert!(
        bad.next().await.is_err(),
        "the server closes the connection"
    );

    let mut sender = Conn::open(server.addr).await.unwrap();
    let to_r = r#"{"from":"server","to":["r"],"event":"t","args":[1]}"#;
    assert_eq!(
        request(&mut sender, 2, "broadcast", format_args!("{to_r}")).await,
        "[true]"
    );
    assert_eq!(next_event(&mut good).await, ("t".into(), ",1]".into()));
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("bad event"), "the reason is logged: {log}");
}
