//! `LearningRateScheduler`: sets the learning rate at the start of every epoch from a schedule.
//!
//! The schedule receives the 0-based epoch and the current rate (Keras's `schedule(epoch, lr)`); the older
//! one-argument form `schedule(epoch)` is [`LearningRateScheduler::from_epoch`]. A result that is NaN, infinite
//! (also in float32, the precision of Keras's rate: 1e39 is) or negative is an error (Keras only rejects non-floats). At every epoch end the rate is written into the logs
//! as `learning_rate`.
//!
//! ```
//! use rkeras_callbacks::testing::{logs, simulate_fit, MockControl};
//! use rkeras_callbacks::{LearningRateScheduler, RunParams};
//! // Keep the rate for 2 epochs, then halve it every epoch.
//! let mut scheduler = LearningRateScheduler::new(|epoch, lr| if epoch < 2 { lr } else { lr * 0.5 });
//! let mut ctl = MockControl::new(0.1);
//! let mut epochs = vec![logs(&[("loss", 1.0)]); 4];
//! simulate_fit(&mut scheduler, &mut ctl, &RunParams::default(), &epochs).unwrap();
//! assert_eq!(ctl.lr_history, [0.1, 0.1, 0.05, 0.025]);
//! ```

use crate::callback::Callback;
use crate::console;
use crate::control::TrainerControl;
use crate::error::{CallbackError, Result};
use crate::logs::{Logs, LogsExt};
use crate::pyformat::repr_f64;

const NAME: &str = "LearningRateScheduler";

/// A schedule: (0-based epoch, current rate) → new rate.
pub type Schedule = Box<dyn FnMut(usize, f64) -> f64 + Send>;

/// Keras's `LearningRateScheduler(schedule, verbose=0)`.
pub struct LearningRateScheduler {
    schedule: Schedule,
    verbose: u8,
}

impl LearningRateScheduler {
    /// A scheduler from `schedule(epoch, lr)`.
    pub fn new(schedule: impl FnMut(usize, f64) -> f64 + Send + 'static) -> Self {
        Self {
            schedule: Box::new(schedule),
            verbose: 0,
        }
    }

    /// A scheduler from the one-argument form `schedule(epoch)`.
    pub fn from_epoch(mut schedule: impl FnMut(usize) -> f64 + Send + 'static) -> Self {
        Self::new(move |epoch, _lr| schedule(epoch))
    }

    /// 0 silent, 1 prints the rate set at each epoch. Defaults to 0.
    pub fn with_verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
}

impl Callback for LearningRateScheduler {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_epoch_begin(&mut self, epoch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        let lr = (self.schedule)(epoch, ctl.learning_rate());
        // The rate is a float32 variable (in Keras and in every update): 1e39 or 1e308 would be infinite there.
        if !lr.is_finite() || !(lr as f32).is_finite() || lr < 0.0 {
            return Err(CallbackError::InvalidArgument {
                callback: NAME,
                argument: "schedule",
                reason: format!(
                    "the schedule returned {} at epoch {epoch}; a learning rate must be a number >= 0, finite in float32 (at most 3.4028235e38)",
                    repr_f64(lr)
                ),
            });
        }
        ctl.set_learning_rate(lr)?;
        if self.verbose > 0 {
            console::print_msg(&format!(
                "Epoch {}: LearningRateScheduler setting learning rate to {}.",
                epoch + 1,
                repr_f64(lr)
            ));
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        logs.set("learning_rate", ctl.learning_rate());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::RunParams;
    use crate::testing::{MockControl, logs, simulate_fit};

    #[test]
    fn both_schedule_forms_set_the_rate_each_epoch() {
        // (scheduler, start rate, expected rates set, why)
        let rows: Vec<(LearningRateScheduler, f64, Vec<f64>, &str)> = vec![
            (
                LearningRateScheduler::new(|_, lr| lr * 0.5),
                1.0,
                vec![0.5, 0.25, 0.125],
                "two-argument form",
            ),
            (
                LearningRateScheduler::from_epoch(|e| 0.1 / (e + 1) as f64),
                9.0,
                vec![0.1, 0.05, 0.1 / 3.0],
                "one-argument",
            ),
            (
                LearningRateScheduler::new(|_, _| 0.0),
                1.0,
                vec![0.0; 3],
                "zero is a valid rate",
            ),
        ];
        for (mut scheduler, start, want, why) in rows {
            let mut ctl = MockControl::new(start);
            let epochs = vec![logs(&[("loss", 1.0)]); 3];
            simulate_fit(&mut scheduler, &mut ctl, &RunParams::default(), &epochs).unwrap();
            assert_eq!(ctl.lr_history, want, "{why}");
        }
    }

    #[test]
    fn writes_learning_rate_into_the_epoch_logs() {
        let mut scheduler = LearningRateScheduler::new(|e, _| [0.3, 0.2][e]);
        let mut ctl = MockControl::new(1.0);
        for (epoch, want) in [(0, 0.3), (1, 0.2)] {
            scheduler.on_epoch_begin(epoch, &mut ctl).unwrap();
            let mut l = logs(&[("loss", 1.0)]);
            scheduler.on_epoch_end(epoch, &mut l, &mut ctl).unwrap();
            assert_eq!(l.value("learning_rate"), Some(want));
        }
    }

    #[test]
    fn invalid_rates_are_errors() {
        for bad in [f64::NAN, -0.1, f64::INFINITY, 1e39, 1e308] {
            let mut scheduler = LearningRateScheduler::new(move |_, _| bad);
            let mut ctl = MockControl::new(1.0);
            let err = scheduler
                .on_epoch_begin(4, &mut ctl)
                .unwrap_err()
                .to_string();
            assert!(err.contains("at epoch 4"), "{err}");
            assert!(ctl.lr_history.is_empty(), "the bad rate is not applied");
        }
    }

    #[test]
    fn verbose_message_matches_keras() {
        let mut scheduler = LearningRateScheduler::new(|_, _| 1e-5).with_verbose(1);
        let (_, said) = console::capture(|| {
            scheduler
                .on_epoch_begin(2, &mut MockControl::new(1.0))
                .unwrap()
        });
        assert_eq!(
            said.messages,
            ["Epoch 3: LearningRateScheduler setting learning rate to 1e-05."]
        );
    }
}
