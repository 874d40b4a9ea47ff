//! Fan-out: every client is in one room, and one `blast` has the server emit `msgs` events to
//! the room. Measures deliveries per second from the blast request to the last delivery, server
//! CPU per delivery, and the server's peak RSS; counts what did not arrive.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::{ClientErrors, Ctx, Metrics};
use crate::client::{join_rooms, open_many, Conn};
use crate::sio::{filler, leading_numbers, Packet};
use crate::Res;

/// Time without any delivery, after the blast was acknowledged, after which the missing
/// deliveries are taken as dropped.
const QUIET: Duration = Duration::from_secs(1);
const ROOM: &str = "fan";
const BLAST_ID: u64 = 1;

#[derive(Default)]
struct State {
    delivered: Cell<u64>,
    /// Clients that received every message, or whose connection failed.
    finished: Cell<usize>,
    /// Deliveries whose index was not above the previous one on the same connection.
    disordered: Cell<u64>,
    last: Cell<Option<Instant>>,
    all_done: Notify,
    errors: ClientErrors,
}

impl State {
    fn finish(&self, clients: usize) {
        self.finished.set(self.finished.get() + 1);
        if self.finished.get() == clients {
            self.all_done.notify_one();
        }
    }
}

async fn receive(mut conn: Conn, st: Rc<State>, msgs: u64, clients: usize) {
    let mut got = 0u64;
    let mut next_index = 0u64;
    loop {
        let index = match conn.next().await {
            Ok(Packet::Event {
                name: b"m", rest, ..
            }) => leading_numbers::<1>(rest).map(|[i]| i),
            Ok(_) => continue,
            Err(e) => {
                st.errors.record(&e);
                st.finish(clients);
                return;
            }
        };
        got += 1;
        st.delivered.set(st.delivered.get() + 1);
        st.last.set(Some(conn.read_at()));
        match index {
            Some(i) if i >= next_index => next_index = i + 1,
            _ => st.disordered.set(st.disordered.get() + 1),
        }
        if got == msgs {
            st.finish(clients);
        }
    }
}

/// Runs the fan-out scenario: `clients` sockets in one room, one blast of `msgs` events of
/// `size` bytes.
pub async fn run(ctx: &Ctx, clients: usize, msgs: usize, size: usize) -> Res<Metrics> {
    let mut conns = open_many(ctx.addr, clients, ctx.concurrency).await?;
    let mut control = Conn::open(ctx.addr).await?;
    join_rooms(&mut conns, |_| ROOM.to_owned()).await?;

    let st = Rc::new(State::default());
    for conn in conns {
        tokio::task::spawn_local(receive(conn, st.clone(), msgs as u64, clients));
    }
    tokio::task::yield_now().await;

    let payload = filler(size);
    let window = ctx.begin()?;
    let t0 = Instant::now();
    control.queue_event(
        Some(BLAST_ID),
        "blast",
        format_args!(
            "{{\"to\":[\"{ROOM}\"],\"event\":\"m\",\"count\":{msgs},\"payload\":{payload}}}"
        ),
    );
    control.flush().await?;
    let mut acked_at: Option<Instant> = None;
    while st.finished.get() < clients {
        tokio::select! {
            _ = st.all_done.notified() => {}
            packet = control.next() => {
                if let Packet::Ack { id: BLAST_ID, .. } = packet? {
                    acked_at = Some(Instant::now());
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                if let Some(acked) = acked_at {
                    let last = st.last.get().map_or(acked, |l| l.max(acked));
                    if last.elapsed() >= QUIET {
                        break;
                    }
                }
            }
        }
    }
    let measured = ctx.end(window)?;

    let expected = (clients * msgs) as u64;
    let delivered = st.delivered.get();
    let span = st
        .last
        .get()
        .map_or(Duration::ZERO, |l| l.saturating_duration_since(t0));
    let mut m = Metrics::default();
    m.push("deliveries_per_s", delivered as f64 / span.as_secs_f64());
    m.push(
        "server_cpu_us_per_delivery",
        measured.server_cpu.as_secs_f64() * 1e6 / delivered as f64,
    );
    m.push(
        "peak_rss_mib",
        measured.server_end.hwm as f64 / (1 << 20) as f64,
    );
    m.push("delivered", delivered as f64);
    m.push("expected", expected as f64);
    m.push("delivered_pct", 100.0 * delivered as f64 / expected as f64);
    m.push("disordered", st.disordered.get() as f64);
    m.push("span_ms", span.as_secs_f64() * 1e3);
    m.push(
        "blast_ack_ms",
        acked_at.map_or(f64::NAN, |a| (a - t0).as_secs_f64() * 1e3),
    );
    // CPU busy over the delivery span (the measured window also holds the wait for stragglers).
    m.push(
        "client_cpu_busy_pct",
        100.0 * measured.own_cpu.as_secs_f64() / span.as_secs_f64().max(1e-9),
    );
    m.push("server_cpu_ms", measured.server_cpu.as_secs_f64() * 1e3);
    m.push(
        "server_stat_cpu_ms",
        measured.server_stat_cpu.as_secs_f64() * 1e3,
    );
    measured.report_foreign(&mut m);
    st.errors.report(&mut m);
    if delivered < expected {
        m.notes.push(format!(
            "{} of {expected} deliveries missing",
            expected - delivered
        ));
    }
    Ok(m)
}
