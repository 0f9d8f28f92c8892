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

/// What one training step's phases took: the wall time of its shards running side by side, each shard's
/// `(forward, backward)` time, and the optimizer's update (zero when the batch updated nothing).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StepTiming {
    pub(crate) parallel_wall: Duration,
    pub(crate) shards: Vec<(Duration, Duration)>,
    pub(crate) optimizer: Duration,
}

impl StepProfile {
    /// Records one step: the shards' wall time is split between forward and backward by the shards'
    /// forward/backward shares.
    pub(crate) fn record(&mut self, timing: &StepTiming) {
        let (forward, backward) = timing.shards.iter().fold((0.0, 0.0), |(f, b), (sf, sb)| {
            (f + sf.as_secs_f64(), b + sb.as_secs_f64())
        });
        let wall = timing.parallel_wall;
        let forward_share = if forward + backward > 0.0 {
            forward / (forward + backward)
        } else {
            1.0
        };
        self.forward += wall.mul_f64(forward_share);
        self.backward += wall.mul_f64(1.0 - forward_share);
        self.optimizer += timing.optimizer;
        self.steps += 1;
    }

    /// Mean time per step of each phase, in microseconds: `(forward, backward, optimizer)`.
    pub fn per_step_micros(&self) -> (f64, f64, f64) {
        let n = self.steps.max(1) as f64;
        let us = |d: Duration| d.as_secs_f64() * 1e6 / n;
        (us(self.forward), us(self.backward), us(self.optimizer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_splits_the_shards_wall_time_by_their_forward_share() {
        let mut profile = StepProfile::default();
        let ms = Duration::from_millis;
        // Shards spent 3 ms forward and 1 ms backward in all: 3/4 of the 8 ms wall time is forward.
        profile.record(&StepTiming {
            parallel_wall: ms(8),
            shards: vec![(ms(2), ms(1)), (ms(1), ms(0))],
            optimizer: ms(5),
        });
        profile.record(&StepTiming::default());
        assert_eq!(profile.steps, 2);
        assert_eq!(profile.forward, ms(6));
        assert_eq!(profile.backward, ms(2));
        assert_eq!(profile.optimizer, ms(5));
        let (forward, backward, optimizer) = profile.per_step_micros();
        assert_eq!((forward, backward, optimizer), (3000.0, 1000.0, 2500.0));
    }
}
