//! Where VideoToolbox's output callbacks leave their results: a queue filled on
//! VideoToolbox's own threads and emptied by the session's thread.
//!
//! The callbacks must not block or fail (they run inside VideoToolbox), so pushing never
//! waits; the queue stays bounded because a session submits at most its in-flight limit
//! before it takes results out.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// Results in the order the callbacks delivered them.
pub(crate) struct Outbox<T> {
    queue: Mutex<VecDeque<T>>,
    ready: Condvar,
}

impl<T> Default for Outbox<T> {
    fn default() -> Self {
        Outbox { queue: Mutex::new(VecDeque::new()), ready: Condvar::new() }
    }
}

impl<T> Outbox<T> {
    /// Called from a callback: appends and wakes a waiting taker.
    pub(crate) fn push(&self, item: T) {
        self.queue.lock().push_back(item);
        self.ready.notify_all();
    }

    /// The oldest result, without waiting.
    pub(crate) fn try_pop(&self) -> Option<T> {
        self.queue.lock().pop_front()
    }

    /// The oldest result, waiting up to `timeout` for one.
    pub(crate) fn pop_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut q = self.queue.lock();
        loop {
            if let Some(item) = q.pop_front() {
                return Some(item);
            }
            if self.ready.wait_until(&mut q, deadline).timed_out() {
                return q.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn results_from_another_thread_arrive_in_order() {
        let outbox = Arc::new(Outbox::default());
        let writer = {
            let outbox = outbox.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    outbox.push(i);
                }
            })
        };
        let mut got = Vec::new();
        while got.len() < 100 {
            got.extend(outbox.pop_timeout(Duration::from_secs(5)));
        }
        writer.join().unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        assert_eq!(outbox.try_pop(), None);
        let start = Instant::now();
        assert_eq!(outbox.pop_timeout(Duration::from_millis(30)), None);
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
