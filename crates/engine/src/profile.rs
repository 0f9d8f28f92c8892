//! Where training time goes: cumulative forward / backward / optimizer time over training steps.

use std::time::Duration;

/// Cumulative wall-clock time of the training steps since compile (or the last reset), split by phase. The
/// batch's shards run forward and backward side by side; that phase's wall time is split between `forward`
/// and `backward` in the proportion the shards spent in each.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepProfile {
    /// Training steps measured.
    pub steps: u64,
    /// Forward pass and loss.
    pub forward: Duration,
    /// Back-propagation.
    pub backward: Duration,
    /// The optimizer's update.
    pub optimizer: Duration,
}

impl StepProfile {
    /// Records one step whose shards ran side by side for `wall`, each spending `(forward, backward)`: the
    /// phase's wall time is split by the shards' forward/backward shares.
    pub(crate) fn add_step(
        &mut self,
        wall: Duration,
        shards: impl Iterator<Item = (Duration, Duration)>,
    ) {
        let (forward, backward) = shards.fold((0.0, 0.0), |(f, b), (sf, sb)| {
            (f + sf.as_secs_f64(), b + sb.as_secs_f64())
        });
        let forward_share = if forward + backward > 0.0 {
            forward / (forward + backward)
        } else {
            1.0
        };
        self.forward += wall.mul_f64(forward_share);
        self.backward += wall.mul_f64(1.0 - forward_share);
        self.steps += 1;
    }

    /// Mean time per step of each phase, in microseconds: `(forward, backward, optimizer)`.
    pub fn per_step_micros(&self) -> (f64, f64, f64) {
        let n = self.steps.max(1) as f64;
        let us = |d: Duration| d.as_secs_f64() * 1e6 / n;
        (us(self.forward), us(self.backward), us(self.optimizer))
    }
}
