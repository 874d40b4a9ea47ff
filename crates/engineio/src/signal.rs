//! A wake-up for a single waiter: what a session's writer waits on.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use futures_util::task::AtomicWaker;

/// One stored permit and one waker: `Notify::notify_one` for a single waiter, without the lock
/// that `Notify` takes each time a registered waiter is polled.
#[derive(Default)]
pub(crate) struct Signal {
    raised: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    /// Stores the permit and wakes the waiter, if any.
    pub(crate) fn raise(&self) {
        self.raised.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Resolves once the permit is stored, taking it. One waiter at a time; cancel-safe (a
    /// dropped wait leaves the permit for the next).
    pub(crate) async fn wait(&self) {
        poll_fn(|cx| {
            if self.raised.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.raised.swap(false, Ordering::AcqRel) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_permit_raised_before_the_wait_is_kept() {
        let signal = Signal::default();
        signal.raise();
        signal.wait().await;
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(20), signal.wait()).await;
        assert!(waited.is_err(), "one raise, one wait");
    }

    #[tokio::test]
    async fn a_raise_wakes_the_waiter() {
        let signal = std::sync::Arc::new(Signal::default());
        let waiter = tokio::spawn({
            let signal = signal.clone();
            async move { signal.wait().await }
        });
        tokio::task::yield_now().await;
        signal.raise();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("joined");
    }
}
