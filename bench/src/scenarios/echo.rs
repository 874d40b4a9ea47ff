//! Acknowledged round trips: every client sends `echo` with a payload, waits for the
//! acknowledgement carrying it back, and sends the next. Measures acknowledgements per second,
//! round-trip percentiles, and server CPU per acknowledgement.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{ClientErrors, Ctx, Metrics};
use crate::client::{open_many, Conn};
use crate::sio::filler;
use crate::stats::percentile;
use crate::Res;

#[derive(Default)]
struct State {
    measuring: Cell<bool>,
    stop: Cell<bool>,
    acks: Cell<u64>,
    /// Round trips (ns) started and finished while measuring.
    samples: RefCell<Vec<u64>>,
    errors: ClientErrors,
}

async fn round_trips(mut conn: Conn, st: Rc<State>, payload: Rc<String>) {
    let mut id = 0u64;
    while !st.stop.get() {
        id += 1;
        let counted = st.measuring.get();
        let sent_at = Instant::now();
        conn.queue_event(Some(id), "echo", format_args!("{payload}"));
        let done = async {
            conn.flush().await?;
            conn.wait_ack(id).await
        };
        if let Err(e) = done.await {
            st.errors.record(&e);
            return;
        }
        if counted && st.measuring.get() {
            st.acks.set(st.acks.get() + 1);
            let rtt = conn.read_at().saturating_duration_since(sent_at);
            st.samples.borrow_mut().push(rtt.as_nanos() as u64);
        }
    }
}

/// Runs the echo scenario: `clients` sockets doing round trips of `size` bytes, measured for
/// `duration` after `warmup`.
pub async fn run(
    ctx: &Ctx,
    clients: usize,
    warmup: Duration,
    duration: Duration,
    size: usize,
) -> Res<Metrics> {
    let conns = open_many(ctx.addr, clients, ctx.concurrency).await?;
    let st = Rc::new(State::default());
    let payload = Rc::new(filler(size));
    let mut tasks = Vec::with_capacity(clients);
    for conn in conns {
        tasks.push(tokio::task::spawn_local(round_trips(
            conn,
            st.clone(),
            payload.clone(),
        )));
    }
    tokio::time::sleep(warmup).await;
    let window = ctx.begin()?;
    st.measuring.set(true);
    tokio::time::sleep(duration).await;
    st.measuring.set(false);
    let measured = ctx.end(window)?;
    st.stop.set(true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    for task in tasks {
        let _ = tokio::time::timeout_at(deadline, task).await;
    }

    let acks = st.acks.get();
    let mut samples = std::mem::take(&mut *st.samples.borrow_mut());
    samples.sort_unstable();
    let mut m = Metrics::default();
    m.push("acks_per_s", acks as f64 / measured.wall.as_secs_f64());
    m.push("p50_us", percentile(&samples, 50.0) / 1e3);
    m.push("p99_us", percentile(&samples, 99.0) / 1e3);
    m.push(
        "server_cpu_us_per_ack",
        measured.server_cpu.as_secs_f64() * 1e6 / acks.max(1) as f64,
    );
    m.push("acks", acks as f64);
    measured.report(&mut m);
    st.errors.report(&mut m);
    Ok(m)
}
