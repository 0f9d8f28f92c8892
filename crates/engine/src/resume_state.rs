//! [`ResumeState`]: what a `BackupAndRestore` backup holds besides the model and the optimizer, as the JSON of
//! the file's `rkeras_state` group plus the callbacks' arrays.
//!
//! The JSON is read with serde into a struct with every field required and no unknown field allowed, so that a
//! damaged or foreign backup is a [`EngineError::ResumeState`] naming the file and the field, never a run that
//! silently restarts at epoch 0 or drops a callback's weights.

use crate::error::{EngineError, Result};
use ndarray::ArrayD;
use rkeras_io::{ExtraState, NamedArray};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// The `rkeras_state` JSON of a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateJson {
    /// The number of epochs completed (the epoch a resumed run starts at).
    epoch: usize,
    /// The run's seed (shuffling and dropout streams).
    seed: u64,
    /// Each callback's `state()`, in the callback list's order (`null` for a callback without one).
    callback_states: Vec<Option<Value>>,
    /// How many arrays each callback saved (`null` for a callback that saves none).
    callback_weight_counts: Vec<Option<usize>>,
}

/// What a backup holds besides weights and optimizer: the epoch reached, the seed and the callbacks' states.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ResumeState {
    pub(crate) epoch: usize,
    pub(crate) seed: u64,
    pub(crate) callback_states: Vec<Option<Value>>,
    pub(crate) callback_weights: Vec<Option<Vec<ArrayD<f32>>>>,
}

/// The name under which callback `callback`'s array `index` is stored.
fn array_name(callback: usize, index: usize) -> String {
    format!("callback_{callback}/weight_{index}")
}

fn state_error(path: &Path, reason: impl Into<String>) -> EngineError {
    EngineError::ResumeState {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

impl ResumeState {
    /// The file's `rkeras_state` group for this state.
    pub(crate) fn to_extra(&self, path: &Path) -> Result<ExtraState> {
        let mut arrays = Vec::new();
        let mut counts = Vec::new();
        for (i, weights) in self.callback_weights.iter().enumerate() {
            counts.push(weights.as_ref().map(Vec::len));
            for (j, w) in weights.iter().flatten().enumerate() {
                arrays.push(NamedArray {
                    name: array_name(i, j),
                    value: w.clone(),
                });
            }
        }
        let json = StateJson {
            epoch: self.epoch,
            seed: self.seed,
            callback_states: self.callback_states.clone(),
            callback_weight_counts: counts,
        };
        let json = serde_json::to_string(&json)
            .map_err(|e| state_error(path, format!("cannot write the resume state: {e}")))?;
        Ok(ExtraState { json, arrays })
    }

    /// Reads the state of the backup at `path`; every field must be present and well-typed, the callbacks'
    /// states and array counts must agree, and every array the counts promise must be in the file.
    pub(crate) fn from_extra(path: &Path, extra: &ExtraState) -> Result<Self> {
        let json: StateJson = serde_json::from_str(&extra.json)
            .map_err(|e| state_error(path, format!("rkeras_state json: {e}")))?;
        if json.callback_states.len() != json.callback_weight_counts.len() {
            return Err(state_error(
                path,
                format!(
                    "rkeras_state json: {} callback states but {} callback weight counts",
                    json.callback_states.len(),
                    json.callback_weight_counts.len()
                ),
            ));
        }
        let mut callback_weights = Vec::with_capacity(json.callback_weight_counts.len());
        let mut used = 0;
        for (i, count) in json.callback_weight_counts.iter().enumerate() {
            callback_weights.push(match count {
                None => None,
                Some(n) => Some(
                    (0..*n)
                        .map(|j| {
                            let name = array_name(i, j);
                            extra
                                .arrays
                                .iter()
                                .find(|a| a.name == name)
                                .map(|a| a.value.clone())
                                .ok_or_else(|| {
                                    state_error(path, format!("missing callback array `{name}`"))
                                })
                        })
                        .collect::<Result<Vec<_>>>()?,
                ),
            });
            used += count.unwrap_or(0);
        }
        if used != extra.arrays.len() {
            let names: Vec<&str> = extra.arrays.iter().map(|a| a.name.as_str()).collect();
            return Err(state_error(
                path,
                format!(
                    "the callback weight counts name {used} arrays, the file holds {} ({})",
                    extra.arrays.len(),
                    names.join(", ")
                ),
            ));
        }
        Ok(ResumeState {
            epoch: json.epoch,
            seed: json.seed,
            callback_states: json.callback_states,
            callback_weights,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> ResumeState {
        ResumeState {
            epoch: 3,
            seed: u64::MAX,
            callback_states: vec![None, Some(json!({"wait": 2, "best": "inf"}))],
            callback_weights: vec![Some(vec![ndarray::arr1(&[1.0f32, 2.0]).into_dyn()]), None],
        }
    }

    fn read(json: Value, arrays: Vec<NamedArray>) -> Result<ResumeState> {
        let extra = ExtraState {
            json: json.to_string(),
            arrays,
        };
        ResumeState::from_extra(Path::new("b.backup"), &extra)
    }

    #[test]
    fn round_trips_every_field() {
        let extra = state().to_extra(Path::new("b.backup")).unwrap();
        assert_eq!(extra.arrays[0].name, "callback_0/weight_0");
        let back = ResumeState::from_extra(Path::new("b.backup"), &extra).unwrap();
        assert_eq!(back, state());
    }

    #[test]
    fn a_missing_or_wrong_field_is_an_error_naming_it() {
        let full =
            json!({"epoch": 1, "seed": 7, "callback_states": [], "callback_weight_counts": []});
        assert_eq!(read(full.clone(), vec![]).unwrap().epoch, 1);
        for field in ["epoch", "seed", "callback_states", "callback_weight_counts"] {
            let mut json = full.clone();
            json.as_object_mut().unwrap().remove(field);
            let err = read(json, vec![]).unwrap_err().to_string();
            assert!(
                err.contains(&format!("missing field `{field}`")) && err.contains("b.backup"),
                "{err}"
            );
        }
        for (field, bad) in [
            ("epoch", json!(-1)),
            ("epoch", json!("3")),
            ("seed", json!(1.5)),
            ("callback_states", json!({})),
            ("callback_weight_counts", json!(["two"])),
        ] {
            let mut json = full.clone();
            json[field] = bad.clone();
            let err = read(json, vec![]).unwrap_err();
            assert!(matches!(err, EngineError::ResumeState { .. }), "{err}");
            assert!(err.to_string().contains("invalid"), "{field}={bad}: {err}");
        }
        let mut json = full.clone();
        json["extra"] = json!(1);
        let err = read(json, vec![]).unwrap_err().to_string();
        assert!(err.contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn counts_and_arrays_must_agree() {
        let json = json!({"epoch": 1, "seed": 0, "callback_states": [null], "callback_weight_counts": [2]});
        let one = NamedArray {
            name: "callback_0/weight_0".into(),
            value: ndarray::arr0(1.0f32).into_dyn(),
        };
        let err = read(json.clone(), vec![one.clone()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing callback array `callback_0/weight_1`"),
            "{err}"
        );
        let stray = NamedArray {
            name: "callback_1/weight_0".into(),
            ..one.clone()
        };
        let json1 = json!({"epoch": 1, "seed": 0, "callback_states": [null], "callback_weight_counts": [1]});
        let err = read(json1, vec![one.clone(), stray])
            .unwrap_err()
            .to_string();
        assert!(err.contains("name 1 arrays, the file holds 2"), "{err}");
        let uneven =
            json!({"epoch": 1, "seed": 0, "callback_states": [], "callback_weight_counts": [null]});
        let err = read(uneven, vec![]).unwrap_err().to_string();
        assert!(err.contains("0 callback states but 1"), "{err}");
    }
}
