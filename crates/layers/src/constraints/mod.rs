//! Keras 3's weight constraints, applied to a weight after each optimizer update: [`Constraint::MaxNorm`],
//! [`Constraint::MinMaxNorm`], [`Constraint::NonNeg`], [`Constraint::UnitNorm`], with Keras's string names
//! (`"max_norm"`, `"min_max_norm"`, `"non_neg"`, `"unit_norm"` and the class names) and config form
//! (`{"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}}`).
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use rkeras_layers::Constraint;
//! let mut w = ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![3.0f32, 4.0])?;
//! Constraint::MaxNorm { max_value: 1.0, axis: vec![0] }.apply(&mut w)?;
//! assert!((w[[0, 0]] - 0.6).abs() < 1e-6 && (w[[1, 0]] - 0.8).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::{LayersError, Result};
use crate::serialization::{ConfigReader, f32_to_json};
use ndarray::{ArrayD, Axis};
use serde_json::{Value, json};

/// Keras's `backend.epsilon()`, added to the norms.
const EPSILON: f32 = 1e-7;

/// A Keras weight constraint. `axis` lists the axes the norms run over (Keras's int or list; negative counts
/// from the end); Keras's default is `0` (for a Dense kernel `[input_dim, units]`: each unit's incoming
/// weights).
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// `w · clip(‖w‖, 0, max_value) / (ε + ‖w‖)` (Keras's defaults `max_value=2`, `axis=0`).
    MaxNorm {
        /// The largest norm.
        max_value: f32,
        /// The norm axes.
        axis: Vec<isize>,
    },
    /// `w · (rate·clip(‖w‖, min, max) + (1 − rate)·‖w‖) / (ε + ‖w‖)` (defaults `0`, `1`, `rate=1`, `axis=0`).
    MinMaxNorm {
        /// The smallest norm.
        min_value: f32,
        /// The largest norm.
        max_value: f32,
        /// How far toward the interval each update moves (1: all the way).
        rate: f32,
        /// The norm axes.
        axis: Vec<isize>,
    },
    /// `max(w, 0)`.
    NonNeg,
    /// `w / (ε + ‖w‖)` (default `axis=0`).
    UnitNorm {
        /// The norm axes.
        axis: Vec<isize>,
    },
}

fn axis_to_json(axis: &[isize]) -> Value {
    match axis {
        [one] => json!(one),
        many => json!(many),
    }
}

impl Constraint {
    /// Applies the constraint to a weight's values in place. An axis outside the weight's rank is an error.
    pub fn apply(&self, w: &mut ArrayD<f32>) -> Result<()> {
        let scale = |w: &ArrayD<f32>, axis: &[isize], desired: &dyn Fn(f32) -> f32| {
            let norms = norms(w, axis)?;
            let factor = norms.mapv(|n| desired(n) / (EPSILON + n));
            Ok::<_, LayersError>(w * &factor)
        };
        *w = match self {
            Constraint::NonNeg => w.mapv(|v| v.max(0.0)),
            Constraint::MaxNorm { max_value, axis } => {
                scale(w, axis, &|n| n.clamp(0.0, *max_value))?
            }
            Constraint::MinMaxNorm {
                min_value,
                max_value,
                rate,
                axis,
            } => scale(w, axis, &|n| {
                rate * n.max(*min_value).min(*max_value) + (1.0 - rate) * n
            })?,
            Constraint::UnitNorm { axis } => {
                let norms = norms(w, axis)?;
                &*w / &norms.mapv(|n| EPSILON + n)
            }
        };
        Ok(())
    }

    /// Keras's serialised form (`module`, `class_name`, `config`, `registered_name`).
    pub fn to_config(&self) -> Value {
        let (class, config) = match self {
            Constraint::MaxNorm { max_value, axis } => (
                "MaxNorm",
                json!({ "max_value": f32_to_json(*max_value), "axis": axis_to_json(axis) }),
            ),
            Constraint::MinMaxNorm {
                min_value,
                max_value,
                rate,
                axis,
            } => (
                "MinMaxNorm",
                json!({ "min_value": f32_to_json(*min_value), "max_value": f32_to_json(*max_value), "rate": f32_to_json(*rate),
                        "axis": axis_to_json(axis) }),
            ),
            Constraint::NonNeg => ("NonNeg", json!({})),
            Constraint::UnitNorm { axis } => ("UnitNorm", json!({ "axis": axis_to_json(axis) })),
        };
        json!({
            "module": "keras.constraints",
            "class_name": class,
            "config": config,
            "registered_name": null,
        })
    }

    /// Reads Keras's forms: a string name with Keras's defaults or `{"class_name": …, "config": {…}}`.
    pub fn from_config(value: &Value) -> Result<Constraint> {
        let (class, config) = match value {
            Value::String(name) => (name.as_str(), Value::Object(Default::default())),
            Value::Object(map) => (
                map.get("class_name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        LayersError::Config(format!(
                            "constraint config without a `class_name`: {value}"
                        ))
                    })?,
                map.get("config")
                    .cloned()
                    .unwrap_or(Value::Object(Default::default())),
            ),
            other => {
                return Err(LayersError::Config(format!(
                    "Could not interpret constraint identifier: {other}"
                )));
            }
        };
        let reader = ConfigReader::new("Constraint", &config)?;
        let axis = || -> Result<Vec<isize>> {
            match reader.get("axis") {
                None | Some(Value::Null) => Ok(vec![0]),
                Some(Value::Array(_)) => reader.isize_list("axis"),
                Some(_) => Ok(vec![reader.isize("axis")?]),
            }
        };
        match class {
            "MaxNorm" | "max_norm" => Ok(Constraint::MaxNorm {
                max_value: reader.f32_or("max_value", 2.0)?,
                axis: axis()?,
            }),
            "MinMaxNorm" | "min_max_norm" => Ok(Constraint::MinMaxNorm {
                min_value: reader.f32_or("min_value", 0.0)?,
                max_value: reader.f32_or("max_value", 1.0)?,
                rate: reader.f32_or("rate", 1.0)?,
                axis: axis()?,
            }),
            "NonNeg" | "non_neg" => Ok(Constraint::NonNeg),
            "UnitNorm" | "unit_norm" => Ok(Constraint::UnitNorm { axis: axis()? }),
            other => Err(LayersError::Config(format!(
                "Could not interpret constraint identifier: {other}"
            ))),
        }
    }

    /// Reads an optional constraint under `key` of a layer config (`null` or absent: none).
    pub fn from_layer_config(reader: &ConfigReader<'_>, key: &str) -> Result<Option<Constraint>> {
        match reader.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Constraint::from_config(v)
                .map(Some)
                .map_err(|e| LayersError::Config(format!("`{key}`: {e}"))),
        }
    }

    /// The config value of an optional constraint (`null` when none).
    pub fn option_to_config(constraint: Option<&Constraint>) -> Value {
        constraint.map_or(Value::Null, Constraint::to_config)
    }
}

/// `sqrt(Σ w²)` over `axis`, kept as length-1 axes so that it broadcasts against `w`.
fn norms(w: &ArrayD<f32>, axis: &[isize]) -> Result<ArrayD<f32>> {
    let rank = w.ndim() as isize;
    let mut axes: Vec<usize> = Vec::with_capacity(axis.len());
    for &a in axis {
        let resolved = if a < 0 { a + rank } else { a };
        if !(0..rank).contains(&resolved) {
            return Err(LayersError::Config(format!(
                "constraint `axis={a}` is outside a weight of shape {:?}",
                w.shape()
            )));
        }
        axes.push(resolved as usize);
    }
    axes.sort_unstable();
    axes.dedup();
    let mut sums = w.mapv(|v| v * v);
    for &a in axes.iter().rev() {
        sums = sums.sum_axis(Axis(a)).insert_axis(Axis(a));
    }
    Ok(sums.mapv(f32::sqrt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    fn weight() -> ArrayD<f32> {
        ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![3.0, -1.0, 0.5, 4.0, 2.0, -0.5]).unwrap()
    }

    #[test]
    fn formulas_by_hand() {
        let mut w = weight();
        Constraint::NonNeg.apply(&mut w).unwrap();
        assert_eq!(
            w.iter().copied().collect::<Vec<_>>(),
            vec![3.0, 0.0, 0.5, 4.0, 2.0, 0.0]
        );
        let mut w = weight();
        Constraint::UnitNorm { axis: vec![0] }
            .apply(&mut w)
            .unwrap();
        assert!((w[[0, 0]] - 0.6).abs() < 1e-6 && (w[[1, 0]] - 0.8).abs() < 1e-6);
        let mut w = weight();
        Constraint::MaxNorm {
            max_value: 2.0,
            axis: vec![-1],
        }
        .apply(&mut w)
        .unwrap();
        let row0 = (9.0f32 + 1.0 + 0.25).sqrt();
        assert!((w[[0, 0]] - 3.0 * 2.0 / row0).abs() < 1e-6);
        let mut w = weight();
        Constraint::MinMaxNorm {
            min_value: 6.0,
            max_value: 7.0,
            rate: 0.5,
            axis: vec![0, 1],
        }
        .apply(&mut w)
        .unwrap();
        let all = (9.0f32 + 1.0 + 0.25 + 16.0 + 4.0 + 0.25).sqrt();
        let desired = 0.5 * 6.0 + 0.5 * all;
        assert!((w[[1, 1]] - 2.0 * desired / all).abs() < 1e-5);
    }

    #[test]
    fn config_round_trips_in_keras_form() {
        for c in [
            Constraint::MaxNorm {
                max_value: 1.5,
                axis: vec![0],
            },
            Constraint::MinMaxNorm {
                min_value: 0.5,
                max_value: 2.0,
                rate: 0.5,
                axis: vec![0, 1],
            },
            Constraint::NonNeg,
            Constraint::UnitNorm { axis: vec![-1] },
        ] {
            assert_eq!(Constraint::from_config(&c.to_config()).unwrap(), c);
        }
        assert_eq!(
            Constraint::from_config(&json!("max_norm")).unwrap(),
            Constraint::MaxNorm {
                max_value: 2.0,
                axis: vec![0]
            }
        );
        let e = Constraint::from_config(&json!("clip"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("clip"), "{e}");
        let mut w = weight();
        let e = Constraint::UnitNorm { axis: vec![2] }
            .apply(&mut w)
            .unwrap_err()
            .to_string();
        assert!(e.contains("axis=2"), "{e}");
    }
}
