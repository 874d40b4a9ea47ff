//! cluster-bench: three servers on one Redis, one room spread over all of them, for roomcast
//! (its Redis adapter), Node's socket.io (`@socket.io/redis-adapter`) and socketioxide
//! (`socketioxide-redis`), in interleaved rounds. With `--adapter redis-streams`, roomcast and
//! Node through their Redis Streams adapters (`@socket.io/redis-streams-adapter`; socketioxide
//! has none).
//!
//! Each round and server: a `redis-server` and three servers of that kind (all pinned to the
//! servers' core, the load generator to its own), `clients` WebSocket clients spread evenly over
//! the three, all in one room. Then:
//!
//! * throughput: one `blast` of `msgs` events to the room, sent to the first server (which
//!   delivers to its own clients and publishes once to Redis for the two others): deliveries per
//!   second from the request to the last delivery, and CPU per delivery of the servers and
//!   Redis together;
//! * latency: `rate` single-event blasts per second for `latency-secs`, each carrying its send
//!   time: the delay of every delivery, p50 / p99 / p99.9 (all servers' clients, and the two
//!   remote servers' alone).
//!
//! Results go to `bench/results/cluster.jsonl` (one line per round and server) and a markdown
//! table of medians to stdout. See bench/README.md for the command and the recorded runs.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use roomcast_bench::client::{join_rooms, open_many, Conn};
use roomcast_bench::servers::{free_port, launch_command, Programs, Running};
use roomcast_bench::sio::{filler, leading_numbers, Packet};
use roomcast_bench::stats::percentile;
use roomcast_bench::{os, procstat, Res};

const ROOM: &str = "fan";
const NODES: usize = 3;
/// Time without any delivery after which missing deliveries count as dropped.
const QUIET: Duration = Duration::from_secs(2);
const READY: Duration = Duration::from_secs(20);

/// The servers compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Roomcast,
    Node,
    Socketioxide,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Roomcast, Kind::Node, Kind::Socketioxide];

    fn name(self) -> &'static str {
        match self {
            Kind::Roomcast => "roomcast",
            Kind::Node => "node",
            Kind::Socketioxide => "socketioxide",
        }
    }
}

/// Command-line options.
struct Opts {
    kinds: Vec<Kind>,
    /// The probes' `ADAPTER`: `redis` or `redis-streams`.
    adapter: String,
    rounds: usize,
    clients: usize,
    msgs: usize,
    size: usize,
    rate: u32,
    latency_secs: u64,
    server_cpu: usize,
    client_cpu: usize,
    out: Option<PathBuf>,
}

fn parse_opts(root: &Path) -> Res<Opts> {
    let mut opts = Opts {
        kinds: Kind::ALL.to_vec(),
        adapter: "redis".to_owned(),
        rounds: 3,
        clients: 900,
        msgs: 200,
        size: 64,
        rate: 20,
        latency_secs: 10,
        server_cpu: 0,
        client_cpu: 1,
        out: Some(root.join("bench/results/cluster.jsonl")),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--server" => {
                opts.kinds = value()?
                    .split(',')
                    .map(|name| {
                        Kind::ALL
                            .into_iter()
                            .find(|kind| kind.name() == name)
                            .ok_or(format!("unknown server {name}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--adapter" => opts.adapter = value()?,
            "--rounds" => opts.rounds = value()?.parse()?,
            "--clients" => opts.clients = value()?.parse()?,
            "--msgs" => opts.msgs = value()?.parse()?,
            "--size" => opts.size = value()?.parse()?,
            "--rate" => opts.rate = value()?.parse()?,
            "--latency-secs" => opts.latency_secs = value()?.parse()?,
            "--server-cpu" => opts.server_cpu = value()?.parse()?,
            "--client-cpu" => opts.client_cpu = value()?.parse()?,
            "--out" => opts.out = Some(PathBuf::from(value()?)),
            "--no-record" => opts.out = None,
            "--help" | "-h" => {
                println!(
                    "usage: cluster-bench [--server roomcast,node,socketioxide] \
                     [--adapter redis|redis-streams] [--rounds 3] \
                     [--clients 900] [--msgs 200] [--size 64] [--rate 20] [--latency-secs 10] \
                     [--server-cpu 0] [--client-cpu 1] [--out FILE | --no-record]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown option {other} (see --help)").into()),
        }
    }
    match opts.adapter.as_str() {
        "redis" => {}
        "redis-streams" if !opts.kinds.contains(&Kind::Socketioxide) => {}
        "redis-streams" => {
            return Err(
                "socketioxide has no Redis Streams adapter: pick --server roomcast,node".into(),
            )
        }
        other => return Err(format!("unknown adapter {other}").into()),
    }
    Ok(opts)
}

/// A redis-server on a free port, pinned to `cpu`.
struct Redis {
    child: Child,
    pid: u32,
    url: String,
}

impl Redis {
    fn start(cpu: usize) -> Res<Redis> {
        let port = free_port()?;
        let child = Command::new("taskset")
            .arg("-c")
            .arg(cpu.to_string())
            .arg("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server: {e}"))?;
        let pid = child.id();
        let deadline = Instant::now() + READY;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("redis-server did not start".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Redis {
            child,
            pid,
            url: format!("redis://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts one server of `kind` on the cluster's Redis.
fn start_node(
    kind: Kind,
    programs: &Programs,
    opts: &Opts,
    redis: &Redis,
    log: PathBuf,
) -> Res<Running> {
    let mut cmd = Command::new("taskset");
    cmd.arg("-c").arg(opts.server_cpu.to_string());
    match kind {
        Kind::Roomcast => cmd.arg(&programs.roomcast),
        Kind::Node => cmd.arg(&programs.node).arg(&programs.node_probe),
        Kind::Socketioxide => cmd.arg(&programs.socketioxide_cluster),
    };
    cmd.env("ADAPTER", &opts.adapter)
        .env("REDIS_URL", &redis.url);
    launch_command(cmd, kind.name(), log, READY)
}

/// What one round of one server measured.
#[derive(Debug, Default)]
struct Round {
    deliveries_per_s: f64,
    delivered_pct: f64,
    cpu_us_per_delivery: f64,
    latency_p50_us: f64,
    latency_p99_us: f64,
    latency_p999_us: f64,
    remote_p99_us: f64,
    latency_deliveries: usize,
}

/// Microseconds since the epoch (client and servers share the clock).
fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[derive(Default)]
struct Counts {
    delivered: Cell<u64>,
    last: Cell<Option<Instant>>,
    latencies: RefCell<Vec<u64>>,
    remote_latencies: RefCell<Vec<u64>>,
}

/// Reads a client's deliveries: `m` events count for throughput, `lat` events carry their send
/// time.
async fn receive(mut conn: Conn, counts: Rc<Counts>, remote: bool) {
    loop {
        match conn.next().await {
            Ok(Packet::Event { name: b"m", .. }) => {
                counts.delivered.set(counts.delivered.get() + 1);
                counts.last.set(Some(conn.read_at()));
            }
            Ok(Packet::Event {
                name: b"lat", rest, ..
            }) => {
                if let Some([_, sent]) = leading_numbers::<2>(rest) {
                    let latency = now_us().saturating_sub(sent);
                    counts.latencies.borrow_mut().push(latency);
                    if remote {
                        counts.remote_latencies.borrow_mut().push(latency);
                    }
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// Waits until `expected` deliveries have come, or none for [`QUIET`].
async fn wait_for(counts: &Counts, expected: u64, since: Instant) {
    while counts.delivered.get() < expected {
        if counts.last.get().unwrap_or(since).elapsed() > QUIET {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn cpu_of(pids: &[u32]) -> Duration {
    pids.iter()
        .filter_map(|pid| procstat::sample(*pid).ok())
        .map(|sample| sample.cpu)
        .sum()
}

async fn measure(opts: &Opts, nodes: &[Running], redis: &Redis) -> Res<Round> {
    let per_node = opts.clients / NODES;
    let counts = Rc::new(Counts::default());
    for (i, node) in nodes.iter().enumerate() {
        let mut conns = open_many(node.addr, per_node, 64).await?;
        join_rooms(&mut conns, |_| ROOM.to_owned()).await?;
        for conn in conns {
            tokio::task::spawn_local(receive(conn, counts.clone(), i > 0));
        }
    }
    let mut control = Conn::open(nodes[0].addr).await?;
    // Joins reach every server through Redis: give them a moment, and check with a fetch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pids: Vec<u32> = nodes.iter().map(|n| n.pid).chain([redis.pid]).collect();

    // Warm-up (a JIT compiles its hot paths): one untimed blast, every delivery awaited.
    let blast = |control: &mut Conn, id: u64, event: &str, count: usize, payload: &str| {
        control.queue_event(
            Some(id),
            "blast",
            format_args!(
                "{{\"to\":[\"{ROOM}\"],\"event\":\"{event}\",\"count\":{count},\"payload\":{payload}}}"
            ),
        );
    };
    let payload = filler(opts.size);
    let per_blast = (per_node * NODES * opts.msgs) as u64;
    blast(&mut control, 1, "m", opts.msgs, &payload);
    control.flush().await?;
    control.wait_ack(1).await?;
    wait_for(&counts, per_blast, Instant::now()).await;
    counts.delivered.set(0);
    counts.last.set(None);

    // Throughput.
    let expected = per_blast;
    let cpu0 = cpu_of(&pids);
    let t0 = Instant::now();
    blast(&mut control, 2, "m", opts.msgs, &payload);
    control.flush().await?;
    control.wait_ack(2).await?;
    wait_for(&counts, expected, t0).await;
    let cpu = cpu_of(&pids).saturating_sub(cpu0);
    let delivered = counts.delivered.get();
    let span = counts
        .last
        .get()
        .map_or(Duration::ZERO, |last| last.saturating_duration_since(t0));
    let mut round = Round {
        deliveries_per_s: delivered as f64 / span.as_secs_f64().max(1e-9),
        delivered_pct: 100.0 * delivered as f64 / expected as f64,
        cpu_us_per_delivery: cpu.as_secs_f64() * 1e6 / delivered.max(1) as f64,
        ..Round::default()
    };

    // Latency: paced single-event blasts.
    let interval = Duration::from_secs_f64(1.0 / f64::from(opts.rate.max(1)));
    let sends = u64::from(opts.rate) * opts.latency_secs;
    let start = tokio::time::Instant::now();
    for i in 0..sends {
        tokio::time::sleep_until(start + interval * i as u32).await;
        blast(&mut control, 3 + i, "lat", 1, &now_us().to_string());
        control.flush().await?;
    }
    control.wait_ack(2 + sends).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut all = counts.latencies.borrow().clone();
    let mut remote = counts.remote_latencies.borrow().clone();
    all.sort_unstable();
    remote.sort_unstable();
    round.latency_deliveries = all.len();
    round.latency_p50_us = percentile(&all, 50.0);
    round.latency_p99_us = percentile(&all, 99.0);
    round.latency_p999_us = percentile(&all, 99.9);
    round.remote_p99_us = percentile(&remote, 99.0);
    Ok(round)
}

fn run_round(
    kind: Kind,
    programs: &Programs,
    opts: &Opts,
    logs: &Path,
    round: usize,
) -> Res<Round> {
    let redis = Redis::start(opts.server_cpu)?;
    let mut nodes = Vec::new();
    for i in 0..NODES {
        let log = logs.join(format!("cluster-{}-{round}-{i}.log", kind.name()));
        nodes.push(start_node(kind, programs, opts, &redis, log)?);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&rt, measure(opts, &nodes, &redis));
    drop(local);
    for node in &mut nodes {
        node.stop();
    }
    result
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> Res<()> {
    let root = std::env::current_dir()?;
    let opts = parse_opts(&root)?;
    let programs = Programs::defaults(&root);
    os::pin_to_cpu(opts.client_cpu)?;
    let logs = std::env::temp_dir().join("roomcast-cluster-bench");
    std::fs::create_dir_all(&logs)?;
    let suite = now_us() / 1_000_000;
    let mut results: Vec<(Kind, Round)> = Vec::new();
    for round in 1..=opts.rounds {
        let mut order = opts.kinds.clone();
        let shift = (round - 1) % order.len().max(1);
        order.rotate_left(shift);
        for kind in order {
            let measured = run_round(kind, &programs, &opts, &logs, round)
                .map_err(|e| format!("{} round {round}: {e}", kind.name()))?;
            println!("round {round} {:<13} {measured:?}", kind.name());
            if let Some(out) = &opts.out {
                use std::io::Write;
                let line = serde_json::json!({
                    "suite": suite,
                    "round": round,
                    "server": kind.name(),
                    "adapter": opts.adapter,
                    "nodes": NODES,
                    "clients": opts.clients,
                    "msgs": opts.msgs,
                    "size": opts.size,
                    "rate": opts.rate,
                    "deliveries_per_s": measured.deliveries_per_s,
                    "delivered_pct": measured.delivered_pct,
                    "cpu_us_per_delivery": measured.cpu_us_per_delivery,
                    "latency_p50_us": measured.latency_p50_us,
                    "latency_p99_us": measured.latency_p99_us,
                    "latency_p999_us": measured.latency_p999_us,
                    "remote_p99_us": measured.remote_p99_us,
                    "latency_deliveries": measured.latency_deliveries,
                });
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(out)?;
                writeln!(file, "{line}")?;
            }
            results.push((kind, measured));
        }
    }
    println!("\n| server | deliveries/s | delivered | CPU µs/delivery | latency p50 µs | p99 µs | p99.9 µs | remote p99 µs |");
    println!("|---|---|---|---|---|---|---|---|");
    for kind in &opts.kinds {
        let pick = |f: fn(&Round) -> f64| {
            let mut values: Vec<f64> = results
                .iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, r)| f(r))
                .collect();
            median(&mut values)
        };
        println!(
            "| {} | {:.0} | {:.1} % | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} |",
            kind.name(),
            pick(|r| r.deliveries_per_s),
            pick(|r| r.delivered_pct),
            pick(|r| r.cpu_us_per_delivery),
            pick(|r| r.latency_p50_us),
            pick(|r| r.latency_p99_us),
            pick(|r| r.latency_p999_us),
            pick(|r| r.remote_p99_us),
        );
    }
    println!("(medians of {} rounds, suite {suite})", opts.rounds);
    Ok(())
}
