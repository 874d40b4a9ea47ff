//! The example servers' runtime: tokio's multi-thread scheduler, whose workers give back the
//! memory freed into their heaps when they go idle.

use tokio::runtime::{Builder, Runtime};

use crate::allocator;

/// A multi-thread runtime with every driver enabled, like `#[tokio::main]`'s, that collects a
/// worker's heap when the worker parks ([`allocator::collect_when_idle`]). Build it after
/// [`allocator::return_freed_memory_at_once`].
///
/// ```no_run
/// roomcast_examples::allocator::return_freed_memory_at_once();
/// let runtime = roomcast_examples::runtime::multi_thread()?;
/// runtime.block_on(async { /* serve */ });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn multi_thread() -> std::io::Result<Runtime> {
    Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(allocator::collect_when_idle)
        .build()
}
