//! The example programs' memory allocator: mimalloc, set to give freed pages back to the system
//! at once.
//!
//! With the system allocator (glibc) a server's resident memory climbs to the high-water mark of
//! its busiest moment and stays there: in `bench/soak`, where 10,000 clients come and go round
//! after round, it ended 36 % above its value after the first round although everything the
//! rounds created was gone. mimalloc with its default one-second purge delay keeps whatever the
//! last second freed (110 to 209 MiB between rounds); purging at once, 60 to 132 MiB with no
//! growth over the run, at the system allocator's throughput (`bench/README.md`, "The
//! allocator").

use libmimalloc_sys as ffi;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`: its place in mimalloc's `mi_option_e`, which the Rust binding does
/// not name (the test below checks that it is the option whose default is 1,000 ms).
const PURGE_DELAY: ffi::mi_option_t = 15;

/// Makes mimalloc return the pages freed memory leaves empty to the system at once instead of a
/// second later; `MIMALLOC_PURGE_DELAY` no longer applies after. Call it first thing in `main`,
/// before a runtime starts other threads: mimalloc's options are plain integers, set without
/// synchronisation.
pub fn return_freed_memory_at_once() {
    // SAFETY: a plain store to one of mimalloc's option integers, made (as documented above)
    // while the program's only thread is the one calling; mimalloc reads it on each purge.
    unsafe { ffi::mi_option_set(PURGE_DELAY, 0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_mimallocs_and_becomes_zero() {
        // SAFETY: reads one integer option of the allocator.
        let read = || unsafe { ffi::mi_option_get(PURGE_DELAY) };
        assert_eq!(
            read(),
            1000,
            "mimalloc's purge delay defaults to 1,000 ms (unless MIMALLOC_PURGE_DELAY is set)"
        );
        return_freed_memory_at_once();
        assert_eq!(read(), 0);
    }
}
