//! CPU time and memory of the server process under test, from /proc.

use std::time::Duration;

use crate::load::clock_ticks_per_sec;
use crate::os::process_cpu_of;
use crate::Res;

/// One reading of a process's counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcSample {
    /// User plus system time of all threads, nanosecond resolution (process CPU clock).
    pub cpu: Duration,
    /// utime + stime of /proc/<pid>/stat (the same total in clock ticks of 10 ms).
    pub stat_cpu: Duration,
    /// Resident set size (VmRSS), bytes.
    pub rss: u64,
    /// Peak resident set size (VmHWM), bytes.
    pub hwm: u64,
}

/// Reads the counters of process `pid`.
pub fn sample(pid: u32) -> Res<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces: the fields after it follow its last ')'.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("malformed /proc/<pid>/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    let ticks = |i: usize| -> Res<u64> {
        Ok(fields
            .get(i)
            .ok_or("short /proc/<pid>/stat")?
            .parse::<u64>()?)
    };
    let stat_ticks = ticks(11)? + ticks(12)?;
    let stat_cpu = Duration::from_nanos(stat_ticks * 1_000_000_000 / clock_ticks_per_sec());

    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let cpu = process_cpu_of(pid).unwrap_or(stat_cpu);
    Ok(ProcSample {
        cpu,
        stat_cpu,
        rss: kb("VmRSS:") * 1024,
        hwm: kb("VmHWM:") * 1024,
    })
}
