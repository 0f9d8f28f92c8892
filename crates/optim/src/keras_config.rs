//! Reading Keras `get_config()` dictionaries (Keras 3's keys, and Keras 2's where they differ).
//!
//! Every key is consumed explicitly; a key left over at the end is an error, as Keras's
//! "Argument(s) not recognized". Keras 2 keys that Keras 3 ignores are accepted and ignored the same way:
//! `decay` (Keras 3 ignores it with a warning), `jit_compile` and `is_legacy_optimizer` (Keras 2.11+). `lr` is
//! read as `learning_rate`. A `null` number means "Keras's default" (Keras 2 wrote `epsilon: null` for
//! `K.epsilon()`).

use crate::base::BaseConfig;
use crate::error::{OptimError, Result};
use crate::schedules::LearningRateSchedule;
use serde_json::{Map, Value};

/// The entries of one config not yet read.
pub(crate) struct KerasConfigReader {
    optimizer: &'static str,
    remaining: Map<String, Value>,
}

impl KerasConfigReader {
    /// A reader over `config`, which must be a JSON object.
    pub(crate) fn new(optimizer: &'static str, config: &Value) -> Result<Self> {
        match config {
            Value::Object(map) => Ok(KerasConfigReader {
                optimizer,
                remaining: map.clone(),
            }),
            Value::Null => Ok(KerasConfigReader {
                optimizer,
                remaining: Map::new(),
            }),
            other => Err(OptimError::InvalidConfig {
                optimizer,
                key: "config".into(),
                reason: format!("expected a JSON object, received {other}"),
            }),
        }
    }

    fn invalid(&self, key: &str, reason: String) -> OptimError {
        OptimError::InvalidConfig {
            optimizer: self.optimizer,
            key: key.into(),
            reason,
        }
    }

    /// A number; `None` when absent or `null`.
    pub(crate) fn f64(&mut self, key: &str) -> Result<Option<f64>> {
        match self.remaining.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.invalid(key, format!("{n} is not a float"))),
            Some(other) => Err(self.invalid(key, format!("expected a number, received {other}"))),
        }
    }

    /// A number, or `default` when absent or `null`.
    pub(crate) fn f64_or(&mut self, key: &str, default: f64) -> Result<f64> {
        Ok(self.f64(key)?.unwrap_or(default))
    }

    /// A boolean, or `default` when absent or `null`.
    pub(crate) fn bool_or(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.remaining.remove(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(other) => Err(self.invalid(key, format!("expected a boolean, received {other}"))),
        }
    }

    /// A string; `None` when absent or `null`.
    pub(crate) fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.remaining.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.invalid(key, format!("expected a string, received {other}"))),
        }
    }

    /// An entry that must be absent, `null` or `allowed`; anything else is [`OptimError::Unsupported`].
    fn unsupported_unless(&mut self, key: &str, allowed: &Value) -> Result<()> {
        match self.remaining.remove(key) {
            None | Some(Value::Null) => Ok(()),
            Some(value) if &value == allowed => Ok(()),
            Some(value) => Err(OptimError::Unsupported {
                optimizer: self.optimizer,
                argument: key.into(),
                value: value.to_string(),
            }),
        }
    }

    /// The learning rate under `learning_rate` or Keras 2's `lr`: a number, or a serialised schedule.
    fn learning_rate(&mut self, default: f64) -> Result<(f64, Option<LearningRateSchedule>)> {
        let lr_alias = self.remaining.contains_key("lr");
        if lr_alias && self.remaining.contains_key("learning_rate") {
            return Err(self.invalid(
                "lr",
                "both `lr` and `learning_rate` are given; keep one".into(),
            ));
        }
        let key = if lr_alias { "lr" } else { "learning_rate" };
        if let Some(schedule @ Value::Object(_)) = self.remaining.get(key) {
            let schedule = LearningRateSchedule::from_keras(schedule)?;
            self.remaining.remove(key);
            return Ok((default, Some(schedule)));
        }
        Ok((self.f64_or(key, default)?, None))
    }

    /// A non-negative integer; `None` when absent or `null`.
    fn u64(&mut self, key: &str) -> Result<Option<u64>> {
        match self.remaining.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
                self.invalid(key, format!("expected an integer >= 0, received {n}"))
            }),
            Some(other) => Err(self.invalid(key, format!("expected an integer, received {other}"))),
        }
    }

    /// The [`BaseConfig`] entries; `default_learning_rate` when the config has none.
    pub(crate) fn base(&mut self, default_learning_rate: f64) -> Result<BaseConfig> {
        let (learning_rate, schedule) = self.learning_rate(default_learning_rate)?;
        let name = self.string("name")?;
        let weight_decay = self.f64("weight_decay")?;
        let clipnorm = self.f64("clipnorm")?;
        let clipvalue = self.f64("clipvalue")?;
        let global_clipnorm = self.f64("global_clipnorm")?;
        // Ignored as Keras 3 ignores them (`decay`) or as they have no effect here.
        self.f64("decay")?;
        for key in ["jit_compile", "is_legacy_optimizer"] {
            self.bool_or(key, false)?;
        }
        let use_ema = self.bool_or("use_ema", false)?;
        let ema_momentum = self.f64_or("ema_momentum", 0.99)?;
        let ema_overwrite_frequency = self.u64("ema_overwrite_frequency")?;
        self.unsupported_unless("loss_scale_factor", &Value::Null)?;
        // Keras treats 0 as "off", as `None`.
        let gradient_accumulation_steps =
            self.u64("gradient_accumulation_steps")?.filter(|s| *s != 0);
        Ok(BaseConfig {
            name,
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            // Not in Keras's config (Keras decides it by backend): the default, TensorFlow's form.
            per_lookup_squares: true,
            lazy_rows: false,
            schedule,
            use_ema,
            ema_momentum,
            ema_overwrite_frequency,
            gradient_accumulation_steps,
        })
    }

    /// Fails on the first entry no one read.
    pub(crate) fn finish(self) -> Result<()> {
        match self.remaining.keys().next() {
            None => Ok(()),
            Some(key) => Err(self.invalid(key, "argument not recognized".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keras_3_base_entries_are_read() {
        let config = json!({"name": "rm_sprop", "learning_rate": 0.0010000000474974513, "weight_decay": null,
            "clipnorm": null, "global_clipnorm": null, "clipvalue": 0.5, "use_ema": false, "ema_momentum": 0.99,
            "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null});
        let mut reader = KerasConfigReader::new("RMSprop", &config).unwrap();
        let base = reader.base(0.001).unwrap();
        reader.finish().unwrap();
        assert_eq!(base.name.as_deref(), Some("rm_sprop"));
        assert_eq!(base.clipvalue, Some(0.5));
        assert_eq!(base.learning_rate as f32, 0.001f32);
    }

    #[test]
    fn keras_2_lr_and_decay_are_accepted() {
        let mut reader = KerasConfigReader::new("SGD", &json!({"lr": 0.1, "decay": 0.01})).unwrap();
        assert_eq!(reader.base(0.01).unwrap().learning_rate, 0.1);
        reader.finish().unwrap();
    }

    #[test]
    fn unknown_keys_and_unsupported_features_are_errors() {
        let mut reader = KerasConfigReader::new("SGD", &json!({"bogus": 1})).unwrap();
        reader.base(0.01).unwrap();
        assert!(
            matches!(reader.finish(), Err(OptimError::InvalidConfig { key, .. }) if key == "bogus")
        );

        let mut scale =
            KerasConfigReader::new("SGD", &json!({"loss_scale_factor": 128.0})).unwrap();
        assert!(matches!(
            scale.base(0.01),
            Err(OptimError::Unsupported { .. })
        ));

        let schedule = json!({"learning_rate": {"class_name": "ExponentialDecay", "config": {}}});
        let mut reader = KerasConfigReader::new("SGD", &schedule).unwrap();
        assert!(matches!(
            reader.base(0.01),
            Err(OptimError::InvalidSchedule { .. })
        ));

        let mut both =
            KerasConfigReader::new("SGD", &json!({"lr": 0.1, "learning_rate": 0.2})).unwrap();
        assert!(both.base(0.01).is_err());

        let mut wrong_type = KerasConfigReader::new("SGD", &json!({"clipnorm": "big"})).unwrap();
        assert!(matches!(
            wrong_type.base(0.01),
            Err(OptimError::InvalidConfig { .. })
        ));
    }
}
