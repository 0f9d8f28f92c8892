//! `CallbackList`: what `fit` talks to. Each hook is passed to every callback in list order; the first error
//! stops the fan-out and is returned.
//!
//! [`CallbackList::for_fit`] builds the list Keras 3's `fit` builds: the user's callbacks in the order given, then
//! `History`, then `ProgbarLogger` when `verbose` is not 0. History comes after the user's callbacks (Keras
//! appends it) so that keys they add to the epoch logs, such as ReduceLROnPlateau's `learning_rate`, are
//! recorded; the progress bar comes last so that it prints the complete logs.
//!
//! Contract for the training loop: call `set_params`/`on_train_begin` before the first epoch (then read the
//! initial epoch, which BackupAndRestore may have moved), check the stop flag after every training batch and
//! every epoch, and call `on_train_end` only when `fit` completes — including an early stop — never after an
//! error, so that a failed run keeps its backup. Callback states for a resumed run are loaded after
//! `on_train_begin`, which resets them.
//!
//! ```
//! use rkeras_callbacks::testing::{logs, simulate_fit, MockControl};
//! use rkeras_callbacks::{Callback, CallbackList, EarlyStopping, ReduceLROnPlateau, RunParams};
//! let mut early = EarlyStopping::new().with_patience(1);
//! let user: Vec<Box<dyn Callback + '_>> = vec![Box::new(&mut early), Box::new(ReduceLROnPlateau::new())];
//! let mut list = CallbackList::for_fit(user, 0);
//! assert_eq!(list.names(), ["EarlyStopping", "ReduceLROnPlateau", "History"]);
//! let epochs = vec![logs(&[("loss", 1.0), ("val_loss", 0.5)]); 4];
//! simulate_fit(&mut list, &mut MockControl::new(0.001), &RunParams::default(), &epochs).unwrap();
//! let history = list.take_history().unwrap();
//! assert_eq!(history.get("learning_rate"), Some(&[0.001, 0.001][..]));
//! drop(list);
//! assert_eq!(early.stopped_epoch(), Some(1));
//! ```

use crate::callback::Callback;
use crate::control::{RunParams, TrainerControl};
use crate::error::{CallbackError, Result};
use crate::history::History;
use crate::logs::Logs;
use crate::progbar_logger::ProgbarLogger;
use ndarray::ArrayD;

enum Entry<'a> {
    User(Box<dyn Callback + 'a>),
    History(History),
    Progbar(ProgbarLogger),
}

impl<'a> Entry<'a> {
    fn get(&self) -> &(dyn Callback + 'a) {
        match self {
            Entry::User(cb) => cb.as_ref(),
            Entry::History(h) => h,
            Entry::Progbar(p) => p,
        }
    }

    fn get_mut(&mut self) -> &mut (dyn Callback + 'a) {
        match self {
            Entry::User(cb) => cb.as_mut(),
            Entry::History(h) => h,
            Entry::Progbar(p) => p,
        }
    }
}

/// An ordered list of callbacks, itself a [`Callback`].
#[derive(Default)]
pub struct CallbackList<'a> {
    entries: Vec<Entry<'a>>,
}

impl<'a> CallbackList<'a> {
    /// An empty list.
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// The list `fit` uses: `callbacks` in order, then `History`, then `ProgbarLogger` if `verbose > 0`.
    pub fn for_fit(
        callbacks: impl IntoIterator<Item = Box<dyn Callback + 'a>>,
        verbose: u8,
    ) -> Self {
        let mut list = Self::new();
        list.entries.extend(callbacks.into_iter().map(Entry::User));
        list.entries.push(Entry::History(History::new()));
        if verbose > 0 {
            list.entries.push(Entry::Progbar(ProgbarLogger::new()));
        }
        list
    }

    /// The list `evaluate` and `predict` use (Keras builds it without History): `callbacks` in order, then
    /// `ProgbarLogger` if `verbose > 0`.
    pub fn for_run(
        callbacks: impl IntoIterator<Item = Box<dyn Callback + 'a>>,
        verbose: u8,
    ) -> Self {
        let mut list = Self::new();
        list.entries.extend(callbacks.into_iter().map(Entry::User));
        if verbose > 0 {
            list.entries.push(Entry::Progbar(ProgbarLogger::new()));
        }
        list
    }

    /// Appends a callback; pass `&mut cb` to keep ownership and inspect it after `fit`.
    pub fn push(&mut self, callback: impl Callback + 'a) {
        self.entries.push(Entry::User(Box::new(callback)));
    }

    /// Appends a callback, builder style.
    pub fn with(mut self, callback: impl Callback + 'a) -> Self {
        self.push(callback);
        self
    }

    /// Appends a `History` that [`CallbackList::history`] can hand back.
    pub fn push_history(&mut self) {
        self.entries.push(Entry::History(History::new()));
    }

    /// Appends a `ProgbarLogger`.
    pub fn push_progbar(&mut self) {
        self.entries.push(Entry::Progbar(ProgbarLogger::new()));
    }

    /// Number of callbacks.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The callbacks' names, in run order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.get().name()).collect()
    }

    /// The list's `History` (the first one added by [`CallbackList::for_fit`] or
    /// [`CallbackList::push_history`]).
    pub fn history(&self) -> Option<&History> {
        self.entries.iter().find_map(|e| match e {
            Entry::History(h) => Some(h),
            _ => None,
        })
    }

    /// Takes the `History` out (leaving an empty one), to return it from `fit`.
    pub fn take_history(&mut self) -> Option<History> {
        self.entries.iter_mut().find_map(|e| match e {
            Entry::History(h) => Some(std::mem::take(h)),
            _ => None,
        })
    }

    /// Runs `hook` on every callback in order, stopping at the first error.
    fn each(&mut self, mut hook: impl FnMut(&mut (dyn Callback + 'a)) -> Result<()>) -> Result<()> {
        self.entries.iter_mut().try_for_each(|e| hook(e.get_mut()))
    }

    /// Every callback's [`Callback::state`], in order.
    pub fn states(&self) -> Vec<Option<serde_json::Value>> {
        self.entries.iter().map(|e| e.get().state()).collect()
    }

    /// Restores states returned by [`CallbackList::states`]; the list must hold the same number of callbacks.
    pub fn load_states(&mut self, states: &[Option<serde_json::Value>]) -> Result<()> {
        self.check_len(states.len())?;
        for (entry, state) in self.entries.iter_mut().zip(states) {
            if let Some(state) = state {
                entry.get_mut().load_state(state)?;
            }
        }
        Ok(())
    }

    /// Every callback's [`Callback::state_weights`], in order.
    pub fn weight_states(&self) -> Vec<Option<Vec<ArrayD<f32>>>> {
        self.entries
            .iter()
            .map(|e| e.get().state_weights())
            .collect()
    }

    /// Restores weights returned by [`CallbackList::weight_states`].
    pub fn load_weight_states(&mut self, weights: Vec<Option<Vec<ArrayD<f32>>>>) -> Result<()> {
        self.check_len(weights.len())?;
        for (entry, w) in self.entries.iter_mut().zip(weights) {
            if let Some(w) = w {
                entry.get_mut().load_state_weights(w)?;
            }
        }
        Ok(())
    }

    fn check_len(&self, n: usize) -> Result<()> {
        if n == self.entries.len() {
            Ok(())
        } else {
            Err(CallbackError::InvalidArgument {
                callback: "CallbackList",
                argument: "state",
                reason: format!(
                    "expected states for {} callbacks ({:?}), received {n}",
                    self.entries.len(),
                    self.names()
                ),
            })
        }
    }
}

impl Callback for CallbackList<'_> {
    fn name(&self) -> &'static str {
        "CallbackList"
    }
    fn set_params(&mut self, params: &RunParams) {
        self.entries
            .iter_mut()
            .for_each(|e| e.get_mut().set_params(params));
    }
    fn on_train_begin(&mut self, params: &RunParams, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_train_begin(params, ctl))
    }
    fn on_train_end(&mut self, logs: &Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_train_end(logs, ctl))
    }
    fn on_epoch_begin(&mut self, epoch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_epoch_begin(epoch, ctl))
    }
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        self.each(|cb| cb.on_epoch_end(epoch, logs, ctl))
    }
    fn on_train_batch_begin(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_train_batch_begin(batch, ctl))
    }
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        self.each(|cb| cb.on_train_batch_end(batch, logs, ctl))
    }
    fn on_test_begin(&mut self, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_test_begin(ctl))
    }
    fn on_test_end(&mut self, logs: &Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_test_end(logs, ctl))
    }
    fn on_test_batch_begin(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_test_batch_begin(batch, ctl))
    }
    fn on_test_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        self.each(|cb| cb.on_test_batch_end(batch, logs, ctl))
    }
    fn on_predict_begin(&mut self, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_predict_begin(ctl))
    }
    fn on_predict_end(&mut self, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_predict_end(ctl))
    }
    fn on_predict_batch_begin(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_predict_batch_begin(batch, ctl))
    }
    fn on_predict_batch_end(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        self.each(|cb| cb.on_predict_batch_end(batch, ctl))
    }
    /// A JSON array with one entry per callback (`null` for stateless ones).
    fn state(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::Array(
            self.states()
                .into_iter()
                .map(|s| s.unwrap_or(serde_json::Value::Null))
                .collect(),
        ))
    }
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        let entries = state
            .as_array()
            .ok_or_else(|| CallbackError::InvalidArgument {
                callback: "CallbackList",
                argument: "state",
                reason: format!("expected a JSON array, received {state}"),
            })?;
        let states: Vec<Option<serde_json::Value>> = entries
            .iter()
            .map(|v| (!v.is_null()).then(|| v.clone()))
            .collect();
        self.load_states(&states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda_callback::LambdaCallback;
    use crate::testing::{MockControl, logs, simulate_fit};
    use std::sync::{Arc, Mutex};

    fn recorder(name: &'static str, events: &Arc<Mutex<Vec<String>>>) -> LambdaCallback {
        let (a, b) = (Arc::clone(events), Arc::clone(events));
        LambdaCallback::new()
            .on_epoch_begin(move |e| a.lock().unwrap().push(format!("{name} begin {e}")))
            .on_epoch_end(move |e, _| b.lock().unwrap().push(format!("{name} end {e}")))
    }

    #[test]
    fn hooks_run_in_list_order() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut list = CallbackList::new()
            .with(recorder("a", &events))
            .with(recorder("b", &events));
        simulate_fit(
            &mut list,
            &mut MockControl::new(0.1),
            &RunParams::default(),
            &[logs(&[("loss", 1.0)])],
        )
        .unwrap();
        assert_eq!(
            *events.lock().unwrap(),
            ["a begin 0", "b begin 0", "a end 0", "b end 0"]
        );
    }

    #[test]
    fn the_first_error_stops_the_fan_out() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let failing = LambdaCallback::new().on_epoch_begin(|_| Err("first"));
        let second = LambdaCallback::new().on_epoch_begin(|_| Err("second"));
        let mut list = CallbackList::new()
            .with(failing)
            .with(second)
            .with(recorder("c", &events));
        let err = list
            .on_epoch_begin(0, &mut MockControl::new(0.1))
            .unwrap_err();
        assert_eq!(err.to_string(), "first");
        assert!(events.lock().unwrap().is_empty());
    }

    #[test]
    fn for_fit_order_and_progbar() {
        let list = CallbackList::for_fit(
            vec![Box::new(LambdaCallback::new()) as Box<dyn Callback>],
            1,
        );
        assert_eq!(list.names(), ["LambdaCallback", "History", "ProgbarLogger"]);
        assert_eq!(CallbackList::for_fit(Vec::new(), 0).names(), ["History"]);
        let run = CallbackList::for_run(
            vec![Box::new(LambdaCallback::new()) as Box<dyn Callback>],
            1,
        );
        assert_eq!(run.names(), ["LambdaCallback", "ProgbarLogger"]);
        assert!(CallbackList::for_run(Vec::new(), 0).is_empty());
    }

    #[test]
    fn states_round_trip_and_mismatches_are_errors() {
        let mut a = CallbackList::new().with(
            crate::EarlyStopping::new()
                .with_monitor("loss")
                .with_patience(5),
        );
        a.push_history();
        let epochs = [logs(&[("loss", 1.0)]), logs(&[("loss", 2.0)])];
        simulate_fit(
            &mut a,
            &mut MockControl::new(0.1),
            &RunParams::default(),
            &epochs,
        )
        .unwrap();
        let saved = a.state().unwrap();
        assert_eq!(
            saved[1],
            serde_json::Value::Null,
            "History keeps no resumable state"
        );
        let mut b = CallbackList::new().with(
            crate::EarlyStopping::new()
                .with_monitor("loss")
                .with_patience(5),
        );
        b.push_history();
        b.load_state(&saved).unwrap();
        assert_eq!(b.state().unwrap(), saved);
        assert!(CallbackList::new().load_state(&saved).is_err());
    }
}
