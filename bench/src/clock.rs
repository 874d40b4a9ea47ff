//! One monotonic time base for the whole load generator, so that timestamps carried in payloads
//! can be compared with reception times.

use std::sync::OnceLock;
use std::time::Instant;

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Nanoseconds from the time base to `t` (0 for instants before it).
pub fn ns_at(t: Instant) -> u64 {
    t.saturating_duration_since(base()).as_nanos() as u64
}

/// Nanoseconds from the time base to now.
pub fn now_ns() -> u64 {
    ns_at(Instant::now())
}

/// Fixes the time base; call once at start-up, before any timestamp is taken.
pub fn init() {
    let _ = base();
}
