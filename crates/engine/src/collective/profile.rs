//! Where a training step across ranks spends its time: this rank's shards, encoding them, the exchanges (the
//! all-to-all of gradient blocks and the all-gather of their sums, waiting for the slowest rank included) and
//! decoding and summing; with the bytes sent to and received from the other ranks. One process is one rank, so the totals are the process's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Cumulative time and bytes of the steps run across ranks since the process started (or the last
/// [`reset_profile`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CollectiveProfile {
    /// Steps measured.
    pub steps: u64,
    /// This rank's shards: forward and backward.
    pub compute: Duration,
    /// Encoding this rank's results into its message.
    pub encode: Duration,
    /// The exchanges (all-to-all of gradient blocks, all-gather of the summed blocks), including the wait for
    /// the other ranks.
    pub all_gather: Duration,
    /// Decoding the received messages, summing this rank's blocks and assembling the summed gradients.
    pub decode: Duration,
    /// Bytes this rank sent to the other ranks.
    pub sent_bytes: u64,
    /// Bytes this rank received from the other ranks.
    pub received_bytes: u64,
}

impl CollectiveProfile {
    /// Mean per step, in microseconds: `[compute, encode, all_gather, decode]`.
    ///
    /// ```
    /// use rkeras_engine::collective::CollectiveProfile;
    /// use std::time::Duration;
    /// let p = CollectiveProfile { steps: 2, encode: Duration::from_micros(30), ..Default::default() };
    /// assert_eq!(p.per_step_micros(), [0.0, 15.0, 0.0, 0.0]);
    /// ```
    pub fn per_step_micros(&self) -> [f64; 4] {
        let n = self.steps.max(1) as f64;
        [self.compute, self.encode, self.all_gather, self.decode].map(|d| d.as_secs_f64() * 1e6 / n)
    }
}

const FIELDS: usize = 7;
static TOTALS: [AtomicU64; FIELDS] = [const { AtomicU64::new(0) }; FIELDS];

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Adds one step.
pub(super) fn record(times: [Duration; 4], sent: u64, received: u64) {
    let values = [
        1,
        nanos(times[0]),
        nanos(times[1]),
        nanos(times[2]),
        nanos(times[3]),
        sent,
        received,
    ];
    for (total, v) in TOTALS.iter().zip(values) {
        total.fetch_add(v, Ordering::Relaxed);
    }
}

/// The steps across ranks measured so far in this process.
pub fn profile() -> CollectiveProfile {
    let [
        steps,
        compute,
        encode,
        all_gather,
        decode,
        sent_bytes,
        received_bytes,
    ] = TOTALS.each_ref().map(|t| t.load(Ordering::Relaxed));
    CollectiveProfile {
        steps,
        compute: Duration::from_nanos(compute),
        encode: Duration::from_nanos(encode),
        all_gather: Duration::from_nanos(all_gather),
        decode: Duration::from_nanos(decode),
        sent_bytes,
        received_bytes,
    }
}

/// Starts the profile again (after a warm-up epoch, say).
pub fn reset_profile() {
    TOTALS.iter().for_each(|t| t.store(0, Ordering::Relaxed));
}
