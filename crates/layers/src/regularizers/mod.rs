//! Keras 3's weight and activity regularizers: [`Regularizer::L1`], [`Regularizer::L2`], [`Regularizer::L1L2`]
//! and [`Regularizer::Orthogonal`], with Keras's string names (`"l1"`, `"l2"`, `"l1l2"`,
//! `"orthogonal_regularizer"`, and the class names) and config form
//! (`{"class_name": "L2", "config": {"l2": 0.01}}`).
//!
//! A layer's penalties are added to the training loss once per step (see `Network::regularization_loss`).
//!
//! ```
//! use rkeras_layers::Regularizer;
//! use rkeras_tensor::Tensor;
//! let w = Tensor::from_vec(&[2], vec![1.0, -2.0])?;
//! let penalty = Regularizer::L1L2 { l1: 0.5, l2: 0.25 }.penalty(&w)?;
//! assert!((penalty.to_scalar()? - (0.5 * 3.0 + 0.25 * 5.0)).abs() < 1e-6);
//! assert_eq!(Regularizer::from_config(&serde_json::json!("l2"))?, Regularizer::L2 { l2: 0.01 });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod orthogonal;

use crate::error::{LayersError, Result};
use crate::serialization::{ConfigReader, f32_to_json};
use rkeras_tensor::{Tensor, TensorError};
use serde_json::{Value, json};

/// Which vectors [`Regularizer::Orthogonal`] pushes apart: the rows or the columns of a rank-2 weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrthogonalMode {
    /// The rows (Keras's default).
    Rows,
    /// The columns.
    Columns,
}

/// A Keras regularizer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Regularizer {
    /// `l1·Σ|x|` (Keras's default `l1 = 0.01`).
    L1 {
        /// The factor.
        l1: f32,
    },
    /// `l2·Σx²` (Keras's default `l2 = 0.01`).
    L2 {
        /// The factor.
        l2: f32,
    },
    /// `l1·Σ|x| + l2·Σx²` (Keras's defaults `0`, `0`); a zero factor adds nothing.
    L1L2 {
        /// The L1 factor.
        l1: f32,
        /// The L2 factor.
        l2: f32,
    },
    /// `factor · 0.5 · Σ|off-diagonal of the Gram matrix of the L2-normalised rows (or columns)| / (n(n−1)/2)`,
    /// rank-2 weights only (Keras's default factor `0.01`, mode rows).
    Orthogonal {
        /// The factor.
        factor: f32,
        /// Rows or columns.
        mode: OrthogonalMode,
    },
}

/// `Σ|x|` with Keras's (JAX's) gradient: `sign(x)`, and 1 at zero, where a constraint such as NonNeg leaves
/// weights (`x · s` with the constant `s = 1` where `x ≥ 0`, `−1` elsewhere).
fn abs_sum(x: &Tensor) -> std::result::Result<Tensor, TensorError> {
    let signs = Tensor::new(x.data().mapv(|v| if v >= 0.0 { 1.0 } else { -1.0 }));
    x.mul(&signs)?.sum_all()
}

impl Regularizer {
    /// The penalty of `x`, a scalar tensor that the gradient flows through.
    pub fn penalty(&self, x: &Tensor) -> std::result::Result<Tensor, TensorError> {
        match *self {
            Regularizer::L1 { l1 } => abs_sum(x)?.mul_scalar(l1),
            Regularizer::L2 { l2 } => x.square()?.sum_all()?.mul_scalar(l2),
            Regularizer::L1L2 { l1, l2 } => {
                let mut total = Tensor::scalar(0.0);
                if l1 != 0.0 {
                    total = total.add(&abs_sum(x)?.mul_scalar(l1)?)?;
                }
                if l2 != 0.0 {
                    total = total.add(&x.square()?.sum_all()?.mul_scalar(l2)?)?;
                }
                Ok(total)
            }
            Regularizer::Orthogonal { factor, mode } => orthogonal::penalty(x, factor, mode),
        }
    }

    /// Keras's serialised form: `{"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01},
    /// "registered_name": null}`.
    pub fn to_config(&self) -> Value {
        let (class, config) = match *self {
            Regularizer::L1 { l1 } => ("L1", json!({ "l1": f32_to_json(l1) })),
            Regularizer::L2 { l2 } => ("L2", json!({ "l2": f32_to_json(l2) })),
            Regularizer::L1L2 { l1, l2 } => (
                "L1L2",
                json!({ "l1": f32_to_json(l1), "l2": f32_to_json(l2) }),
            ),
            Regularizer::Orthogonal { factor, mode } => (
                "OrthogonalRegularizer",
                json!({ "factor": f32_to_json(factor), "mode": match mode {
                    OrthogonalMode::Rows => "rows",
                    OrthogonalMode::Columns => "columns",
                } }),
            ),
        };
        json!({
            "module": "keras.regularizers",
            "class_name": class,
            "config": config,
            "registered_name": null,
        })
    }

    /// Reads Keras's forms: a string name (`"l1"`, `"L2"`, `"l1l2"`, `"orthogonal_regularizer"`, … with
    /// Keras's defaults) or `{"class_name": …, "config": {…}}`. A negative or non-finite factor, an unknown
    /// name or mode is a typed error echoing the value.
    pub fn from_config(value: &Value) -> Result<Regularizer> {
        let (class, config) = match value {
            Value::String(name) => (name.as_str(), Value::Object(Default::default())),
            Value::Object(map) => {
                let class = map
                    .get("class_name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        LayersError::Config(format!(
                            "regularizer config without a `class_name`: {value}"
                        ))
                    })?;
                (
                    class,
                    map.get("config")
                        .cloned()
                        .unwrap_or(Value::Object(Default::default())),
                )
            }
            other => {
                return Err(LayersError::Config(format!(
                    "Could not interpret regularizer identifier: {other}"
                )));
            }
        };
        let reader = ConfigReader::new("Regularizer", &config)?;
        let factor = |key: &str, default: f32| -> Result<f32> {
            let v = match reader.get(key) {
                None | Some(Value::Null) => default,
                Some(_) => reader.f32_or(key, default)?,
            };
            if !v.is_finite() || v < 0.0 {
                return Err(LayersError::Config(format!(
                    "Invalid value for argument {key}: expected a non-negative float. Received: {key}={v}"
                )));
            }
            Ok(v)
        };
        match class {
            "L1" | "l1" => Ok(Regularizer::L1 {
                l1: factor("l1", 0.01)?,
            }),
            "L2" | "l2" => Ok(Regularizer::L2 {
                l2: factor("l2", 0.01)?,
            }),
            "L1L2" | "l1l2" => Ok(Regularizer::L1L2 {
                l1: factor("l1", 0.0)?,
                l2: factor("l2", 0.0)?,
            }),
            "OrthogonalRegularizer" | "orthogonal_regularizer" => {
                let mode = match reader.str_or("mode", "rows")? {
                    "rows" => OrthogonalMode::Rows,
                    "columns" => OrthogonalMode::Columns,
                    other => {
                        return Err(LayersError::Config(format!(
                            "Invalid value for argument `mode`. Expected one of {{\"rows\", \"columns\"}}. Received: mode={other}"
                        )));
                    }
                };
                Ok(Regularizer::Orthogonal {
                    factor: factor("factor", 0.01)?,
                    mode,
                })
            }
            other => Err(LayersError::Config(format!(
                "Could not interpret regularizer identifier: {other}"
            ))),
        }
    }

    /// Reads an optional regularizer under `key` of a layer config (`null` or absent: none).
    pub fn from_layer_config(reader: &ConfigReader<'_>, key: &str) -> Result<Option<Regularizer>> {
        match reader.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Regularizer::from_config(v)
                .map(Some)
                .map_err(|e| LayersError::Config(format!("`{key}`: {e}"))),
        }
    }

    /// The config value of an optional regularizer (`null` when none).
    pub fn option_to_config(regularizer: Option<&Regularizer>) -> Value {
        regularizer.map_or(Value::Null, Regularizer::to_config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeras_tensor::gradcheck::{GradCheck, check_gradients};

    #[test]
    fn penalties_are_keras_formulas() {
        let w = Tensor::from_vec(&[2, 2], vec![1.0, -2.0, 0.5, 3.0]).unwrap();
        let p = |r: Regularizer| r.penalty(&w).unwrap().to_scalar().unwrap();
        assert!((p(Regularizer::L1 { l1: 0.1 }) - 0.65).abs() < 1e-6);
        assert!((p(Regularizer::L2 { l2: 0.1 }) - 1.425).abs() < 1e-6);
        assert!((p(Regularizer::L1L2 { l1: 0.1, l2: 0.1 }) - 2.075).abs() < 1e-6);
        assert_eq!(p(Regularizer::L1L2 { l1: 0.0, l2: 0.0 }), 0.0);
    }

    #[test]
    fn l1_gradient_at_zero_is_one_as_in_keras() {
        let w = Tensor::leaf(ndarray::arr1(&[0.0f32, -0.0, -2.0]).into_dyn());
        let grads = Regularizer::L1 { l1: 0.5 }
            .penalty(&w)
            .unwrap()
            .backward()
            .unwrap();
        let grad: Vec<f32> = grads.get(&w).unwrap().iter().copied().collect();
        assert_eq!(grad, vec![0.5, 0.5, -0.5]);
    }

    #[test]
    fn config_round_trips_in_keras_form() {
        for r in [
            Regularizer::L1 { l1: 0.5 },
            Regularizer::L2 { l2: 0.25 },
            Regularizer::L1L2 { l1: 0.5, l2: 0.125 },
            Regularizer::Orthogonal {
                factor: 0.5,
                mode: OrthogonalMode::Columns,
            },
        ] {
            let config = r.to_config();
            assert_eq!(Regularizer::from_config(&config).unwrap(), r, "{config}");
        }
        assert_eq!(
            Regularizer::L2 { l2: 0.25 }.to_config()["class_name"],
            json!("L2")
        );
        assert_eq!(
            Regularizer::from_config(&json!("l1l2")).unwrap(),
            Regularizer::L1L2 { l1: 0.0, l2: 0.0 }
        );
    }

    #[test]
    fn bad_arguments_echo_the_value() {
        let e = Regularizer::from_config(&json!({"class_name": "L2", "config": {"l2": -1.0}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("l2=-1"), "{e}");
        let e = Regularizer::from_config(&json!("l3"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("l3"), "{e}");
        let e = Regularizer::from_config(
            &json!({"class_name": "OrthogonalRegularizer", "config": {"mode": "diag"}}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("mode=diag"), "{e}");
    }

    #[test]
    fn gradients_match_finite_differences() {
        for r in [
            Regularizer::L1 { l1: 0.3 },
            Regularizer::L2 { l2: 0.3 },
            Regularizer::L1L2 { l1: 0.2, l2: 0.4 },
            Regularizer::Orthogonal {
                factor: 0.7,
                mode: OrthogonalMode::Rows,
            },
            Regularizer::Orthogonal {
                factor: 0.7,
                mode: OrthogonalMode::Columns,
            },
        ] {
            // Values away from 0 so that |x| is smooth under the perturbation.
            let x = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[3, 4]), |i| {
                let k = (i[0] * 4 + i[1]) as f32;
                (0.3 + 0.17 * k) * if k as usize % 3 == 1 { -1.0 } else { 1.0 }
            });
            let report = check_gradients(&[x], |v| r.penalty(&v[0]), GradCheck::default()).unwrap();
            assert!(report.passed(), "{r:?}: {report:?}");
        }
    }
}
