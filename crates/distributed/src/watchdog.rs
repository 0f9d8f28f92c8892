//! A thread that ends the whole job when a collective operation waits too long (a rank that hangs or left).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Deadlines of the collective operation in progress, in milliseconds since the watchdog started (0: none).
#[derive(Debug)]
pub(crate) struct Watchdog {
    started: Instant,
    deadline_ms: AtomicU64,
    timeout_ms: AtomicU64,
}

impl Watchdog {
    /// Starts the watching thread; `expire(message)` runs on it when a deadline passes (it must end the job).
    pub(crate) fn start(timeout: Duration, expire: fn(&str) -> !) -> Arc<Watchdog> {
        static STARTED: OnceLock<Arc<Watchdog>> = OnceLock::new();
        STARTED
            .get_or_init(|| {
                let dog = Arc::new(Watchdog {
                    started: Instant::now(),
                    deadline_ms: AtomicU64::new(0),
                    timeout_ms: AtomicU64::new(millis(timeout)),
                });
                let watched = dog.clone();
                std::thread::spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_millis(100));
                        let deadline = watched.deadline_ms.load(Ordering::Acquire);
                        if deadline != 0 && watched.now_ms() > deadline {
                            expire(&format!(
                                "a collective operation waited more than {} s for the other ranks \
                                 (a rank stopped, hangs or runs a different fit); ending every rank",
                                watched.timeout_ms.load(Ordering::Relaxed) / 1000
                            ));
                        }
                    }
                });
                dog
            })
            .clone()
    }

    fn now_ms(&self) -> u64 {
        millis(self.started.elapsed())
    }

    /// Sets the longest wait of one collective operation.
    pub(crate) fn set_timeout(&self, timeout: Duration) {
        self.timeout_ms.store(millis(timeout), Ordering::Relaxed);
    }

    /// Runs `f` (a collective operation) under the deadline.
    pub(crate) fn guard<R>(&self, f: impl FnOnce() -> R) -> R {
        let deadline = self.now_ms() + self.timeout_ms.load(Ordering::Relaxed).max(1);
        self.deadline_ms.store(deadline, Ordering::Release);
        let result = f();
        self.deadline_ms.store(0, Ordering::Release);
        result
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
