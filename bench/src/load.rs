//! Machine-wide CPU use from /proc/stat, to tell whether other processes ran during a measurement.

use std::time::Duration;

use crate::Res;

/// CPU time the whole machine spent outside idle and iowait, summed over its CPUs.
#[derive(Clone, Copy, Debug)]
pub struct MachineCpu(pub Duration);

impl MachineCpu {
    /// Reads the `cpu` line of /proc/stat.
    pub fn now() -> Res<MachineCpu> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let line = stat.lines().next().ok_or("empty /proc/stat")?;
        let f: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse::<u64>())
            .collect::<Result<_, _>>()?;
        if f.len() < 8 {
            return Err("short /proc/stat cpu line".into());
        }
        // user nice system idle iowait irq softirq steal: everything but idle and iowait.
        let ticks = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
        Ok(MachineCpu(Duration::from_nanos(
            ticks.saturating_mul(1_000_000_000) / clock_ticks_per_sec(),
        )))
    }

    /// Busy time since `start`.
    pub fn since(self, start: MachineCpu) -> Duration {
        self.0.saturating_sub(start.0)
    }
}

/// USER_HZ, the unit of /proc/stat and /proc/<pid>/stat times.
pub fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as u64
    } else {
        100
    }
}

/// CPU time used so far by every process of the machine but `exclude`, with the time of the
/// children they reaped (so that processes that ended in between still count), from
/// /proc/<pid>/stat (utime + stime + cutime + cstime, 10 ms resolution per process). Unlike the
/// tick-sampled /proc/stat totals, this does not depend on when the sampling ticks fall.
pub fn others_cpu(exclude: &[u32]) -> Res<Duration> {
    let mut ticks = 0u64;
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if exclude.contains(&pid) {
            continue;
        }
        // Processes come and go while the directory is read: a missing one counts nothing.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        ticks += rest
            .split_whitespace()
            .skip(11)
            .take(4)
            .filter_map(|v| v.parse::<i64>().ok())
            .map(|v| v.max(0) as u64)
            .sum::<u64>();
    }
    Ok(Duration::from_nanos(
        ticks.saturating_mul(1_000_000_000) / clock_ticks_per_sec(),
    ))
}

/// Largest CPU time other processes may use during a measurement of `wall` before it is taken
/// again: 30 ms for the 10 ms granularity of /proc/stat and for system daemons, plus 2 %.
pub fn foreign_allowance(wall: Duration) -> Duration {
    Duration::from_millis(30) + wall / 50
}

/// Busy CPU time of the machine over `interval` that neither this process nor the server under
/// test used.
pub fn foreign(machine: Duration, own: Duration, server: Duration) -> Duration {
    machine.saturating_sub(own).saturating_sub(server)
}

/// Waits, up to `max_wait`, until the machine's CPUs have been nearly idle (below 10 % of one
/// CPU) for a 300 ms sample. Returns the busy fraction of the last sample.
pub fn wait_until_quiet(max_wait: Duration) -> Res<f64> {
    let sample = Duration::from_millis(300);
    let start = std::time::Instant::now();
    loop {
        let before = MachineCpu::now()?;
        std::thread::sleep(sample);
        let busy = MachineCpu::now()?.since(before).as_secs_f64() / sample.as_secs_f64();
        if busy < 0.10 || start.elapsed() >= max_wait {
            return Ok(busy);
        }
    }
}

/// The machine's count of connections dropped because a listener's accept queue was full
/// (`TcpExt: ListenOverflows` of /proc/net/netstat).
pub fn listen_overflows() -> Res<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat")?;
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else {
        return Err("no TcpExt lines in /proc/net/netstat".into());
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "ListenOverflows")
        .and_then(|(_, value)| value.parse::<u64>().ok())
        .ok_or_else(|| "no ListenOverflows in /proc/net/netstat".into())
}
