//! Connection setup: `clients` Socket.IO connections (WebSocket upgrade, Engine.IO open, CONNECT
//! of `/`) opened as fast as the bounded concurrency allows. Measures connections per second,
//! server CPU per connection, and the server's RSS per idle connection once they are all open.

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{ClientErrors, Ctx, Metrics};
use crate::client::{open_many, Conn};
use crate::load::listen_overflows;
use crate::procstat;
use crate::Res;

/// Keeps a connection open: reads (and so answers heartbeats) until it fails.
async fn idle(mut conn: Conn, errors: Rc<ClientErrors>) {
    loop {
        if let Err(e) = conn.next().await {
            errors.record(&e);
            return;
        }
    }
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

    let errors = Rc::new(ClientErrors::default());
    for conn in conns {
        tokio::task::spawn_local(idle(conn, errors.clone()));
    }
    tokio::time::sleep(settle).await;
    let after = procstat::sample(ctx.pid)?;

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
    if overflowed > 0.0 {
        m.notes.push(format!(
            "{overflowed} connection attempts overflowed an accept queue (of any listener on \
             the machine); lower --concurrency below the server's listen backlog"
        ));
    }
    measured.report(&mut m);
    errors.report(&mut m);
    Ok(m)
}
