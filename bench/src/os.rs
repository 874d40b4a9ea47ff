//! Operating-system helpers: CPU affinity, file-descriptor limit, socket options and CPU clocks.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::Res;

/// Pins the calling thread to one CPU. Threads it creates afterwards inherit the affinity.
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; zeroed is its empty set, CPU_SET stays within it for
    // cpu < CPU_SETSIZE (checked), and pid 0 designates the calling thread.
    unsafe {
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cpu index"));
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Raises the soft open-file limit to the hard limit when it is below `needed`.
pub fn raise_nofile_limit(needed: u64) -> Res<()> {
    // SAFETY: rlimit is plain data; getrlimit/setrlimit read and write only it.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(io::Error::last_os_error().into());
        }
        if (lim.rlim_cur as u64) < needed {
            lim.rlim_cur = lim.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(io::Error::last_os_error().into());
            }
        }
        if (lim.rlim_cur as u64) < needed {
            return Err(format!(
                "open-file limit {} is below the {needed} descriptors needed",
                lim.rlim_cur
            )
            .into());
        }
    }
    Ok(())
}

/// Makes `close` reset the connection (SO_LINGER with a zero timeout), so that closing many
/// client sockets leaves no TIME_WAIT entries holding local ports.
pub fn set_linger_zero(fd: RawFd) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `linger` outlives the call and its size is passed along.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn clock_time(clock: libc::clockid_t) -> io::Result<Duration> {
    // SAFETY: timespec is plain data and clock_gettime only writes into it.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        if libc::clock_gettime(clock, &mut ts) != 0 {
            return Err(io::Error::last_os_error());
        }
        ts
    };
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// User plus system CPU time of the calling thread (nanosecond resolution).
pub fn thread_cpu() -> Duration {
    clock_time(libc::CLOCK_THREAD_CPUTIME_ID).unwrap_or_default()
}

/// User plus system CPU time of this process, all threads (nanosecond resolution).
pub fn process_cpu() -> Duration {
    clock_time(libc::CLOCK_PROCESS_CPUTIME_ID).unwrap_or_default()
}

/// User plus system CPU time of another process, all its threads including those that have
/// exited, with nanosecond resolution (the process CPU clock of `clock_getcpuclockid`).
pub fn process_cpu_of(pid: u32) -> io::Result<Duration> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: clock_getcpuclockid writes only the clock id.
    let rc = unsafe { libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    clock_time(clock)
}

/// Sends `signal` to process `pid`.
pub fn kill(pid: u32, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: kill has no memory effects.
    if unsafe { libc::kill(pid as libc::pid_t, signal) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
