//! Broadcast latency: clients in rooms of `room_size`; a sender has the server `broadcast` an
//! event carrying the send time to a random room at a fixed rate. Measures the delivery latency
//! (reception minus send time, one clock) of every delivery after the warm-up.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{ClientErrors, Ctx, Metrics};
use crate::client::{join_rooms, open_many, Conn};
use crate::clock::{now_ns, ns_at};
use crate::rng::Rng;
use crate::sio::{filler, leading_numbers, Packet};
use crate::stats::percentile;
use crate::Res;

/// Time allowed after the last send for the last deliveries.
const DRAIN: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    delivered: Cell<u64>,
    /// Latencies (ns) of deliveries of events sent at or after `record_from` (ns).
    samples: RefCell<Vec<u64>>,
    record_from: Cell<u64>,
    errors: ClientErrors,
}

async fn receive(mut conn: Conn, st: Rc<State>) {
    loop {
        let sent = match conn.next().await {
            Ok(Packet::Event {
                name: b"t", rest, ..
            }) => leading_numbers::<1>(rest),
            Ok(_) => continue,
            Err(e) => {
                st.errors.record(&e);
                return;
            }
        };
        st.delivered.set(st.delivered.get() + 1);
        if let Some([sent]) = sent {
            if sent >= st.record_from.get() {
                let latency = ns_at(conn.read_at()).saturating_sub(sent);
                st.samples.borrow_mut().push(latency);
            }
        }
    }
}

/// Runs the latency scenario: `rate` broadcasts per second of `size` bytes to rooms of
/// `room_size`, measured for `duration` after `warmup`.
pub async fn run(
    ctx: &Ctx,
    clients: usize,
    room_size: usize,
    rate: f64,
    warmup: Duration,
    duration: Duration,
    size: usize,
) -> Res<Metrics> {
    let rooms = (clients / room_size).max(1) as u64;
    let mut conns = open_many(ctx.addr, clients, ctx.concurrency).await?;
    let mut sender = Conn::open(ctx.addr).await?;
    join_rooms(&mut conns, |i| format!("L{}", i / room_size)).await?;

    let st = Rc::new(State::default());
    st.samples
        .borrow_mut()
        .reserve((rate * duration.as_secs_f64()) as usize * room_size + 1024);
    for conn in conns {
        tokio::task::spawn_local(receive(conn, st.clone()));
    }

    let payload = filler(size);
    let mut rng = Rng::new(7);
    let total = (rate * (warmup + duration).as_secs_f64()).round() as u64;
    let start = Instant::now();
    let measure_from = start + warmup;
    st.record_from.set(ns_at(measure_from));
    let mut window = None;
    let (mut sent, mut sent_in_window, mut acks) = (0u64, 0u64, 0u64);
    while sent < total {
        let now = Instant::now();
        if window.is_none() && now >= measure_from {
            window = Some((ctx.begin()?, st.delivered.get()));
        }
        let due = (((now - start).as_secs_f64() * rate) as u64 + 1).min(total);
        while sent < due {
            let room = rng.below(rooms);
            sent += 1;
            if window.is_some() {
                sent_in_window += 1;
            }
            sender.queue_event(
                Some(sent),
                "broadcast",
                format_args!(
                    "{{\"from\":\"server\",\"to\":[\"L{room}\"],\"event\":\"t\",\"args\":[{},{payload}]}}",
                    now_ns()
                ),
            );
        }
        sender.flush().await?;
        let next_due = start + Duration::from_secs_f64(sent as f64 / rate);
        loop {
            tokio::select! {
                packet = sender.next() => {
                    if let Packet::Ack { .. } = packet? {
                        acks += 1;
                    }
                }
                _ = tokio::time::sleep_until(next_due.into()) => break,
            }
        }
    }
    let (window, delivered_before) = match window {
        Some(w) => w,
        None => (ctx.begin()?, st.delivered.get()),
    };
    let measured = ctx.end(window)?;
    let delivered_in_window = st.delivered.get() - delivered_before;

    let expected = total * room_size as u64;
    let drain_end = Instant::now() + DRAIN;
    while st.delivered.get() < expected && Instant::now() < drain_end {
        tokio::select! {
            packet = sender.next() => {
                if let Packet::Ack { .. } = packet? {
                    acks += 1;
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }

    let mut samples = std::mem::take(&mut *st.samples.borrow_mut());
    samples.sort_unstable();
    let us = |p: f64| percentile(&samples, p) / 1e3;
    let delivered = st.delivered.get();
    let mut m = Metrics::default();
    m.push("p50_us", us(50.0));
    m.push("p99_us", us(99.0));
    m.push("p999_us", us(99.9));
    m.push("max_us", us(100.0));
    m.push("samples", samples.len() as f64);
    m.push("sent", total as f64);
    m.push(
        "sent_per_s",
        sent_in_window as f64 / measured.wall.as_secs_f64(),
    );
    m.push("acks", acks as f64);
    m.push("delivered", delivered as f64);
    m.push("expected", expected as f64);
    m.push("delivered_pct", 100.0 * delivered as f64 / expected as f64);
    m.push(
        "server_cpu_us_per_delivery",
        measured.server_cpu.as_secs_f64() * 1e6 / delivered_in_window.max(1) as f64,
    );
    measured.report(&mut m);
    st.errors.report(&mut m);
    if delivered < expected {
        m.notes.push(format!(
            "{} of {expected} deliveries missing",
            expected - delivered
        ));
    }
    Ok(m)
}
