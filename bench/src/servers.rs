//! The servers under test: how each is started (pinned to one core with `taskset`), when it is
//! ready, and stopping it.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::Res;

/// A server implementing the probe contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    /// roomcast's probe server.
    Roomcast,
    /// Node's socket.io, running the probe script.
    Node,
    /// socketioxide's probe server.
    Socketioxide,
    /// `floor-probe`, the least work per delivery (`latency` and `echo` only): a yardstick, run
    /// only when asked for.
    Floor,
}

impl ServerKind {
    /// Every server, in table order.
    pub const ALL: [ServerKind; 4] = [
        ServerKind::Roomcast,
        ServerKind::Node,
        ServerKind::Socketioxide,
        ServerKind::Floor,
    ];

    /// The servers measured when none are named: roomcast and its peers.
    pub const DEFAULT: [ServerKind; 3] = [
        ServerKind::Roomcast,
        ServerKind::Node,
        ServerKind::Socketioxide,
    ];

    /// The name used on the command line and in the results.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Roomcast => "roomcast",
            ServerKind::Node => "node",
            ServerKind::Socketioxide => "socketioxide",
            ServerKind::Floor => "floor",
        }
    }

    /// The server called `name`, if any.
    pub fn parse(name: &str) -> Option<ServerKind> {
        ServerKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Where the programs of the servers are.
#[derive(Clone, Debug)]
pub struct Programs {
    /// roomcast's probe binary.
    pub roomcast: PathBuf,
    /// socketioxide's probe binary.
    pub socketioxide: PathBuf,
    /// socketioxide's probe with its Redis adapter, for the cluster benchmark.
    pub socketioxide_cluster: PathBuf,
    /// The `node` executable.
    pub node: PathBuf,
    /// The probe script `node` runs.
    pub node_probe: PathBuf,
    /// The floor-probe binary.
    pub floor: PathBuf,
}

impl Programs {
    /// The default locations: roomcast's probe and floor-probe in the workspace target directory
    /// (`CARGO_TARGET_DIR` or `target/`), socketioxide's in `PEERS_TARGET_DIR` (default
    /// `../target-peers` beside the workspace), `node` from PATH.
    pub fn defaults(root: &Path) -> Programs {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let peers = std::env::var_os("PEERS_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("..").join("target-peers"));
        Programs {
            roomcast: target.join("release").join("roomcast-probe"),
            socketioxide: peers.join("release").join("socketioxide-probe"),
            socketioxide_cluster: peers.join("release").join("socketioxide-cluster-probe"),
            node: PathBuf::from("node"),
            node_probe: root.join("bench/peers/node/probe.js"),
            floor: target.join("release").join("floor-probe"),
        }
    }

    /// Checks that the files exist (node is looked up at start).
    pub fn check(&self, kinds: &[ServerKind]) -> Res<()> {
        for kind in kinds {
            let path = match kind {
                ServerKind::Roomcast => &self.roomcast,
                ServerKind::Socketioxide => &self.socketioxide,
                ServerKind::Node => &self.node_probe,
                ServerKind::Floor => &self.floor,
            };
            if !path.exists() {
                return Err(format!(
                    "{}: {} does not exist (build it first, see bench/README.md)",
                    kind.name(),
                    path.display()
                )
                .into());
            }
        }
        Ok(())
    }
}

impl Programs {
    /// Copies the compiled servers into `dir` and points at the copies, so that a rebuild
    /// during the suite cannot change what is measured halfway.
    pub fn snapshot(&mut self, dir: &Path, kinds: &[ServerKind]) -> Res<()> {
        for kind in kinds {
            let program = match kind {
                ServerKind::Roomcast => &mut self.roomcast,
                ServerKind::Socketioxide => &mut self.socketioxide,
                ServerKind::Floor => &mut self.floor,
                ServerKind::Node => continue,
            };
            let copy = dir.join(format!("{}-probe", kind.name()));
            std::fs::copy(&*program, &copy)
                .map_err(|e| format!("copying {}: {e}", program.display()))?;
            *program = copy;
        }
        Ok(())
    }
}

/// A started server process.
pub struct Running {
    child: Child,
    /// How long `stop` waits after SIGTERM before SIGKILL.
    pub grace: Duration,
    /// The server's process id.
    pub pid: u32,
    /// The address the server listens on.
    pub addr: SocketAddr,
    /// The file the server's stderr goes to.
    pub log: PathBuf,
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Res<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `kind` on a free port, pinned to `cpu`, its stderr going to `log`, and waits (at most
/// `ready_timeout`) for it to print `listening on`.
pub fn launch(
    kind: ServerKind,
    programs: &Programs,
    cpu: usize,
    log: PathBuf,
    ready_timeout: Duration,
) -> Res<Running> {
    let mut cmd = Command::new("taskset");
    cmd.arg("-c").arg(cpu.to_string());
    match kind {
        ServerKind::Roomcast => cmd.arg(&programs.roomcast),
        ServerKind::Socketioxide => cmd.arg(&programs.socketioxide),
        ServerKind::Node => cmd.arg(&programs.node).arg(&programs.node_probe),
        ServerKind::Floor => cmd.arg(&programs.floor),
    };
    launch_command(cmd, kind.name(), log, ready_timeout)
}

/// Starts `cmd` (a program under `taskset`, with its arguments and environment) with `PORT`
/// set to a free port, its stderr going to `log`, and waits (at most `ready_timeout`) for it to
/// print `listening on`.
pub fn launch_command(
    mut cmd: Command,
    name: &str,
    log: PathBuf,
    ready_timeout: Duration,
) -> Res<Running> {
    let port = free_port()?;
    let stderr = std::fs::File::create(&log)?;
    cmd.env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{name}: cannot start taskset: {e}"))?;
    let pid = child.id();
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    // Reads stdout for the readiness line, then keeps draining it so the server never blocks
    // on a full pipe.
    std::thread::spawn(move || {
        let mut ready = Some(ready_tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("listening on") {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
            }
        }
    });
    let mut running = Running {
        child,
        grace: Duration::ZERO,
        pid,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        log,
    };
    if ready_rx.recv_timeout(ready_timeout).is_err() {
        let tail = running.log_tail();
        running.stop();
        return Err(format!(
            "{name} did not print `listening on` within {ready_timeout:?}: {tail}"
        )
        .into());
    }
    Ok(running)
}

impl Running {
    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The last lines the server wrote to stderr.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
        if tail.is_empty() {
            format!("(nothing on stderr, {})", self.log.display())
        } else {
            format!("stderr: {tail}")
        }
    }

    /// The CPUs the process may run on (`Cpus_allowed_list` of /proc/<pid>/status).
    pub fn cpus_allowed(&self) -> Option<String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .map(|v| v.trim().to_owned())
    }

    /// Stops the process and reaps it: SIGTERM first when a grace period is set (a profiler
    /// wrapping the server then writes its data), SIGKILL when it is over.
    pub fn stop(&mut self) {
        if !self.grace.is_zero() && self.alive() {
            let _ = crate::os::kill(self.pid, libc::SIGTERM);
            let end = std::time::Instant::now() + self.grace;
            while self.alive() && std::time::Instant::now() < end {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}
