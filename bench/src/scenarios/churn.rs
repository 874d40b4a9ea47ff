//! Membership churn: clients keep joining a random room, staying a random time and leaving it,
//! while a sender keeps `window` `broadcast`s (server to one random room, numbered per room) in
//! flight. Measures deliveries per second and checks, for every completed membership, that the
//! member received every message of its room that was sent after its join was acknowledged and
//! acknowledged to the sender before the member asked to leave; and that no message sent after
//! a leave was acknowledged reaches the former member.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{ClientErrors, Ctx, Metrics};
use crate::client::{open_many, Conn};
use crate::rng::Rng;
use crate::sio::{leading_numbers, Packet};
use crate::Res;

/// Per room: messages sent and acknowledged.
#[derive(Default)]
struct RoomLog {
    /// Sequence number of the next message.
    next_seq: u64,
    /// Acknowledged flags, by sequence number.
    acked: Vec<bool>,
    /// Every message below this number is acknowledged.
    acked_upto: u64,
}

#[derive(Default)]
struct State {
    rooms: RefCell<Vec<RoomLog>>,
    stop: Cell<bool>,
    delivered: Cell<u64>,
    broadcasts_acked: Cell<u64>,
    room_changes: Cell<u64>,
    /// Memberships checked, messages they required, and what was wrong.
    memberships: Cell<u64>,
    required: Cell<u64>,
    missing: Cell<u64>,
    duplicates: Cell<u64>,
    spurious: Cell<u64>,
    errors: ClientErrors,
}

impl State {
    fn add(cell: &Cell<u64>, n: u64) {
        cell.set(cell.get() + n);
    }
}

/// What one client knows about its rooms.
struct Member {
    /// The room it is joining, in, or leaving, with the sequence numbers received for it since
    /// it asked to join.
    current: Option<(usize, Vec<u64>)>,
    /// Per room: the next sequence number when the last leave was acknowledged; messages from
    /// that number on must not arrive while the client is out of the room.
    left_mark: Vec<u64>,
}

impl Member {
    fn on_packet(&mut self, st: &State, packet: Packet<'_>) -> Option<u64> {
        match packet {
            Packet::Event {
                name: b"c", rest, ..
            } => {
                State::add(&st.delivered, 1);
                let [room, seq] = leading_numbers::<2>(rest)?;
                let room = room as usize;
                match &mut self.current {
                    Some((r, seen)) if *r == room => seen.push(seq),
                    _ => {
                        if self.left_mark.get(room).is_some_and(|&mark| seq >= mark) {
                            State::add(&st.spurious, 1);
                        }
                    }
                }
                None
            }
            Packet::Ack { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// Reads packets until the acknowledgement `id`, handing events to `member`.
async fn until_ack(conn: &mut Conn, member: &mut Member, st: &State, id: u64) -> Res<()> {
    loop {
        let packet = conn.next().await?;
        if member.on_packet(st, packet) == Some(id) {
            return Ok(());
        }
    }
}

async fn member_loop(
    conn: &mut Conn,
    st: &State,
    rooms: usize,
    dwell: (u64, u64),
    seed: u64,
) -> Res<()> {
    let mut rng = Rng::new(seed);
    let mut member = Member {
        current: None,
        left_mark: vec![0; rooms],
    };
    let mut id = 0u64;
    while !st.stop.get() {
        let room = rng.below(rooms as u64) as usize;
        id += 1;
        member.current = Some((room, Vec::new()));
        conn.queue_event(Some(id), "join", format_args!("\"C{room}\""));
        conn.flush().await?;
        until_ack(conn, &mut member, st, id).await?;
        let first_required = st.rooms.borrow()[room].next_seq;
        State::add(&st.room_changes, 1);

        let stay = dwell.0 + rng.below(dwell.1.saturating_sub(dwell.0) + 1);
        let until = Instant::now() + Duration::from_millis(stay);
        loop {
            tokio::select! {
                packet = conn.next() => { member.on_packet(st, packet?); }
                _ = tokio::time::sleep_until(until.into()) => break,
            }
        }

        let end_required = st.rooms.borrow()[room].acked_upto;
        id += 1;
        conn.queue_event(Some(id), "leave", format_args!("\"C{room}\""));
        conn.flush().await?;
        until_ack(conn, &mut member, st, id).await?;
        State::add(&st.room_changes, 1);
        member.left_mark[room] = st.rooms.borrow()[room].next_seq;

        let Some((_, mut seen)) = member.current.take() else {
            continue;
        };
        seen.sort_unstable();
        let before = seen.len();
        seen.dedup();
        State::add(&st.duplicates, (before - seen.len()) as u64);
        if end_required > first_required {
            let required = end_required - first_required;
            let received = seen
                .iter()
                .filter(|&&s| s >= first_required && s < end_required)
                .count() as u64;
            State::add(&st.required, required);
            State::add(&st.missing, required - received);
        }
        State::add(&st.memberships, 1);
    }
    Ok(())
}

async fn sender_loop(conn: &mut Conn, st: &State, rooms: usize, window: usize) -> Res<()> {
    let mut rng = Rng::new(99);
    let mut in_flight: HashMap<u64, (usize, u64)> = HashMap::new();
    let mut id = 0u64;
    while !st.stop.get() {
        while in_flight.len() < window {
            let room = rng.below(rooms as u64) as usize;
            let seq = {
                let mut logs = st.rooms.borrow_mut();
                let log = &mut logs[room];
                let seq = log.next_seq;
                log.next_seq += 1;
                log.acked.push(false);
                seq
            };
            id += 1;
            in_flight.insert(id, (room, seq));
            conn.queue_event(
                Some(id),
                "broadcast",
                format_args!(
                    "{{\"from\":\"server\",\"to\":[\"C{room}\"],\"event\":\"c\",\"args\":[{room},{seq}]}}"
                ),
            );
        }
        conn.flush().await?;
        let acked = match conn.next().await? {
            Packet::Ack { id, .. } => in_flight.remove(&id),
            _ => None,
        };
        if let Some((room, seq)) = acked {
            State::add(&st.broadcasts_acked, 1);
            let mut logs = st.rooms.borrow_mut();
            let log = &mut logs[room];
            log.acked[seq as usize] = true;
            while log
                .acked
                .get(log.acked_upto as usize)
                .copied()
                .unwrap_or(false)
            {
                log.acked_upto += 1;
            }
        }
    }
    Ok(())
}

/// Runs the churn scenario: `clients` sockets moving among `rooms` rooms for `duration` while
/// `window` broadcasts stay in flight.
pub async fn run(
    ctx: &Ctx,
    clients: usize,
    rooms: usize,
    dwell_ms: (u64, u64),
    window: usize,
    duration: Duration,
) -> Res<Metrics> {
    let conns = open_many(ctx.addr, clients, ctx.concurrency).await?;
    let mut sender = Conn::open(ctx.addr).await?;
    let st = Rc::new(State::default());
    st.rooms.borrow_mut().resize_with(rooms, RoomLog::default);

    let w = ctx.begin()?;
    let mut members = Vec::with_capacity(clients);
    for (i, mut conn) in conns.into_iter().enumerate() {
        let st = st.clone();
        members.push(tokio::task::spawn_local(async move {
            if let Err(e) = member_loop(&mut conn, &st, rooms, dwell_ms, 1000 + i as u64).await {
                st.errors.record(&e);
            }
            conn
        }));
    }
    let sending = {
        let st = st.clone();
        tokio::task::spawn_local(async move {
            if let Err(e) = sender_loop(&mut sender, &st, rooms, window).await {
                st.errors.record(&e);
            }
            sender
        })
    };
    tokio::time::sleep(duration).await;
    let delivered = st.delivered.get();
    let broadcasts = st.broadcasts_acked.get();
    let changes = st.room_changes.get();
    let measured = ctx.end(w)?;
    st.stop.set(true);
    // Members finish their current membership (and its check) before stopping.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut kept = Vec::with_capacity(clients);
    for member in members {
        if let Ok(Ok(conn)) = tokio::time::timeout_at(deadline, member).await {
            kept.push(conn);
        }
    }
    let _ = tokio::time::timeout_at(deadline, sending).await;

    let secs = measured.wall.as_secs_f64();
    let mut m = Metrics::default();
    m.push("deliveries_per_s", delivered as f64 / secs);
    m.push("violations", st.missing.get() as f64);
    m.push("spurious", st.spurious.get() as f64);
    m.push("duplicates", st.duplicates.get() as f64);
    m.push("broadcasts_per_s", broadcasts as f64 / secs);
    m.push("room_changes_per_s", changes as f64 / secs);
    m.push("memberships_checked", st.memberships.get() as f64);
    m.push("required_checked", st.required.get() as f64);
    measured.report(&mut m);
    st.errors.report(&mut m);
    if st.missing.get() > 0 {
        m.notes.push(format!(
            "{} required deliveries missing over {} memberships",
            st.missing.get(),
            st.memberships.get()
        ));
    }
    Ok(m)
}
