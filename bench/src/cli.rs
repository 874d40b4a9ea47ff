//! Command-line options of `loadgen`.

use std::path::PathBuf;
use std::time::Duration;

use crate::scenarios::{self, Scenario};
use crate::servers::{Programs, ServerKind};
use crate::Res;

/// The usage text printed by `--help` and after a bad option.
pub const USAGE: &str = "\
usage: loadgen [options]
  --scenario LIST     scenarios to run, comma-separated names or prefixes
                      (fanout-1k-100 fanout-1k-200 fanout-10k-20 latency connect echo churn; default all)
  --server LIST       servers, comma-separated (roomcast node socketioxide; default these three;
                      floor: floor-probe, the least work per delivery, latency and echo only)
  --rounds N          rounds of every scenario against every server (default 3; --quick: 1)
  --scale F           multiply every scenario's client count (and the latency rate) by F (default 1)
  --quick             smoke run: scale 0.1, timed scenarios about 1 s, 1 round, nothing recorded
  --concurrency N     connections being opened at once, at most (default 128)
  --retries N         measurements of a run spoiled by other processes' CPU use (default 4;
                      --quick: 1)
  --timeout-secs N    hard limit of one run beyond its nominal duration (default 120)
  --server-cpu N      core the servers are pinned to (default 0)
  --client-cpu N      core the load generator is pinned to (default 1)
  --out FILE          append results as JSON lines to FILE (default bench/results/loadgen.jsonl;
                      --quick: none)
  --no-record         append nothing
  --table-out FILE    also write the results table (markdown) to FILE
  --stop-grace-ms N   stop servers with SIGTERM and this grace before SIGKILL (default 0: SIGKILL;
                      give a profiler wrapping a server the time to write its data)
  --on-window-start CMD / --on-window-end CMD
                      shell commands run when a measured interval starts / ends, SERVER_PID set
                      (to switch a profiler on and off)
  --roomcast-bin P / --socketioxide-bin P / --node P / --node-probe P / --floor-bin P
                      server programs";

/// The scenarios floor-probe serves.
const FLOOR_SCENARIOS: [&str; 2] = ["latency", "echo"];

/// Parsed options.
#[derive(Clone, Debug)]
pub struct Opts {
    /// The scenarios to run, in order.
    pub scenarios: Vec<Scenario>,
    /// The servers to measure.
    pub servers: Vec<ServerKind>,
    /// Rounds of every scenario against every server.
    pub rounds: usize,
    /// Factor on every scenario's client count (and the latency rate).
    pub scale: f64,
    /// Whether this is a `--quick` smoke run.
    pub quick: bool,
    /// Connections being opened at once, at most.
    pub concurrency: usize,
    /// Attempts at most of a measurement spoiled by other processes' CPU use.
    pub retries: usize,
    /// Hard limit of one run beyond its nominal duration.
    pub timeout: Duration,
    /// Core the servers are pinned to.
    pub server_cpu: usize,
    /// Core the load generator is pinned to.
    pub client_cpu: usize,
    /// File the results are appended to as JSON lines, if any.
    pub out: Option<PathBuf>,
    /// File the results table (markdown) is also written to, if any.
    pub table_out: Option<PathBuf>,
    /// Grace between SIGTERM and SIGKILL when stopping a server (zero: SIGKILL at once).
    pub stop_grace: Duration,
    /// Shell commands run when a measured interval starts and when it ends.
    pub hooks: (Option<String>, Option<String>),
    /// The server programs.
    pub programs: Programs,
    /// The workspace root.
    pub root: PathBuf,
    /// The command line as given, for the record.
    pub command: String,
}

/// The workspace root (the parent of this package's directory).
pub fn workspace_root() -> PathBuf {
    let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    bench.parent().map(PathBuf::from).unwrap_or(bench)
}

/// Parses the command-line arguments (without the program name).
pub fn parse(args: Vec<String>) -> Res<Opts> {
    let root = workspace_root();
    let command = std::iter::once("loadgen".to_owned())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut scenario_filter: Option<String> = None;
    let mut server_filter: Option<String> = None;
    let (mut rounds, mut scale) = (None, None);
    let mut quick = false;
    let mut concurrency = 128;
    let mut retries = None;
    let mut timeout = Duration::from_secs(120);
    let (mut server_cpu, mut client_cpu) = (0, 1);
    let mut out: Option<Option<PathBuf>> = None;
    let mut table_out = None;
    let mut stop_grace = Duration::ZERO;
    let mut hooks = (None, None);
    let mut programs = Programs::defaults(&root);

    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--quick" => {
                quick = true;
                continue;
            }
            "--no-record" => {
                out = Some(None);
                continue;
            }
            _ => {}
        }
        let value = it
            .next()
            .ok_or_else(|| format!("missing value for {flag}\n{USAGE}"))?;
        let num = || -> Res<usize> {
            value
                .parse::<usize>()
                .map_err(|e| format!("bad value for {flag}: {e}").into())
        };
        match flag.as_str() {
            "--scenario" => scenario_filter = Some(value.clone()),
            "--server" => server_filter = Some(value.clone()),
            "--rounds" => rounds = Some(num()?.max(1)),
            "--scale" => {
                let f: f64 = value.parse().map_err(|e| format!("bad --scale: {e}"))?;
                if !(f > 0.0 && f.is_finite()) {
                    return Err("--scale must be positive".into());
                }
                scale = Some(f);
            }
            "--concurrency" => concurrency = num()?.max(1),
            "--retries" => retries = Some(num()?.max(1)),
            "--timeout-secs" => timeout = Duration::from_secs(num()? as u64),
            "--server-cpu" => server_cpu = num()?,
            "--client-cpu" => client_cpu = num()?,
            "--out" => out = Some(Some(PathBuf::from(&value))),
            "--table-out" => table_out = Some(PathBuf::from(&value)),
            "--on-window-start" => hooks.0 = Some(value.clone()),
            "--on-window-end" => hooks.1 = Some(value.clone()),
            "--stop-grace-ms" => stop_grace = Duration::from_millis(num()? as u64),
            "--roomcast-bin" => programs.roomcast = PathBuf::from(&value),
            "--socketioxide-bin" => programs.socketioxide = PathBuf::from(&value),
            "--node" => programs.node = PathBuf::from(&value),
            "--node-probe" => programs.node_probe = PathBuf::from(&value),
            "--floor-bin" => programs.floor = PathBuf::from(&value),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}").into()),
        }
    }

    let scale = scale.unwrap_or(if quick { 0.1 } else { 1.0 });
    let rounds = rounds.unwrap_or(if quick { 1 } else { 3 });
    let retries = retries.unwrap_or(if quick { 1 } else { 4 });
    let all = scenarios::all(scale, quick);
    let scenarios = match scenario_filter {
        None => all,
        Some(list) => {
            let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
            for w in &wanted {
                if !all.iter().any(|s| s.name.starts_with(w)) {
                    return Err(format!("no scenario matches {w:?}\n{USAGE}").into());
                }
            }
            all.into_iter()
                .filter(|s| wanted.iter().any(|w| s.name.starts_with(w)))
                .collect()
        }
    };
    let servers = match server_filter {
        None => ServerKind::DEFAULT.to_vec(),
        Some(list) => list
            .split(',')
            .map(|name| {
                ServerKind::parse(name.trim())
                    .ok_or_else(|| format!("unknown server {name:?}\n{USAGE}"))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if servers.contains(&ServerKind::Floor) {
        if let Some(s) = scenarios
            .iter()
            .find(|s| !FLOOR_SCENARIOS.contains(&s.name))
        {
            return Err(format!(
                "floor-probe serves only {}, not {}: choose them with --scenario",
                FLOOR_SCENARIOS.join(" and "),
                s.name
            )
            .into());
        }
    }
    let out = match out {
        Some(choice) => choice,
        None if quick => None,
        None => Some(root.join("bench/results/loadgen.jsonl")),
    };
    Ok(Opts {
        scenarios,
        servers,
        rounds,
        scale,
        quick,
        concurrency,
        retries,
        timeout,
        server_cpu,
        client_cpu,
        out,
        table_out,
        stop_grace,
        hooks,
        programs,
        root,
        command,
    })
}
