//! The example programs' memory allocator: mimalloc, set to give freed memory back to the system
//! at once and to keep it given back.
//!
//! With the system allocator (glibc) a server's resident memory climbs to the high-water mark of
//! its busiest moment and stays there: in `bench/soak`, where 10,000 clients come and go round
//! after round, it ended 36 % above its value after the first round although everything the
//! rounds created was gone. mimalloc as it comes keeps what the last second freed, keeps what
//! other threads freed into an idle worker's heap, and lets the kernel back its memory with
//! transparent huge pages, which fill a 2 MiB page around a few live 4 KiB ones long after a
//! round is over; between rounds the server held 110 to 209 MiB. Set up as below it holds 16 to
//! 27 MiB, at the system allocator's throughput (`bench/README.md`, "The allocator").

use std::cell::Cell;
use std::time::{Duration, Instant};

use libmimalloc_sys as ffi;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`: its place in mimalloc's `mi_option_e`, which the Rust binding does
/// not name (a test below checks that it is the option `MIMALLOC_PURGE_DELAY` sets; mimalloc
/// v3, which libmimalloc-sys builds).
const PURGE_DELAY: ffi::mi_option_t = 15;

/// `mi_option_allow_thp`, likewise unnamed (a test below checks that it is the option
/// `MIMALLOC_ALLOW_THP` sets).
const ALLOW_THP: ffi::mi_option_t = 43;

/// The shortest time between two collections of one thread's heap by [`collect_when_idle`].
const COLLECT_AT_MOST_EVERY: Duration = Duration::from_millis(100);

/// Makes mimalloc return the pages freed memory leaves empty to the system at once instead of a
/// second later (`MIMALLOC_PURGE_DELAY` no longer applies after), and turns transparent huge
/// pages off for the process and the processes it starts, as `MIMALLOC_ALLOW_THP=0` would.
///
/// Call it first thing in `main`, before a runtime starts other threads: mimalloc's options are
/// plain integers, set without synchronisation.
pub fn return_freed_memory_at_once() {
    // SAFETY: plain stores to two of mimalloc's option integers, made (as documented above)
    // while the program's only thread is the one calling; mimalloc reads them on each purge and
    // each mapping.
    unsafe {
        ffi::mi_option_set(PURGE_DELAY, 0);
        ffi::mi_option_set(ALLOW_THP, 0);
    }
    // mimalloc turns huge pages off at its start when told so by the environment; told later,
    // the process does it itself. Where the kernel refuses, memory is only less tightly given
    // back: worth a line in the log, not a failure.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE reads its flag and three zeros (unsigned longs, as the C
    // library reads a variadic call's arguments) and touches no memory of ours.
    if unsafe {
        libc::prctl(
            libc::PR_SET_THP_DISABLE,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    } != 0
    {
        eprintln!(
            "transparent huge pages stay on: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Gives back the memory other threads freed into this thread's heap, at most every 100 ms: for
/// a runtime's `on_thread_park` (see [`crate::runtime::multi_thread`]).
///
/// A block freed by a thread other than the one that allocated it waits in its owner's heap
/// until the owner next allocates from that page; a worker that goes idle after a busy moment
/// would keep those pages until the next one. Parking is when a worker has nothing to do, so
/// collecting there delays nothing it was waiting on. A worker that parks again within 100 ms
/// of its last collection skips this one: what it freed meanwhile waits for its next park (its
/// next timer or request), which keeps a busy worker, parking thousands of times a second, from
/// walking its heap each time.
pub fn collect_when_idle() {
    thread_local! {
        static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    let now = Instant::now();
    LAST.with(|last| {
        if last
            .get()
            .is_some_and(|at| now.duration_since(at) < COLLECT_AT_MOST_EVERY)
        {
            return;
        }
        last.set(Some(now));
        // SAFETY: collects the calling thread's own heap, which mimalloc allows at any time.
        unsafe { ffi::mi_collect(false) }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one of mimalloc's integer options.
    fn read(option: ffi::mi_option_t) -> std::ffi::c_long {
        // SAFETY: reads an integer option of the allocator.
        unsafe { ffi::mi_option_get(option) }
    }

    /// Runs in a process of its own (the test binary started again with this test alone): it
    /// checks the option indices against the environment mimalloc read at that process's start,
    /// then sets them up with no other test thread running.
    #[test]
    fn the_options_are_mimallocs_and_setting_up_turns_them_off() {
        const CHILD: &str = "ROOMCAST_ALLOCATOR_TEST_CHILD";
        const NAME: &str =
            "allocator::tests::the_options_are_mimallocs_and_setting_up_turns_them_off";
        if std::env::var_os(CHILD).is_some() {
            assert_eq!(
                read(PURGE_DELAY),
                4321,
                "MIMALLOC_PURGE_DELAY is not option {PURGE_DELAY}"
            );
            assert_eq!(
                read(ALLOW_THP),
                3,
                "MIMALLOC_ALLOW_THP is not option {ALLOW_THP}"
            );
            return_freed_memory_at_once();
            assert_eq!(read(PURGE_DELAY), 0);
            assert_eq!(read(ALLOW_THP), 0);
            #[cfg(target_os = "linux")]
            // SAFETY: PR_GET_THP_DISABLE reads four zeros and answers in its return value.
            assert_eq!(
                unsafe {
                    libc::prctl(
                        libc::PR_GET_THP_DISABLE,
                        0 as libc::c_ulong,
                        0 as libc::c_ulong,
                        0 as libc::c_ulong,
                        0 as libc::c_ulong,
                    )
                },
                1
            );
            return;
        }
        let exe = std::env::current_exe().expect("the test binary's path");
        let child = std::process::Command::new(exe)
            .args(["--exact", NAME, "--test-threads=1"])
            .env(CHILD, "1")
            .env("MIMALLOC_PURGE_DELAY", "4321")
            .env("MIMALLOC_ALLOW_THP", "3")
            .output()
            .expect("the test binary runs");
        let stdout = String::from_utf8_lossy(&child.stdout);
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert!(
            child.status.success() && stdout.contains("1 passed"),
            "the test in its own process:\n{stdout}\n{stderr}"
        );
    }

    #[test]
    fn collecting_an_idle_heap_twice_in_a_row_is_harmless() {
        let kept: Vec<Box<[u8; 64]>> = (0..1000).map(|_| Box::new([7; 64])).collect();
        collect_when_idle();
        collect_when_idle();
        assert!(kept.iter().all(|block| block.iter().all(|&byte| byte == 7)));
    }
}
