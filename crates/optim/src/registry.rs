//! Creating optimizers by name (`compile(optimizer="rmsprop")`) and from a Keras config (the `optimizer_config`
//! of an `.h5` file's `training_config`).
//!
//! ```
//! use rkeras_optim::{optimizer_from_config, optimizer_from_name, Optimizer};
//! use serde_json::json;
//!
//! let opt = optimizer_from_name("RMSprop")?;
//! assert_eq!((opt.class_name(), opt.learning_rate()), ("RMSprop", f64::from(0.001f32)));
//!
//! // A Keras 2 config: `lr` is read as the learning rate, `decay` is ignored (as Keras 3 does).
//! let opt = optimizer_from_config("Adam", &json!({"lr": 0.01, "decay": 0.0, "beta_1": 0.8}))?;
//! assert_eq!(opt.learning_rate(), f64::from(0.01f32));
//! assert_eq!(opt.config()["beta_1"], 0.8);
//!
//! assert!(optimizer_from_name("adamax").unwrap_err().to_string().contains("sgd, rmsprop, adam, adagrad"));
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::adadelta::{Adadelta, AdadeltaConfig};
use crate::adagrad::{Adagrad, AdagradConfig};
use crate::adam::{Adam, AdamConfig};
use crate::error::{OptimError, Result};
use crate::keras_config::KerasConfigReader;
use crate::optimizer::Optimizer;
use crate::rmsprop::{RMSprop, RMSpropConfig};
use crate::sgd::{SGD, SGDConfig};
use serde_json::Value;

/// The optimizer names [`optimizer_from_name`] knows (compared case-insensitively).
pub const OPTIMIZER_NAMES: [&str; 5] = ["sgd", "rmsprop", "adam", "adagrad", "adadelta"];

/// The optimizer classes, keyed by lower-case Keras class name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Sgd,
    RmsProp,
    Adam,
    Adagrad,
    Adadelta,
}

/// The class a name or Keras `class_name` stands for. Keras 2.11+ wrote `Custom>Adam`; the prefix is dropped.
fn kind_of(name: &str) -> Result<Kind> {
    let bare = name.strip_prefix("Custom>").unwrap_or(name);
    match bare.to_ascii_lowercase().as_str() {
        "sgd" => Ok(Kind::Sgd),
        "rmsprop" => Ok(Kind::RmsProp),
        "adam" => Ok(Kind::Adam),
        "adagrad" => Ok(Kind::Adagrad),
        "adadelta" => Ok(Kind::Adadelta),
        _ => Err(OptimError::UnknownOptimizer {
            name: name.to_string(),
            valid: OPTIMIZER_NAMES.join(", "),
        }),
    }
}

/// An optimizer with Keras's defaults from its name: `"sgd"`, `"rmsprop"`, `"adam"` or `"adagrad"`, in any case
/// (Keras's `optimizers.get("rmsprop")`). An unknown name is an error listing the valid ones.
pub fn optimizer_from_name(name: &str) -> Result<Box<dyn Optimizer>> {
    Ok(match kind_of(name)? {
        Kind::Sgd => Box::new(SGD::default()),
        Kind::RmsProp => Box::new(RMSprop::default()),
        Kind::Adam => Box::new(Adam::default()),
        Kind::Adagrad => Box::new(Adagrad::default()),
        Kind::Adadelta => Box::new(Adadelta::default()),
    })
}

/// An optimizer from a Keras `{"class_name": …, "config": {…}}` pair, e.g. a `training_config`'s
/// `optimizer_config`.
///
/// Keras 3's keys are read, plus Keras 2's `lr` (for `learning_rate`); `decay` is ignored, as Keras 3 ignores it
/// (Keras 2 divided the rate by `1 + decay·iterations`), and so are `jit_compile` and `is_legacy_optimizer`.
/// Missing keys take Keras 3's defaults. Unknown keys, wrong types, invalid values, and Keras features rkeras does
/// not implement (EMA, loss scaling, gradient accumulation, learning-rate schedules) are errors.
pub fn optimizer_from_config(class_name: &str, config: &Value) -> Result<Box<dyn Optimizer>> {
    Ok(match kind_of(class_name)? {
        Kind::Sgd => {
            let mut reader = KerasConfigReader::new(SGD::CLASS_NAME, config)?;
            let defaults = SGDConfig::default();
            let parsed = SGDConfig {
                base: reader.base(defaults.base.learning_rate)?,
                momentum: reader.f64_or("momentum", defaults.momentum)?,
                nesterov: reader.bool_or("nesterov", defaults.nesterov)?,
            };
            reader.finish()?;
            Box::new(parsed.build()?)
        }
        Kind::RmsProp => {
            let mut reader = KerasConfigReader::new(RMSprop::CLASS_NAME, config)?;
            let defaults = RMSpropConfig::default();
            let parsed = RMSpropConfig {
                base: reader.base(defaults.base.learning_rate)?,
                rho: reader.f64_or("rho", defaults.rho)?,
                momentum: reader.f64_or("momentum", defaults.momentum)?,
                epsilon: reader.f64_or("epsilon", defaults.epsilon)?,
                centered: reader.bool_or("centered", defaults.centered)?,
            };
            reader.finish()?;
            Box::new(parsed.build()?)
        }
        Kind::Adam => {
            let mut reader = KerasConfigReader::new(Adam::CLASS_NAME, config)?;
            let defaults = AdamConfig::default();
            let parsed = AdamConfig {
                base: reader.base(defaults.base.learning_rate)?,
                beta_1: reader.f64_or("beta_1", defaults.beta_1)?,
                beta_2: reader.f64_or("beta_2", defaults.beta_2)?,
                epsilon: reader.f64_or("epsilon", defaults.epsilon)?,
                amsgrad: reader.bool_or("amsgrad", defaults.amsgrad)?,
            };
            reader.finish()?;
            Box::new(parsed.build()?)
        }
        Kind::Adagrad => {
            let mut reader = KerasConfigReader::new(Adagrad::CLASS_NAME, config)?;
            let defaults = AdagradConfig::default();
            let parsed = AdagradConfig {
                base: reader.base(defaults.base.learning_rate)?,
                initial_accumulator_value: reader.f64_or(
                    "initial_accumulator_value",
                    defaults.initial_accumulator_value,
                )?,
                epsilon: reader.f64_or("epsilon", defaults.epsilon)?,
            };
            reader.finish()?;
            Box::new(parsed.build()?)
        }
        Kind::Adadelta => {
            let mut reader = KerasConfigReader::new(Adadelta::CLASS_NAME, config)?;
            let defaults = AdadeltaConfig::default();
            let parsed = AdadeltaConfig {
                base: reader.base(defaults.base.learning_rate)?,
                rho: reader.f64_or("rho", defaults.rho)?,
                epsilon: reader.f64_or("epsilon", defaults.epsilon)?,
            };
            reader.finish()?;
            Box::new(parsed.build()?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_case_insensitive_and_give_keras_defaults() {
        for (name, class, lr) in [
            ("sgd", "SGD", 0.01),
            ("RMSprop", "RMSprop", 0.001),
            ("ADAM", "Adam", 0.001),
            ("adagrad", "Adagrad", 0.001),
        ] {
            let opt = optimizer_from_name(name).unwrap();
            assert_eq!(opt.class_name(), class);
            // Keras's float32 learning-rate variable.
            assert_eq!(opt.learning_rate(), f64::from(lr as f32));
            assert_eq!(opt.iterations(), 0);
        }
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let err = optimizer_from_name("nadam").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown optimizer `nadam`; expected one of: sgd, rmsprop, adam, adagrad, adadelta"
        );
    }

    #[test]
    fn config_round_trips_through_keras_json() {
        let original = RMSpropConfig::default()
            .with_learning_rate(0.01)
            .with_rho(0.8)
            .with_momentum(0.5)
            .with_centered(true)
            .with_clipnorm(2.0)
            .with_name("opt")
            .build()
            .unwrap();
        let rebuilt = optimizer_from_config("RMSprop", &original.config()).unwrap();
        assert_eq!(rebuilt.config(), original.config());
        assert_eq!(rebuilt.name(), "opt");
    }

    #[test]
    fn every_optimizer_reads_back_its_own_config() {
        for name in OPTIMIZER_NAMES {
            let opt = optimizer_from_name(name).unwrap();
            let rebuilt = optimizer_from_config(opt.class_name(), &opt.config()).unwrap();
            assert_eq!(rebuilt.config(), opt.config(), "{name}");
        }
    }

    #[test]
    fn keras_2_11_custom_prefix_and_extra_keys_are_accepted() {
        let config = json!({"name": "Adam", "weight_decay": null, "clipnorm": null, "global_clipnorm": null,
            "clipvalue": null, "use_ema": false, "ema_momentum": 0.99, "ema_overwrite_frequency": null,
            "jit_compile": false, "is_legacy_optimizer": false, "learning_rate": 0.0010000000474974513,
            "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false});
        let opt = optimizer_from_config("Custom>Adam", &config).unwrap();
        assert_eq!((opt.class_name(), opt.name()), ("Adam", "Adam"));
    }

    #[test]
    fn invalid_values_in_a_config_are_rejected() {
        let err = optimizer_from_config("SGD", &json!({"momentum": 2.0})).unwrap_err();
        assert!(matches!(
            err,
            OptimError::InvalidArgument {
                optimizer: "SGD",
                argument: "momentum",
                ..
            }
        ));
        assert!(optimizer_from_config("Adagrad", &json!({"rho": 0.9})).is_err());
        assert!(optimizer_from_config("Adam", &json!([1, 2])).is_err());
    }
}
