//! Initializers in Keras's config form: written as Keras 3 writes them
//! (`{"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": null, …}, "registered_name": null}`)
//! and read from Keras 3 or Keras 2 files, or from a name (`"he_normal"`).
//!
//! ```
//! use rkeras_layers::initializers::{initializer_from_config, initializer_to_config};
//! use rkeras_tensor::Initializer;
//! let init = Initializer::TruncatedNormal { mean: 0.0, stddev: 0.02 };
//! assert_eq!(initializer_from_config(&initializer_to_config(&init))?, init);
//! assert_eq!(initializer_from_config(&serde_json::json!("he_uniform"))?, Initializer::HeUniform);
//! # Ok::<(), rkeras_layers::LayersError>(())
//! ```

use crate::error::{LayersError, Result};
use crate::serialization::f32_to_json;
use rkeras_tensor::init::INITIALIZER_CLASS_NAMES;
use rkeras_tensor::{FanMode, Initializer, ScalingDistribution};
use serde_json::{Map, Value, json};

/// Keras 3's serialized form of an initializer: `{"module", "class_name", "config", "registered_name"}`,
/// with the config keys Keras 3.15 writes (`seed: null` for the random ones, `input_axes`/`output_axes: null`
/// for the variance-scaling family).
pub fn initializer_to_config(init: &Initializer) -> Value {
    let axes = |mut config: Value| {
        config["input_axes"] = Value::Null;
        config["output_axes"] = Value::Null;
        config
    };
    let config = match *init {
        Initializer::Zeros | Initializer::Ones | Initializer::Identity { gain: 1.0 } => json!({}),
        Initializer::Identity { gain } => json!({ "gain": f32_to_json(gain) }),
        Initializer::Constant(value) => json!({ "value": f32_to_json(value) }),
        Initializer::RandomUniform { min, max } => {
            json!({ "seed": null, "minval": f32_to_json(min), "maxval": f32_to_json(max) })
        }
        Initializer::RandomNormal { mean, stddev }
        | Initializer::TruncatedNormal { mean, stddev } => {
            json!({ "seed": null, "mean": f32_to_json(mean), "stddev": f32_to_json(stddev) })
        }
        Initializer::VarianceScaling {
            scale,
            mode,
            distribution,
        } => axes(json!({
            "seed": null,
            "scale": f32_to_json(scale),
            "mode": mode.name(),
            "distribution": distribution.name(),
        })),
        Initializer::GlorotUniform
        | Initializer::GlorotNormal
        | Initializer::HeUniform
        | Initializer::HeNormal
        | Initializer::LecunUniform
        | Initializer::LecunNormal => axes(json!({ "seed": null })),
        Initializer::Orthogonal { gain } => json!({ "seed": null, "gain": f32_to_json(gain) }),
    };
    json!({
        "module": "keras.initializers",
        "class_name": init.class_name(),
        "config": config,
        "registered_name": null,
    })
}

/// Reads an initializer written by Keras 3 or Keras 2: a name (`"glorot_uniform"`, `"uniform"`, `"zeros"`,
/// `"he_normal"`, …) or `{"class_name": …, "config": {…}}`. Keras 2's `VarianceScaling` with Glorot's
/// settings is read as `GlorotUniform`. A `seed` is ignored: rkeras draws every initial weight from the
/// generator seeded by [`crate::set_random_seed`]. `input_axes`/`output_axes` other than null are an error
/// (rkeras computes fans from the shape, as Keras does without them).
pub fn initializer_from_config(value: &Value) -> Result<Initializer> {
    let empty = Map::new();
    let (class_name, config) = match value {
        Value::String(name) => {
            return Initializer::from_name(name).map_err(|_| unknown(name));
        }
        Value::Object(object) => {
            let class_name = object
                .get("class_name")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    LayersError::Config(format!(
                        "an initializer needs a string `class_name`, received {value}"
                    ))
                })?;
            let config = object
                .get("config")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            (class_name, config)
        }
        _ => {
            return Err(LayersError::Config(format!(
                "Could not interpret initializer identifier: {value}"
            )));
        }
    };
    let number = |key: &str, default: f32| -> Result<f32> {
        match config.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_f64().map(|x| x as f32).ok_or_else(|| {
                LayersError::Config(format!(
                    "initializer {class_name}: `{key}` must be a number, received {v}"
                ))
            }),
        }
    };
    let text = |key: &str, default: &'static str| -> Result<String> {
        match config.get(key) {
            None | Some(Value::Null) => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(LayersError::Config(format!(
                "initializer {class_name}: `{key}` must be a string, received {v}"
            ))),
        }
    };
    for key in ["input_axes", "output_axes"] {
        if let Some(v) = config.get(key).filter(|v| !v.is_null()) {
            return Err(LayersError::Config(format!(
                "initializer {class_name}: `{key}={v}` is not supported by rkeras (fans come from the \
                 weight's shape); set it to null"
            )));
        }
    }
    let tensor_error = |e: rkeras_tensor::TensorError| {
        LayersError::Config(format!("initializer {class_name}: {e}"))
    };
    let base = Initializer::from_name(class_name).map_err(|_| unknown(class_name))?;
    Ok(match base {
        Initializer::Constant(_) => Initializer::Constant(number("value", 0.0)?),
        Initializer::RandomUniform { .. } => Initializer::RandomUniform {
            min: number("minval", -0.05)?,
            max: number("maxval", 0.05)?,
        },
        Initializer::RandomNormal { .. } => Initializer::RandomNormal {
            mean: number("mean", 0.0)?,
            stddev: number("stddev", 0.05)?,
        },
        Initializer::TruncatedNormal { .. } => Initializer::TruncatedNormal {
            mean: number("mean", 0.0)?,
            stddev: number("stddev", 0.05)?,
        },
        Initializer::Orthogonal { .. } => Initializer::Orthogonal {
            gain: number("gain", 1.0)?,
        },
        Initializer::Identity { .. } => Initializer::Identity {
            gain: number("gain", 1.0)?,
        },
        Initializer::VarianceScaling { .. } => {
            let scale = number("scale", 1.0)?;
            let mode = FanMode::from_name(&text("mode", "fan_in")?).map_err(tensor_error)?;
            let distribution =
                ScalingDistribution::from_name(&text("distribution", "truncated_normal")?)
                    .map_err(tensor_error)?;
            if !(scale > 0.0 && scale.is_finite()) {
                return Err(LayersError::Config(format!(
                    "initializer {class_name}: Argument `scale` must be positive float. Received: scale={scale}"
                )));
            }
            let glorot = scale == 1.0
                && mode == FanMode::FanAvg
                && distribution == ScalingDistribution::Uniform;
            if glorot {
                Initializer::GlorotUniform
            } else {
                Initializer::VarianceScaling {
                    scale,
                    mode,
                    distribution,
                }
            }
        }
        other => other,
    })
}

fn unknown(name: &str) -> LayersError {
    LayersError::UnknownName {
        kind: "initializer (Could not interpret initializer identifier)",
        name: name.to_string(),
        valid: INITIALIZER_CLASS_NAMES
            .iter()
            .map(|n| n.to_string())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_initializer() -> Vec<Initializer> {
        vec![
            Initializer::Zeros,
            Initializer::Ones,
            Initializer::Constant(0.25),
            Initializer::RandomUniform {
                min: -0.1,
                max: 0.2,
            },
            Initializer::RandomNormal {
                mean: 0.5,
                stddev: 0.05,
            },
            Initializer::TruncatedNormal {
                mean: 0.0,
                stddev: 0.02,
            },
            Initializer::VarianceScaling {
                scale: 2.5,
                mode: FanMode::FanOut,
                distribution: ScalingDistribution::UntruncatedNormal,
            },
            Initializer::GlorotUniform,
            Initializer::GlorotNormal,
            Initializer::HeUniform,
            Initializer::HeNormal,
            Initializer::LecunUniform,
            Initializer::LecunNormal,
            Initializer::Orthogonal { gain: 1.5 },
            Initializer::Identity { gain: 2.0 },
        ]
    }

    #[test]
    fn every_initializer_round_trips_and_names_every_class() {
        let all = every_initializer();
        let classes: Vec<&str> = all.iter().map(Initializer::class_name).collect();
        assert_eq!(classes, INITIALIZER_CLASS_NAMES);
        for init in all {
            let config = initializer_to_config(&init);
            assert_eq!(initializer_from_config(&config).unwrap(), init, "{config}");
        }
    }

    #[test]
    fn keras_written_configs_are_read() {
        // As Keras 3.15 writes them (scripts/keras_activation_layers_golden.py prints the same forms).
        let he = json!({"module": "keras.initializers", "class_name": "HeNormal",
            "config": {"seed": null, "input_axes": null, "output_axes": null}, "registered_name": null});
        assert_eq!(initializer_from_config(&he).unwrap(), Initializer::HeNormal);
        assert_eq!(initializer_to_config(&Initializer::HeNormal), he);
        let vs = json!({"module": "keras.initializers", "class_name": "VarianceScaling",
            "config": {"seed": null, "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
            "input_axes": null, "output_axes": null}, "registered_name": null});
        assert_eq!(
            initializer_from_config(&vs).unwrap(),
            Initializer::from_name("variance_scaling").unwrap()
        );
        assert_eq!(
            initializer_to_config(&initializer_from_config(&vs).unwrap()),
            vs
        );
        let identity = json!({"module": "keras.initializers", "class_name": "Identity", "config": {},
            "registered_name": null});
        assert_eq!(
            initializer_to_config(&Initializer::Identity { gain: 1.0 }),
            identity
        );
        // Keras 2's spelling of he_normal.
        let keras2 = json!({"class_name": "VarianceScaling",
            "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": null}});
        assert_eq!(
            initializer_from_config(&keras2)
                .unwrap()
                .variance_scaling_arguments(),
            Initializer::HeNormal.variance_scaling_arguments()
        );
    }

    #[test]
    fn bad_configs_echo_the_value() {
        let bad_mode = json!({"class_name": "VarianceScaling", "config": {"mode": "fan_middle"}});
        let err = initializer_from_config(&bad_mode).unwrap_err().to_string();
        assert!(err.contains("Received: mode=fan_middle"), "{err}");
        let bad_scale = json!({"class_name": "VarianceScaling", "config": {"scale": 0.0}});
        let err = initializer_from_config(&bad_scale).unwrap_err().to_string();
        assert!(err.contains("Received: scale=0"), "{err}");
        let err = initializer_from_config(&json!("he_norml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("he_norml") && err.contains("HeNormal"),
            "{err}"
        );
        let axes = json!({"class_name": "GlorotUniform", "config": {"input_axes": [0]}});
        assert!(
            initializer_from_config(&axes)
                .unwrap_err()
                .to_string()
                .contains("input_axes")
        );
    }
}
