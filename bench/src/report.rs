//! The results of the runs: one line per run while measuring, the JSON line of the results
//! file, and the final table of medians with the targets roomcast is held to.

use crate::jsonl::{str_array, Obj};
use crate::scenarios::{Metrics, Scenario};
use crate::servers::ServerKind;
use crate::stats::{summary, Summary};

/// One run of one scenario against one server.
#[derive(Clone, Debug)]
pub struct Record {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The server measured.
    pub server: ServerKind,
    /// The round, from 1.
    pub round: usize,
    /// Measurements taken (more than one when other processes spoiled the earlier ones).
    pub attempts: usize,
    /// The metrics of the last attempt, or why the run failed.
    pub outcome: Result<Metrics, String>,
    /// Other processes used more CPU than allowed even in the last attempt.
    pub spoiled: bool,
    /// CPU time other processes used during the last measured interval, in ms (NaN when the run
    /// failed).
    pub foreign_ms: f64,
}

/// How a metric is shown.
#[derive(Clone, Copy, Debug)]
pub enum Unit {
    /// Per second, shown in k or M.
    Rate,
    /// Microseconds.
    Us,
    /// Mebibytes.
    Mib,
    /// Kibibytes.
    Kib,
    /// Percent.
    Pct,
    /// A whole number of events.
    Count,
}

/// What roomcast's median must achieve.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// At least this many times socketioxide's median.
    TimesSocketioxide(f64),
    /// At most this value.
    AtMost(f64),
    /// At least this value.
    AtLeast(f64),
    /// At most this fraction of the lower of the peers' medians.
    FractionOfBestPeer(f64),
}

impl Target {
    fn text(self, unit: Unit) -> String {
        match self {
            Target::TimesSocketioxide(f) => format!("≥ {f}× socketioxide"),
            Target::AtMost(v) => format!("≤ {}", fmt_value(v, unit)),
            Target::AtLeast(v) => format!("≥ {}", fmt_value(v, unit)),
            Target::FractionOfBestPeer(f) => format!("≤ {f}× better peer"),
        }
    }
}

/// One row of the table.
pub struct Row {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The metric's key in [`Metrics`].
    pub metric: &'static str,
    /// The metric's name as shown.
    pub label: &'static str,
    /// How the metric is shown.
    pub unit: Unit,
    /// What roomcast's median must achieve, if anything.
    pub target: Option<Target>,
}

const fn row(
    scenario: &'static str,
    metric: &'static str,
    label: &'static str,
    unit: Unit,
    target: Option<Target>,
) -> Row {
    Row {
        scenario,
        metric,
        label,
        unit,
        target,
    }
}

/// The rows of the table, in order.
pub const ROWS: &[Row] = &[
    row(
        "fanout-1k-100",
        "deliveries_per_s",
        "deliveries/s",
        Unit::Rate,
        Some(Target::TimesSocketioxide(2.0)),
    ),
    row(
        "fanout-1k-100",
        "server_cpu_us_per_delivery",
        "server CPU µs/delivery",
        Unit::Us,
        Some(Target::AtMost(0.5)),
    ),
    row(
        "fanout-1k-100",
        "delivered_pct",
        "delivered",
        Unit::Pct,
        None,
    ),
    row(
        "fanout-1k-100",
        "peak_rss_mib",
        "peak RSS MiB",
        Unit::Mib,
        None,
    ),
    row(
        "fanout-1k-200",
        "deliveries_per_s",
        "deliveries/s",
        Unit::Rate,
        None,
    ),
    row(
        "fanout-1k-200",
        "server_cpu_us_per_delivery",
        "server CPU µs/delivery",
        Unit::Us,
        None,
    ),
    row(
        "fanout-1k-200",
        "delivered_pct",
        "delivered",
        Unit::Pct,
        Some(Target::AtLeast(100.0)),
    ),
    row(
        "fanout-1k-200",
        "peak_rss_mib",
        "peak RSS MiB",
        Unit::Mib,
        None,
    ),
    row(
        "fanout-10k-20",
        "deliveries_per_s",
        "deliveries/s",
        Unit::Rate,
        Some(Target::TimesSocketioxide(2.0)),
    ),
    row(
        "fanout-10k-20",
        "server_cpu_us_per_delivery",
        "server CPU µs/delivery",
        Unit::Us,
        None,
    ),
    row(
        "fanout-10k-20",
        "delivered_pct",
        "delivered",
        Unit::Pct,
        None,
    ),
    row(
        "fanout-10k-20",
        "peak_rss_mib",
        "peak RSS MiB",
        Unit::Mib,
        None,
    ),
    row("latency", "p50_us", "p50 µs", Unit::Us, None),
    row(
        "latency",
        "p99_us",
        "p99 µs",
        Unit::Us,
        Some(Target::FractionOfBestPeer(0.5)),
    ),
    row(
        "latency",
        "p999_us",
        "p99.9 µs",
        Unit::Us,
        Some(Target::FractionOfBestPeer(0.5)),
    ),
    row("latency", "delivered_pct", "delivered", Unit::Pct, None),
    row(
        "latency",
        "server_cpu_us_per_delivery",
        "server CPU µs/delivery",
        Unit::Us,
        None,
    ),
    row(
        "connect",
        "conns_per_s",
        "connections/s",
        Unit::Rate,
        Some(Target::TimesSocketioxide(1.5)),
    ),
    row(
        "connect",
        "rss_kib_per_conn",
        "RSS KiB/idle connection",
        Unit::Kib,
        // 5,000 bytes.
        Some(Target::AtMost(4.88)),
    ),
    row(
        "connect",
        "rss_after_mib",
        "RSS MiB, all connected",
        Unit::Mib,
        None,
    ),
    row(
        "connect",
        "broadcast_reached_pct",
        "broadcast then reached",
        Unit::Pct,
        None,
    ),
    row(
        "connect",
        "server_cpu_us_per_conn",
        "server CPU µs/connection",
        Unit::Us,
        None,
    ),
    row("echo", "acks_per_s", "acks/s", Unit::Rate, None),
    row("echo", "p50_us", "p50 µs", Unit::Us, None),
    row("echo", "p99_us", "p99 µs", Unit::Us, None),
    row(
        "echo",
        "server_cpu_us_per_ack",
        "server CPU µs/ack",
        Unit::Us,
        Some(Target::AtMost(7.0)),
    ),
    row(
        "churn",
        "deliveries_per_s",
        "deliveries/s",
        Unit::Rate,
        None,
    ),
    row(
        "churn",
        "room_changes_per_s",
        "joins+leaves/s",
        Unit::Rate,
        None,
    ),
    row(
        "churn",
        "violations",
        "missed after join ack",
        Unit::Count,
        Some(Target::AtMost(0.0)),
    ),
    row(
        "churn",
        "spurious",
        "received after leave ack",
        Unit::Count,
        None,
    ),
];

/// A value in its unit.
pub fn fmt_value(v: f64, unit: Unit) -> String {
    if v.is_nan() {
        return "–".into();
    }
    match unit {
        Unit::Rate if v >= 1e6 => format!("{:.2} M", v / 1e6),
        Unit::Rate if v >= 1e3 => format!("{:.1} k", v / 1e3),
        Unit::Rate => format!("{v:.0}"),
        Unit::Us if v >= 100.0 => format!("{v:.0}"),
        Unit::Us if v >= 10.0 => format!("{v:.1}"),
        Unit::Us if v >= 1.0 => format!("{v:.2}"),
        Unit::Us => format!("{v:.3}"),
        Unit::Mib | Unit::Kib => format!("{v:.1}"),
        Unit::Pct if (99.95..100.0).contains(&v) => format!("{v:.3} %"),
        Unit::Pct => format!("{v:.1} %"),
        Unit::Count => format!("{v:.0}"),
    }
}

/// One line describing a finished run.
pub fn run_line(r: &Record) -> String {
    let head = format!(
        "round {} {:<14} {:<13}",
        r.round,
        r.scenario,
        r.server.name()
    );
    match &r.outcome {
        Err(e) => format!("{head} FAILED: {e}"),
        Ok(m) => {
            let mut parts: Vec<String> = ROWS
                .iter()
                .filter(|row| row.scenario == r.scenario)
                .filter_map(|row| {
                    m.get(row.metric)
                        .map(|v| format!("{} {}", row.label, fmt_value(v, row.unit)))
                })
                .collect();
            if let (Some(s), Some(c)) = (m.get("server_cpu_busy_pct"), m.get("client_cpu_busy_pct"))
            {
                parts.push(format!("busy server {s:.0}% client {c:.0}%"));
            } else if let Some(c) = m.get("client_cpu_busy_pct") {
                parts.push(format!("busy client {c:.0}%"));
            }
            if r.attempts > 1 || r.spoiled {
                parts.push(format!(
                    "attempts {}{}",
                    r.attempts,
                    if r.spoiled { " (spoiled)" } else { "" }
                ));
            }
            let mut line = format!("{head} {}", parts.join(", "));
            for note in &m.notes {
                line.push_str(&format!("\n    note: {note}"));
            }
            line
        }
    }
}

/// The JSON line of a run.
pub fn json_line(r: &Record, scenario: &Scenario, suite: &SuiteInfo) -> String {
    let mut params = Obj::new();
    for (k, v) in scenario.params.fields() {
        params = params.num(k, v);
    }
    let mut o = Obj::new()
        .str("suite", &suite.id)
        .num("time", suite.now())
        .str("scenario", r.scenario)
        .str("server", r.server.name())
        .num("round", r.round as f64)
        .num("attempts", r.attempts as f64)
        .bool("ok", r.outcome.is_ok())
        .bool("spoiled", r.spoiled)
        .num("foreign_cpu_ms", r.foreign_ms)
        .raw("params", &params.finish());
    match &r.outcome {
        Ok(m) => {
            let mut metrics = Obj::new();
            for (k, v) in &m.values {
                metrics = metrics.num(k, *v);
            }
            o = o
                .raw("metrics", &metrics.finish())
                .raw("notes", &str_array(&m.notes));
        }
        Err(e) => o = o.str("error", e),
    }
    o.raw("machine", &suite.machine)
        .str("command", &suite.command)
        .finish()
}

/// What every JSON line of one invocation shares.
pub struct SuiteInfo {
    /// The invocation's identifier (its start time in Unix seconds).
    pub id: String,
    /// The machine description, as an encoded JSON object.
    pub machine: String,
    /// The command line as given.
    pub command: String,
}

impl SuiteInfo {
    fn now(&self) -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs() as f64)
    }
}

/// Summary of one metric of one server over the rounds.
struct Cell {
    summary: Option<Summary>,
    failed: usize,
    spoiled: usize,
}

fn cell(records: &[Record], scenario: &str, server: ServerKind, metric: &str) -> Cell {
    let runs: Vec<&Record> = records
        .iter()
        .filter(|r| r.scenario == scenario && r.server == server)
        .collect();
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .filter_map(|m| m.get(metric))
        .collect();
    Cell {
        summary: summary(&values),
        failed: runs.iter().filter(|r| r.outcome.is_err()).count(),
        spoiled: runs.iter().filter(|r| r.spoiled).count(),
    }
}

/// Median with (min–max), the range in the median's scale.
fn fmt_range(s: Summary, unit: Unit) -> String {
    if s.min == s.max {
        return fmt_value(s.median, unit);
    }
    match unit {
        Unit::Rate => {
            let (div, suffix, digits) = if s.median >= 1e6 {
                (1e6, " M", 2)
            } else if s.median >= 1e3 {
                (1e3, " k", 1)
            } else {
                (1.0, "", 0)
            };
            format!(
                "{:.digits$}{suffix} ({:.digits$}–{:.digits$})",
                s.median / div,
                s.min / div,
                s.max / div
            )
        }
        Unit::Pct => {
            let plain = |v: f64| fmt_value(v, unit).trim_end_matches(" %").to_owned();
            format!(
                "{} ({}–{})",
                fmt_value(s.median, unit),
                plain(s.min),
                plain(s.max)
            )
        }
        _ => format!(
            "{} ({}–{})",
            fmt_value(s.median, unit),
            fmt_value(s.min, unit),
            fmt_value(s.max, unit)
        ),
    }
}

fn fmt_cell(c: &Cell, unit: Unit, ran: bool) -> String {
    if !ran {
        return "".into();
    }
    let mut s = match c.summary {
        None => "FAILED".into(),
        Some(s) => fmt_range(s, unit),
    };
    if c.failed > 0 && c.summary.is_some() {
        s.push_str(&format!(" [{} failed]", c.failed));
    }
    if c.spoiled > 0 {
        s.push_str(" *");
    }
    s
}

/// The markdown table of medians (min–max) over the rounds, ratios and targets.
pub fn table(records: &[Record], scenarios: &[Scenario], servers: &[ServerKind]) -> String {
    let ran = |k: ServerKind| servers.contains(&k);
    let floor = ran(ServerKind::Floor);
    let mut out = String::new();
    out.push_str("| scenario | metric | roomcast | node | socketioxide |");
    out.push_str(if floor { " floor |" } else { "" });
    out.push_str(" roomcast ÷ node | roomcast ÷ socketioxide | target | |\n");
    out.push_str(if floor {
        "|---|---|---|---|---|---|---|---|---|---|\n"
    } else {
        "|---|---|---|---|---|---|---|---|---|\n"
    });
    for row in ROWS {
        if !scenarios.iter().any(|s| s.name == row.scenario) {
            continue;
        }
        let cells: Vec<Cell> = ServerKind::ALL
            .iter()
            .map(|&k| cell(records, row.scenario, k, row.metric))
            .collect();
        let median = |i: usize| cells[i].summary.map(|s| s.median);
        let ratio = |i: usize| match (median(0), median(i)) {
            (Some(r), Some(p)) if p != 0.0 => format!("{:.2}×", r / p),
            _ => "".into(),
        };
        let (target, status) = match row.target {
            None => (String::new(), String::new()),
            Some(t) => {
                let met = match (t, median(0)) {
                    (_, None) => None,
                    (Target::TimesSocketioxide(f), Some(r)) => median(2).map(|p| r >= f * p),
                    (Target::AtMost(v), Some(r)) => Some(r <= v),
                    (Target::AtLeast(v), Some(r)) => Some(r >= v),
                    (Target::FractionOfBestPeer(f), Some(r)) => {
                        let best = [median(1), median(2)]
                            .into_iter()
                            .flatten()
                            .reduce(f64::min);
                        best.map(|b| r <= f * b)
                    }
                };
                let status = match met {
                    Some(true) => "met",
                    Some(false) => "**missed**",
                    None => "n/a",
                };
                (t.text(row.unit), status.to_owned())
            }
        };
        let floor_cell = if floor {
            format!(" {} |", fmt_cell(&cells[3], row.unit, true))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |{floor_cell} {} | {} | {} | {} |\n",
            row.scenario,
            row.label,
            fmt_cell(&cells[0], row.unit, ran(ServerKind::Roomcast)),
            fmt_cell(&cells[1], row.unit, ran(ServerKind::Node)),
            fmt_cell(&cells[2], row.unit, ran(ServerKind::Socketioxide)),
            ratio(1),
            ratio(2),
            target,
            status
        ));
    }
    out
}
