//! Connection setup: `clients` Socket.IO connections (WebSocket upgrade, Engine.IO open, CONNECT
//! of `/`) opened as fast as the bounded concurrency allows. Measures connections per second,
//! server CPU per connection, and the server's RSS per idle connection once they are all open;
//! then one broadcast to all of them, counting who got it.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::{ClientErrors, Ctx, Metrics};
use crate::client::{open_many, Conn};
use crate::load::listen_overflows;
use crate::procstat;
use crate::sio::Packet;
use crate::Res;

/// How long the broadcast to the idle connections may go without a delivery.
const QUIET: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Idle {
    /// Connections that received the broadcast.
    reached: Cell<usize>,
    all_reached: Notify,
    errors: ClientErrors,
}

/// Keeps a connection open: reads (and so answers heartbeats) until it fails, and counts the
/// broadcast when it comes.
async fn idle(mut conn: Conn, st: Rc<Idle>, clients: usize) {
    loop {
        match conn.next().await {
            Ok(Packet::Event { name: b"all", .. }) => {
                st.reached.set(st.reached.get() + 1);
                if st.reached.get() == clients {
                    st.all_reached.notify_one();
                }
            }
            Ok(_) => {}
            Err(e) => {
                st.errors.record(&e);
                return;
            }
        }
    }
}

/// Has the server emit one event to every socket of `/`; waits until all `clients` have it,
/// or no more come for [`QUIET`]. Returns how many got it.
async fn broadcast_to_all(ctx: &Ctx, st: &Idle, clients: usize) -> Res<usize> {
    let mut control = Conn::open(ctx.addr).await?;
    control.queue_event(
        Some(1),
        "blast",
        format_args!("{{\"event\":\"all\",\"count\":1,\"payload\":0}}"),
    );
    control.flush().await?;
    let mut seen = st.reached.get();
    while st.reached.get() < clients {
        tokio::select! {
            _ = st.all_reached.notified() => {}
            packet = control.next() => { packet?; }
            _ = tokio::time::sleep(QUIET) => {
                if st.reached.get() == seen {
                    break;
                }
                seen = st.reached.get();
            }
        }
    }
    Ok(st.reached.get())
}

/// Runs the connection scenario: opens `clients` connections, then lets them idle for `settle`.
pub async fn run(ctx: &Ctx, clients: usize, settle: Duration) -> Res<Metrics> {
    // A short pause so that what the server does after start-up is over.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = procstat::sample(ctx.pid)?;
    let overflows = listen_overflows().ok();
    let window = ctx.begin()?;
    let t0 = Instant::now();
    let conns = open_many(ctx.addr, clients, ctx.concurrency).await?;
    let elapsed = t0.elapsed();
    let measured = ctx.end(window)?;
    // Connections the kernel dropped because the server's accept queue was full: each costs a
    // SYN retransmission (1 s), so the rate then says more about the backlog than the server.
    let overflowed = match (overflows, listen_overflows().ok()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64,
        _ => f64::NAN,
    };

    let st = Rc::new(Idle::default());
    for conn in conns {
        tokio::task::spawn_local(idle(conn, st.clone(), clients));
    }
    tokio::time::sleep(settle).await;
    let after = procstat::sample(ctx.pid)?;
    let reached = broadcast_to_all(ctx, &st, clients).await?;

    let mut m = Metrics::default();
    m.push("conns_per_s", clients as f64 / elapsed.as_secs_f64());
    m.push(
        "rss_kib_per_conn",
        (after.rss as f64 - before.rss as f64) / 1024.0 / clients as f64,
    );
    m.push(
        "server_cpu_us_per_conn",
        measured.server_cpu.as_secs_f64() * 1e6 / clients as f64,
    );
    m.push("rss_before_mib", before.rss as f64 / (1 << 20) as f64);
    m.push("rss_after_mib", after.rss as f64 / (1 << 20) as f64);
    m.push("peak_rss_mib", after.hwm as f64 / (1 << 20) as f64);
    m.push("listen_overflows", overflowed);
    m.push(
        "broadcast_reached_pct",
        100.0 * reached as f64 / clients as f64,
    );
    if overflowed > 0.0 {
        m.notes.push(format!(
            "{overflowed} connection attempts overflowed an accept queue (of any listener on \
             the machine); lower --concurrency below the server's listen backlog"
        ));
    }
    if reached < clients {
        m.notes.push(format!(
            "the broadcast after the idle period reached {reached} of {clients} connections"
        ));
    }
    measured.report(&mut m);
    st.errors.report(&mut m);
    Ok(m)
}
