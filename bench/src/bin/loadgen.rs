//! The Socket.IO load generator: runs every scenario against every server, interleaved over
//! several rounds, each server pinned to one core and this program to another, and prints a
//! table of medians with the ratios of roomcast to its peers. See bench/README.md.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use roomcast_bench::cli::{self, Opts};
use roomcast_bench::jsonl::Obj;
use roomcast_bench::load::{foreign_allowance, wait_until_quiet};
use roomcast_bench::report::{self, Record, SuiteInfo};
use roomcast_bench::scenarios::{self, Ctx, Measured, Metrics, Scenario};
use roomcast_bench::servers::{self, ServerKind};
use roomcast_bench::{clock, os, Res};

/// Extra time past a run's own hard limit before the whole program gives up on it.
const WATCHDOG_GRACE: Duration = Duration::from_secs(15);
/// Longest wait for the machine to be quiet before a measurement.
const QUIET_WAIT: Duration = Duration::from_secs(20);
/// The same for a smoke run (`--quick`).
const QUICK_QUIET_WAIT: Duration = Duration::from_secs(2);

/// Kills the server and ends the program when a run outlives its hard limit despite the
/// timeout inside it (a blocked thread, a stuck system call).
#[derive(Clone, Default)]
struct Watchdog(Arc<Mutex<Option<(Instant, u32, String)>>>);

impl Watchdog {
    fn start() -> Watchdog {
        let dog = Watchdog::default();
        let state = dog.0.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let expired = match state.lock() {
                Ok(guard) => guard
                    .as_ref()
                    .filter(|(deadline, _, _)| Instant::now() > *deadline)
                    .map(|(_, pid, what)| (*pid, what.clone())),
                Err(_) => None,
            };
            if let Some((pid, what)) = expired {
                eprintln!(
                    "FAILED: {what} hung past its hard limit; killing the server and exiting"
                );
                let _ = os::kill(pid, libc::SIGKILL);
                std::process::exit(1);
            }
        });
        dog
    }

    fn arm(&self, deadline: Instant, pid: u32, what: String) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = Some((deadline, pid, what));
        }
    }

    fn disarm(&self) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = None;
        }
    }
}

/// One measurement: a fresh server, the scenario, the server stopped.
fn run_once(
    kind: ServerKind,
    scenario: &Scenario,
    opts: &Opts,
    log: PathBuf,
    watchdog: &Watchdog,
) -> Result<(Metrics, Option<Measured>), String> {
    let mut server = servers::launch(
        kind,
        &opts.programs,
        opts.server_cpu,
        log,
        Duration::from_secs(30),
    )
    .map_err(|e| e.to_string())?;
    server.grace = opts.stop_grace;
    let pinned = opts.server_cpu.to_string();
    match server.cpus_allowed() {
        Some(cpus) if cpus == pinned => {}
        other => return Err(format!("server not pinned to core {pinned}: {other:?}")),
    }
    let limit = scenario.params.nominal() + opts.timeout;
    watchdog.arm(
        Instant::now() + limit + WATCHDOG_GRACE,
        server.pid,
        format!("{} against {}", scenario.name, kind.name()),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let local = tokio::task::LocalSet::new();
    let mut ctx = Ctx::new(server.addr, server.pid, opts.concurrency);
    ctx.hooks = opts.hooks.clone();
    let result = local.block_on(&rt, async {
        tokio::time::timeout(limit, scenarios::run(scenario, &ctx)).await
    });
    let alive = server.alive();
    let exited = if alive {
        String::new()
    } else {
        format!(" (the server exited; {})", server.log_tail())
    };
    // The server goes first, so that closing the clients costs it nothing measured.
    server.stop();
    drop(local);
    drop(rt);
    watchdog.disarm();
    match result {
        Err(_) => Err(format!("timed out after {limit:?}{exited}")),
        Ok(Err(e)) => Err(format!("{e}{exited}")),
        Ok(Ok(mut m)) => {
            if !alive {
                m.notes.push(format!("server gone at the end{exited}"));
            }
            Ok((m, ctx.measured()))
        }
    }
}

/// Measures until other processes leave the machine alone during the measured interval (or the
/// attempts run out).
fn measure(
    kind: ServerKind,
    scenario: &Scenario,
    round: usize,
    opts: &Opts,
    logs: &std::path::Path,
    watchdog: &Watchdog,
) -> Res<Record> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let quiet_wait = if opts.quick {
            QUICK_QUIET_WAIT
        } else {
            QUIET_WAIT
        };
        let busy = wait_until_quiet(quiet_wait)?;
        if busy >= 0.10 {
            eprintln!(
                "machine still {:.0}% busy after {quiet_wait:?}; measuring anyway",
                busy * 100.0
            );
        }
        let log = logs.join(format!(
            "{}-{}-round{round}-attempt{attempts}.log",
            scenario.name,
            kind.name()
        ));
        let record = |outcome, spoiled, foreign_ms| Record {
            scenario: scenario.name,
            server: kind,
            round,
            attempts,
            outcome,
            spoiled,
            foreign_ms,
        };
        match run_once(kind, scenario, opts, log, watchdog) {
            Err(e) => return Ok(record(Err(e), false, f64::NAN)),
            Ok((metrics, measured)) => {
                let (foreign, allowed) = measured
                    .map(|m| (m.foreign, foreign_allowance(m.wall)))
                    .unwrap_or_default();
                let spoiled = foreign > allowed;
                let foreign_ms = foreign.as_secs_f64() * 1e3;
                if spoiled && attempts < opts.retries {
                    eprintln!(
                        "other processes used {foreign_ms:.0} ms of CPU during {} against {}; measuring again",
                        scenario.name,
                        kind.name()
                    );
                    std::thread::sleep(Duration::from_secs(2));
                    continue;
                }
                return Ok(record(Ok(metrics), spoiled, foreign_ms));
            }
        }
    }
}

/// The commit of the workspace, with `-dirty` when the sources of the servers differ from it.
fn revision(root: &std::path::Path) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let head = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = !git(&[
        "status",
        "--porcelain",
        "--",
        "crates",
        "examples",
        "bench/peers",
    ])
    .is_empty();
    format!("{head}{}", if dirty { "-dirty" } else { "" })
}

/// nproc, CPU model, kernel, node and the workspace revision, as a JSON object and as one line
/// of text.
fn machine(root: &std::path::Path) -> (String, String) {
    // SAFETY: sysconf has no memory effects.
    let nproc = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_default();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let rev = revision(root);
    let json = Obj::new()
        .num("nproc", nproc as f64)
        .str("cpu", &model)
        .str("kernel", &kernel)
        .str("node", &node)
        .str("revision", &rev)
        .finish();
    let text = format!("nproc {nproc}, CPU {model}, Linux {kernel}, node {node}, roomcast {rev}");
    (json, text)
}

fn real_main() -> Res<bool> {
    clock::init();
    let mut opts = cli::parse(std::env::args().skip(1).collect())?;
    let (machine_json, machine_text) = machine(&opts.root);
    os::pin_to_cpu(opts.client_cpu)?;
    let most = opts
        .scenarios
        .iter()
        .map(|s| s.params.connections())
        .max()
        .unwrap_or(0);
    os::raise_nofile_limit(most as u64 + 256)?;
    opts.programs.check(&opts.servers)?;

    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let suite = SuiteInfo {
        id: format!("{started}"),
        machine: machine_json,
        command: opts.command.clone(),
    };
    let logs = std::env::temp_dir()
        .join("roomcast-loadgen")
        .join(&suite.id);
    std::fs::create_dir_all(&logs)?;
    opts.programs.snapshot(&logs, &opts.servers)?;
    let mut out = match &opts.out {
        Some(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            Some(OpenOptions::new().create(true).append(true).open(path)?)
        }
        None => None,
    };
    println!("{machine_text}");
    println!(
        "servers on core {}, load generator on core {}; scale {}, {} round(s){}; server logs in {}",
        opts.server_cpu,
        opts.client_cpu,
        opts.scale,
        opts.rounds,
        if opts.quick { ", quick" } else { "" },
        logs.display()
    );

    let watchdog = Watchdog::start();
    let wall = Instant::now();
    let mut records = Vec::new();
    for round in 1..=opts.rounds {
        for scenario in &opts.scenarios {
            let n = opts.servers.len();
            for j in 0..n {
                // The order of the servers rotates from round to round.
                let kind = opts.servers[(round - 1 + j) % n];
                let record = measure(kind, scenario, round, &opts, &logs, &watchdog)?;
                println!("{}", report::run_line(&record));
                if let Some(file) = out.as_mut() {
                    writeln!(file, "{}", report::json_line(&record, scenario, &suite))?;
                }
                records.push(record);
            }
        }
    }
    let table = report::table(&records, &opts.scenarios, &opts.servers);
    println!();
    println!(
        "Medians (min–max) of {} round(s), {:.0} s in all. {machine_text}.",
        opts.rounds,
        wall.elapsed().as_secs_f64()
    );
    println!("Command: {}", opts.command);
    println!();
    print!("{table}");
    if records.iter().any(|r| r.spoiled) {
        println!("\n* some runs were measured while other processes used the CPU");
    }
    if let Some(path) = &opts.table_out {
        std::fs::write(path, &table)?;
    }
    if let Some(path) = &opts.out {
        println!("\nresults appended to {}", path.display());
    }
    Ok(records.iter().all(|r| r.outcome.is_ok()))
}

fn main() {
    match real_main() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("FAILED: {e}");
            std::process::exit(1);
        }
    }
}
