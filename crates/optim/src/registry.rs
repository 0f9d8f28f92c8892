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
//! assert!(optimizer_from_name("adafactor").unwrap_err().to_string().contains("sgd, rmsprop, adam, adagrad"));
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::adadelta::{Adadelta, AdadeltaConfig};
use crate::adagrad::{Adagrad, AdagradConfig};
use crate::adam::{Adam, AdamConfig};
use crate::adamax::{Adamax, AdamaxConfig};
use crate::adamw::{AdamW, AdamWConfig};
use crate::error::{OptimError, Result};
use crate::ftrl::{Ftrl, FtrlConfig};
use crate::keras_config::KerasConfigReader;
use crate::lion::{Lion, LionConfig};
use crate::nadam::{Nadam, NadamConfig};
use crate::optimizer::Optimizer;
use crate::rmsprop::{RMSprop, RMSpropConfig};
use crate::sgd::{SGD, SGDConfig};
use serde_json::Value;

/// The optimizer names [`optimizer_from_name`] knows (compared case-insensitively).
pub const OPTIMIZER_NAMES: [&str; 10] = [
    "sgd", "rmsprop", "adam", "adagrad", "adadelta", "adamw", "nadam", "adamax", "lion", "ftrl",
];

/// The optimizer classes, keyed by lower-case Keras class name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Sgd,
    RmsProp,
    Adam,
    Adagrad,
    Adadelta,
    AdamW,
    Nadam,
    Adamax,
    Lion,
    Ftrl,
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
        "adamw" => Ok(Kind::AdamW),
        "nadam" => Ok(Kind::Nadam),
        "adamax" => Ok(Kind::Adamax),
        "lion" => Ok(Kind::Lion),
        "ftrl" => Ok(Kind::Ftrl),
        _ => Err(OptimError::UnknownOptimizer {
            name: name.to_string(),
            valid: OPTIMIZER_NAMES.join(", "),
        }),
    }
}

/// An optimizer with Keras's defaults from its name (one of [`OPTIMIZER_NAMES`]), in any case
/// (Keras's `optimizers.get("rmsprop")`). An unknown name is an error listing the valid ones.
pub fn optimizer_from_name(name: &str) -> Result<Box<dyn Optimizer>> {
    Ok(match kind_of(name)? {
        Kind::Sgd => Box::new(SGD::default()),
        Kind::RmsProp => Box::new(RMSprop::default()),
        Kind::Adam => Box::new(Adam::default()),
        Kind::Adagrad => Box::new(Adagrad::default()),
        Kind::Adadelta => Box::new(Adadelta::default()),
        Kind::AdamW => Box::new(AdamW::default()),
        Kind::Nadam => Box::new(Nadam::default()),
        Kind::Adamax => Box::new(Adamax::default()),
        Kind::Lion => Box::new(Lion::default()),
        Kind::Ftrl => Box::new(Ftrl::default()),
    })
}

/// Reads a Keras config into `$config` (the base options, then each listed field under its own name, missing
/// ones at their defaults), checks that no key is left over, and builds the optimizer.
macro_rules! read {
    ($optimizer:ident, $json:expr, $config:ident { $($field:ident: $kind:ident),* $(,)? }) => {{
        let mut reader = KerasConfigReader::new($optimizer::CLASS_NAME, $json)?;
        let defaults = $config::default();
        let parsed = $config {
            base: reader.base(defaults.base.learning_rate)?,
            $($field: read!(@$kind reader, stringify!($field), defaults.$field),)*
        };
        reader.finish()?;
        Box::new(parsed.build()?) as Box<dyn Optimizer>
    }};
    (@f64 $reader:ident, $key:expr, $default:expr) => {
        $reader.f64_or($key, $default)?
    };
    (@bool $reader:ident, $key:expr, $default:expr) => {
        $reader.bool_or($key, $default)?
    };
}

/// An optimizer from a Keras `{"class_name": …, "config": {…}}` pair, e.g. a `training_config`'s
/// `optimizer_config`.
///
/// Keras 3's keys are read, plus Keras 2's `lr` (for `learning_rate`); `decay` is ignored, as Keras 3 ignores it
/// (Keras 2 divided the rate by `1 + decay·iterations`), and so are `jit_compile` and `is_legacy_optimizer`.
/// Missing keys take Keras 3's defaults. Unknown keys, wrong types, invalid values, and Keras features rkeras does
/// not implement (loss scaling) are errors. A learning-rate schedule (`{"class_name": "ExponentialDecay", …}`),
/// `use_ema`, `ema_momentum`, `ema_overwrite_frequency` and `gradient_accumulation_steps` are read.
pub fn optimizer_from_config(class_name: &str, config: &Value) -> Result<Box<dyn Optimizer>> {
    Ok(match kind_of(class_name)? {
        Kind::Sgd => read!(
            SGD,
            config,
            SGDConfig {
                momentum: f64,
                nesterov: bool
            }
        ),
        Kind::RmsProp => read!(
            RMSprop,
            config,
            RMSpropConfig {
                rho: f64,
                momentum: f64,
                epsilon: f64,
                centered: bool
            }
        ),
        Kind::Adam => read!(
            Adam,
            config,
            AdamConfig {
                beta_1: f64,
                beta_2: f64,
                epsilon: f64,
                amsgrad: bool
            }
        ),
        Kind::Adagrad => read!(
            Adagrad,
            config,
            AdagradConfig {
                initial_accumulator_value: f64,
                epsilon: f64
            }
        ),
        Kind::Adadelta => read!(
            Adadelta,
            config,
            AdadeltaConfig {
                rho: f64,
                epsilon: f64
            }
        ),
        Kind::AdamW => {
            // An absent `weight_decay` takes AdamW's default; an explicit `null` is Keras's error.
            let mut config = config.clone();
            if let Value::Object(map) = &mut config
                && !map.contains_key("weight_decay")
            {
                map.insert(
                    "weight_decay".into(),
                    AdamWConfig::default().base.weight_decay.into(),
                );
            }
            read!(
                AdamW,
                &config,
                AdamWConfig {
                    beta_1: f64,
                    beta_2: f64,
                    epsilon: f64,
                    amsgrad: bool
                }
            )
        }
        Kind::Nadam => read!(
            Nadam,
            config,
            NadamConfig {
                beta_1: f64,
                beta_2: f64,
                epsilon: f64
            }
        ),
        Kind::Adamax => read!(
            Adamax,
            config,
            AdamaxConfig {
                beta_1: f64,
                beta_2: f64,
                epsilon: f64
            }
        ),
        Kind::Lion => read!(
            Lion,
            config,
            LionConfig {
                beta_1: f64,
                beta_2: f64
            }
        ),
        Kind::Ftrl => read!(
            Ftrl,
            config,
            FtrlConfig {
                learning_rate_power: f64,
                initial_accumulator_value: f64,
                l1_regularization_strength: f64,
                l2_regularization_strength: f64,
                l2_shrinkage_regularization_strength: f64,
                beta: f64,
            }
        ),
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
        let err = optimizer_from_name("lamb").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown optimizer `lamb`; expected one of: sgd, rmsprop, adam, adagrad, adadelta, adamw, nadam, \
             adamax, lion, ftrl"
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
