//! The measured scenarios, their sizes, and what a scenario run hands back.

use std::cell::Cell;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::load::{foreign, others_cpu, MachineCpu};
use crate::os::process_cpu;
use crate::procstat::{self, ProcSample};
use crate::Res;

pub mod churn;
pub mod connect;
pub mod echo;
pub mod fanout;
pub mod latency;

/// Sizes of one scenario.
#[derive(Clone, Debug)]
pub enum Params {
    /// `clients` sockets in one room; one `blast` of `msgs` events with a `size`-byte payload.
    Fanout {
        /// Sockets in the room.
        clients: usize,
        /// Events the blast emits.
        msgs: usize,
        /// Payload size of every event, in bytes.
        size: usize,
    },
    /// `clients` sockets in rooms of `room_size`; one sender has the server `broadcast` a
    /// timestamped event to a random room `rate` times per second.
    Latency {
        /// Receiving sockets (a multiple of `room_size`).
        clients: usize,
        /// Sockets in every room.
        room_size: usize,
        /// Broadcasts per second.
        rate: f64,
        /// Time sending before the measured interval starts.
        warmup: Duration,
        /// Length of the measured interval.
        duration: Duration,
        /// Payload size of every event, in bytes.
        size: usize,
    },
    /// `clients` connections opened as fast as `concurrency` allows.
    Connect {
        /// Connections opened.
        clients: usize,
        /// Time the connections stay idle before the server's RSS is sampled.
        settle: Duration,
    },
    /// `clients` sockets each doing acknowledged `echo` round trips one after another.
    Echo {
        /// Sockets doing round trips.
        clients: usize,
        /// Time of round trips before the measured interval starts.
        warmup: Duration,
        /// Length of the measured interval.
        duration: Duration,
        /// Payload size of every `echo`, in bytes.
        size: usize,
    },
    /// `clients` sockets joining and leaving `rooms` rooms (staying `dwell_ms` each time)
    /// while a sender keeps `window` `broadcast`s to random rooms in flight.
    Churn {
        /// Sockets joining and leaving.
        clients: usize,
        /// Rooms to choose from.
        rooms: usize,
        /// Least and most time a socket stays in a room, in ms (inclusive).
        dwell_ms: (u64, u64),
        /// Unacknowledged `broadcast`s kept in flight.
        window: usize,
        /// Length of the measured interval.
        duration: Duration,
    },
}

impl Params {
    /// The sizes as `key=value` pairs, for the results file.
    pub fn fields(&self) -> Vec<(&'static str, f64)> {
        let secs = |d: &Duration| d.as_secs_f64();
        match self {
            Params::Fanout {
                clients,
                msgs,
                size,
            } => vec![
                ("clients", *clients as f64),
                ("msgs", *msgs as f64),
                ("size", *size as f64),
            ],
            Params::Latency {
                clients,
                room_size,
                rate,
                warmup,
                duration,
                size,
            } => vec![
                ("clients", *clients as f64),
                ("room_size", *room_size as f64),
                ("rate", *rate),
                ("warmup_s", secs(warmup)),
                ("duration_s", secs(duration)),
                ("size", *size as f64),
            ],
            Params::Connect { clients, settle } => {
                vec![("clients", *clients as f64), ("settle_s", secs(settle))]
            }
            Params::Echo {
                clients,
                warmup,
                duration,
                size,
            } => vec![
                ("clients", *clients as f64),
                ("warmup_s", secs(warmup)),
                ("duration_s", secs(duration)),
                ("size", *size as f64),
            ],
            Params::Churn {
                clients,
                rooms,
                dwell_ms,
                window,
                duration,
            } => vec![
                ("clients", *clients as f64),
                ("rooms", *rooms as f64),
                ("dwell_min_ms", dwell_ms.0 as f64),
                ("dwell_max_ms", dwell_ms.1 as f64),
                ("window", *window as f64),
                ("duration_s", secs(duration)),
            ],
        }
    }

    /// Connections the scenario opens (for the open-file limit).
    pub fn connections(&self) -> usize {
        match self {
            Params::Fanout { clients, .. }
            | Params::Latency { clients, .. }
            | Params::Connect { clients, .. }
            | Params::Echo { clients, .. }
            | Params::Churn { clients, .. } => clients + 1,
        }
    }

    /// Roughly how long a run takes once the connections are open.
    pub fn nominal(&self) -> Duration {
        match self {
            Params::Fanout { .. } => Duration::from_secs(2),
            Params::Latency {
                warmup, duration, ..
            }
            | Params::Echo {
                warmup, duration, ..
            } => *warmup + *duration + Duration::from_secs(3),
            Params::Connect { settle, .. } => *settle + Duration::from_secs(1),
            Params::Churn { duration, .. } => *duration + Duration::from_secs(3),
        }
    }
}

/// A named scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The name used on the command line and in the results.
    pub name: &'static str,
    /// The sizes.
    pub params: Params,
}

/// Every scenario, sizes multiplied by `scale` (client counts and the latency sender's rate;
/// message counts and durations stay). `quick` shortens the timed scenarios to about a second.
pub fn all(scale: f64, quick: bool) -> Vec<Scenario> {
    let n = |base: usize| ((base as f64 * scale).round() as usize).max(1);
    let secs = |full: f64, short: f64| Duration::from_secs_f64(if quick { short } else { full });
    let room_size = 20;
    vec![
        Scenario {
            name: "fanout-1k-100",
            params: Params::Fanout {
                clients: n(1000),
                msgs: 100,
                size: 100,
            },
        },
        Scenario {
            name: "fanout-1k-200",
            params: Params::Fanout {
                clients: n(1000),
                msgs: 200,
                size: 100,
            },
        },
        Scenario {
            name: "fanout-10k-20",
            params: Params::Fanout {
                clients: n(10_000),
                msgs: 20,
                size: 100,
            },
        },
        Scenario {
            name: "latency",
            params: Params::Latency {
                clients: n(2000).div_ceil(room_size) * room_size,
                room_size,
                rate: 2000.0 * scale,
                warmup: secs(1.0, 0.2),
                duration: secs(10.0, 1.0),
                size: 100,
            },
        },
        Scenario {
            name: "connect",
            params: Params::Connect {
                clients: n(10_000),
                settle: secs(0.5, 0.3),
            },
        },
        Scenario {
            name: "echo",
            params: Params::Echo {
                clients: n(100),
                warmup: secs(1.0, 0.2),
                duration: secs(10.0, 1.0),
                size: 100,
            },
        },
        Scenario {
            name: "churn",
            params: Params::Churn {
                clients: n(1000),
                rooms: 10,
                dwell_ms: (50, 150),
                window: 16,
                duration: secs(3.0, 1.0),
            },
        },
    ]
}

/// Named measurements of one run, plus remarks worth printing.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// The measurements, by name, in the order they were added.
    pub values: Vec<(&'static str, f64)>,
    /// Remarks worth printing.
    pub notes: Vec<String>,
}

impl Metrics {
    /// Adds the measurement `name`.
    pub fn push(&mut self, name: &'static str, value: f64) {
        self.values.push((name, value));
    }

    /// The first measurement called `name`, if any.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// The start of a measured interval.
pub struct Window {
    t0: Instant,
    machine: MachineCpu,
    others: Duration,
    server: ProcSample,
    own: Duration,
}

/// What happened during a measured interval.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Wall-clock time of the interval.
    pub wall: Duration,
    /// Server CPU (all threads, ns resolution).
    pub server_cpu: Duration,
    /// The same from /proc/<pid>/stat utime+stime (10 ms ticks), as a cross-check.
    pub server_stat_cpu: Duration,
    /// The load generator's CPU.
    pub own_cpu: Duration,
    /// CPU used by other processes: the larger of the machine's busy time less ours
    /// (/proc/stat) and the sum over the other processes (/proc/<pid>/stat).
    pub foreign: Duration,
    /// The estimate of `foreign` from the machine's busy time less ours (/proc/stat).
    pub foreign_machine: Duration,
    /// The estimate of `foreign` summed over the other processes (/proc/<pid>/stat).
    pub foreign_processes: Duration,
    /// The server's counters at the end.
    pub server_end: ProcSample,
}

impl Measured {
    /// Adds the CPU figures every scenario reports.
    pub fn report(&self, m: &mut Metrics) {
        let wall = self.wall.as_secs_f64();
        m.push(
            "server_cpu_busy_pct",
            100.0 * self.server_cpu.as_secs_f64() / wall,
        );
        m.push(
            "client_cpu_busy_pct",
            100.0 * self.own_cpu.as_secs_f64() / wall,
        );
        m.push(
            "server_stat_cpu_ms",
            self.server_stat_cpu.as_secs_f64() * 1e3,
        );
        m.push("server_cpu_ms", self.server_cpu.as_secs_f64() * 1e3);
        m.push("window_ms", wall * 1e3);
        self.report_foreign(m);
    }

    /// Adds the two estimates of other processes' CPU use.
    pub fn report_foreign(&self, m: &mut Metrics) {
        m.push(
            "foreign_machine_ms",
            self.foreign_machine.as_secs_f64() * 1e3,
        );
        m.push(
            "foreign_processes_ms",
            self.foreign_processes.as_secs_f64() * 1e3,
        );
    }
}

/// What a scenario run needs to know about the server under test.
pub struct Ctx {
    /// The server's address.
    pub addr: SocketAddr,
    /// The server's process id.
    pub pid: u32,
    /// Connections being opened at once, at most.
    pub concurrency: usize,
    /// Shell commands run when a measured interval starts and when it ends (for instance to
    /// switch a profiler on and off), with `SERVER_PID` in their environment.
    pub hooks: (Option<String>, Option<String>),
    /// The scenario's measured interval, once it ended.
    measured: Cell<Option<Measured>>,
}

impl Ctx {
    /// A context for the server at `addr` (process `pid`), opening at most `concurrency`
    /// connections at once, without hooks.
    pub fn new(addr: SocketAddr, pid: u32, concurrency: usize) -> Ctx {
        Ctx {
            addr,
            pid,
            concurrency,
            hooks: (None, None),
            measured: Cell::new(None),
        }
    }

    /// The processes whose CPU time is ours: this one and the server.
    fn excluded(&self) -> [u32; 2] {
        [std::process::id(), self.pid]
    }

    fn hook(&self, command: &Option<String>) -> Res<()> {
        if let Some(command) = command {
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .env("SERVER_PID", self.pid.to_string())
                .status()?;
            if !status.success() {
                return Err(format!("`{command}` failed: {status}").into());
            }
        }
        Ok(())
    }

    /// Starts the measured interval.
    pub fn begin(&self) -> Res<Window> {
        self.hook(&self.hooks.0)?;
        Ok(Window {
            others: others_cpu(&self.excluded())?,
            machine: MachineCpu::now()?,
            server: procstat::sample(self.pid)?,
            own: process_cpu(),
            t0: Instant::now(),
        })
    }

    /// Ends the measured interval started with `w`.
    pub fn end(&self, w: Window) -> Res<Measured> {
        let wall = w.t0.elapsed();
        let own_cpu = process_cpu().saturating_sub(w.own);
        let server_end = procstat::sample(self.pid)?;
        let machine = MachineCpu::now()?.since(w.machine);
        let others = others_cpu(&self.excluded())?.saturating_sub(w.others);
        let server_cpu = server_end.cpu.saturating_sub(w.server.cpu);
        let foreign_machine = foreign(machine, own_cpu, server_cpu);
        let m = Measured {
            wall,
            server_cpu,
            server_stat_cpu: server_end.stat_cpu.saturating_sub(w.server.stat_cpu),
            own_cpu,
            foreign: foreign_machine.max(others),
            foreign_machine,
            foreign_processes: others,
            server_end,
        };
        self.measured.set(Some(m));
        self.hook(&self.hooks.1)?;
        Ok(m)
    }

    /// The last measured interval.
    pub fn measured(&self) -> Option<Measured> {
        self.measured.get()
    }
}

/// Runs `scenario` against the server of `ctx`. Must run inside a `tokio::task::LocalSet`.
pub async fn run(scenario: &Scenario, ctx: &Ctx) -> Res<Metrics> {
    match &scenario.params {
        Params::Fanout {
            clients,
            msgs,
            size,
        } => fanout::run(ctx, *clients, *msgs, *size).await,
        Params::Latency {
            clients,
            room_size,
            rate,
            warmup,
            duration,
            size,
        } => latency::run(ctx, *clients, *room_size, *rate, *warmup, *duration, *size).await,
        Params::Connect { clients, settle } => connect::run(ctx, *clients, *settle).await,
        Params::Echo {
            clients,
            warmup,
            duration,
            size,
        } => echo::run(ctx, *clients, *warmup, *duration, *size).await,
        Params::Churn {
            clients,
            rooms,
            dwell_ms,
            window,
            duration,
        } => churn::run(ctx, *clients, *rooms, *dwell_ms, *window, *duration).await,
    }
}

/// A short description of the first error seen by client tasks, and how many there were.
#[derive(Default)]
pub struct ClientErrors {
    count: Cell<u64>,
    first: std::cell::RefCell<Option<String>>,
}

impl ClientErrors {
    /// Counts an error, keeping its description if it is the first.
    pub fn record(&self, e: &dyn std::fmt::Display) {
        self.count.set(self.count.get() + 1);
        let mut first = self.first.borrow_mut();
        if first.is_none() {
            *first = Some(e.to_string());
        }
    }

    /// Errors recorded so far.
    pub fn count(&self) -> u64 {
        self.count.get()
    }

    /// Adds the error count to `m`, and the first error to its notes.
    pub fn report(&self, m: &mut Metrics) {
        m.push("client_errors", self.count.get() as f64);
        if let Some(e) = self.first.borrow().as_ref() {
            m.notes.push(format!(
                "{} client connection(s) failed, first: {e}",
                self.count.get()
            ));
        }
    }
}
