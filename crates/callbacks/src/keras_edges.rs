//! Keras 3.15's own decisions on edge-case sequences of epoch logs (NaN or infinite first values, gains equal to
//! `min_delta` in float32, thresholds), read from `tests/fixtures/keras_callback_edges.json`, which
//! `scripts/keras_callback_edges.py` writes by driving Keras's callbacks; and fit's hook order to replay them.
//! Each callback's tests build it from a case's arguments and compare its decisions with Keras's.

use crate::callback::Callback;
use crate::control::RunParams;
use crate::testing::{MockControl, logs};
use serde_json::Value;

const FIXTURE: &str = include_str!("../tests/fixtures/keras_callback_edges.json");

/// One sequence of logs with Keras's arguments and decisions.
pub(crate) struct EdgeCase {
    /// What the case checks.
    pub name: String,
    /// The callback's keyword arguments (floats as Python reprs in strings).
    pub config: serde_json::Map<String, Value>,
    /// The logged key, one value per epoch.
    pub key: String,
    pub values: Vec<f64>,
    /// The optimizer's starting rate.
    pub lr: f64,
    /// Keras's decisions.
    pub expected: Value,
}

/// Python's repr of a float (`"0.1"`, `"nan"`, `"-inf"`), as the script writes it.
pub(crate) fn float(value: &Value) -> f64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a float string"));
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

impl EdgeCase {
    /// The float argument `name`, if given.
    pub fn float(&self, name: &str) -> Option<f64> {
        self.config.get(name).map(float)
    }

    /// The integer argument `name`, if given.
    pub fn count(&self, name: &str) -> Option<usize> {
        self.config.get(name).map(|v| v.as_u64().unwrap() as usize)
    }

    /// The string argument `name`, if given.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.config.get(name).map(|v| v.as_str().unwrap())
    }

    /// Fails when the case uses an argument the test does not apply.
    pub fn check_arguments(&self, known: &[&str]) {
        for name in self.config.keys() {
            assert!(
                known.contains(&name.as_str()),
                "{}: argument {name} not applied",
                self.name
            );
        }
    }
}

/// The cases for `callback` (at least one: a missing section fails).
pub(crate) fn cases(callback: &str) -> Vec<EdgeCase> {
    let doc: Value = serde_json::from_str(FIXTURE).unwrap();
    let cases: Vec<EdgeCase> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["callback"] == callback)
        .map(|c| EdgeCase {
            name: c["name"].as_str().unwrap().to_string(),
            config: c["config"].as_object().unwrap().clone(),
            key: c["key"].as_str().unwrap().to_string(),
            values: c["values"].as_array().unwrap().iter().map(float).collect(),
            lr: float(&c["lr"]),
            expected: c["expected"].clone(),
        })
        .collect();
    assert!(!cases.is_empty(), "no {callback} cases in the fixture");
    cases
}

/// What a replay did.
pub(crate) struct Replay {
    /// Epochs run before training stopped.
    pub epochs_run: usize,
    /// The learning rate after each epoch's end.
    pub lr: Vec<f64>,
    /// The control, with its saves.
    pub ctl: MockControl,
}

/// fit's hook order over the case's logs, stopping when the stop flag is set.
pub(crate) fn replay(callback: &mut dyn Callback, case: &EdgeCase) -> Replay {
    let params = RunParams {
        epochs: case.values.len(),
        ..RunParams::default()
    };
    // Keras's rate is a float32 variable: every rate set is rounded to single precision.
    let mut ctl = MockControl::new(f64::from(case.lr as f32));
    ctl.f32_rate = true;
    ctl.write_files = false;
    callback.set_params(&params);
    callback.on_train_begin(&params, &mut ctl).unwrap();
    let mut lr = Vec::new();
    let mut last = logs(&[]);
    for (epoch, &value) in case.values.iter().enumerate() {
        callback.on_epoch_begin(epoch, &mut ctl).unwrap();
        last = logs(&[(case.key.as_str(), value)]);
        callback.on_epoch_end(epoch, &mut last, &mut ctl).unwrap();
        lr.push(ctl.lr);
        if ctl.stop {
            break;
        }
    }
    callback.on_train_end(&last, &mut ctl).unwrap();
    Replay {
        epochs_run: lr.len(),
        lr,
        ctl,
    }
}
