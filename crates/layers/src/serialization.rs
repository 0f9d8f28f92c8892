//! Reading and writing Keras layer configs (the JSON of Keras's `get_config()`): the keys every layer shares,
//! initializers, and typed access to fields with errors naming the layer class and the key.
//!
//! Both Keras 3's spellings and Keras 2's are read; configs are written the way Keras 3 writes them.
//!
//! ```
//! use rkeras_layers::serialization::{ConfigReader, initializer_from_config, initializer_to_config};
//! use rkeras_tensor::Initializer;
//! let init = Initializer::RandomUniform { min: -0.05, max: 0.05 };
//! assert_eq!(initializer_from_config(&initializer_to_config(&init))?, init);
//! assert_eq!(initializer_from_config(&serde_json::json!("glorot_uniform"))?, Initializer::GlorotUniform);
//!
//! let config = serde_json::json!({ "name": "dense", "units": 3 });
//! let reader = ConfigReader::new("Dense", &config)?;
//! assert_eq!(reader.usize("units")?, 3);
//! assert!(reader.usize("missing").unwrap_err().to_string().contains("`missing`"));
//! # Ok::<(), rkeras_layers::LayersError>(())
//! ```

use crate::error::{LayersError, Result};
use rkeras_tensor::Initializer;
use serde_json::{Map, Value, json};

/// An `f32` as the JSON number with the same shortest decimal form (`0.3`, not `0.30000001192092896`).
pub fn f32_to_json(value: f32) -> Value {
    if !value.is_finite() {
        return Value::Null;
    }
    let shortest: f64 = value.to_string().parse().unwrap_or(f64::from(value));
    json!(shortest)
}

/// A layer's config as a saved model holds it: [`crate::Layer::config`], with `trainable: false` for a
/// layer inside a frozen model (Keras's `model.trainable = False` sets every inner layer's flag, the layers
/// wrapped by `TimeDistributed` and `Bidirectional` included).
pub(crate) fn saved_config(layer: &dyn crate::Layer) -> Value {
    let mut config = layer.config();
    if layer.core().frozen()
        && let Some(map) = config.as_object_mut()
    {
        map.insert("trainable".into(), Value::Bool(false));
    }
    config
}

/// The keys every Keras layer config starts with: `name`, `trainable` and `dtype` (rkeras computes in
/// float32).
pub fn base_config(name: &str, trainable: bool) -> Map<String, Value> {
    let mut config = Map::new();
    config.insert("name".into(), json!(name));
    config.insert("trainable".into(), json!(trainable));
    config.insert("dtype".into(), json!("float32"));
    config
}

pub use crate::initializers::{initializer_from_config, initializer_to_config};

/// Typed access to one layer's config, with errors naming the layer class and the key.
#[derive(Debug, Clone, Copy)]
pub struct ConfigReader<'a> {
    class: &'static str,
    config: &'a Map<String, Value>,
}

impl<'a> ConfigReader<'a> {
    /// A reader of `config`, which must be a JSON object.
    pub fn new(class: &'static str, config: &'a Value) -> Result<Self> {
        let config = config.as_object().ok_or_else(|| {
            LayersError::Config(format!(
                "{class} config must be a JSON object, received {config}"
            ))
        })?;
        Ok(ConfigReader { class, config })
    }

    fn error(&self, key: &str, expected: &str, value: &Value) -> LayersError {
        LayersError::Config(format!(
            "{} config: `{key}` must be {expected}, received {value}",
            self.class
        ))
    }

    /// The value of `key`, `None` when it is absent or `null`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.config.get(key).filter(|v| !v.is_null())
    }

    /// The layer's `name`, when present.
    pub fn name(&self) -> Result<Option<&'a str>> {
        match self.get("name") {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.error("name", "a string", v)),
        }
    }

    /// The layer's `trainable` flag (true when absent).
    pub fn trainable(&self) -> Result<bool> {
        self.bool_or("trainable", true)
    }

    /// A required non-negative integer.
    pub fn usize(&self, key: &str) -> Result<usize> {
        self.opt_usize(key)?.ok_or_else(|| {
            LayersError::Config(format!(
                "{} config: missing the integer `{key}`",
                self.class
            ))
        })
    }

    /// An optional non-negative integer (`None` when absent or `null`).
    pub fn opt_usize(&self, key: &str) -> Result<Option<usize>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.error(key, "a non-negative integer", v)),
        }
    }

    /// A boolean, `default` when absent.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| self.error(key, "a boolean", v)),
        }
    }

    /// A number, `default` when absent.
    pub fn f32_or(&self, key: &str, default: f32) -> Result<f32> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .map(|x| x as f32)
                .ok_or_else(|| self.error(key, "a number", v)),
        }
    }

    /// A string, `default` when absent.
    pub fn str_or(&self, key: &str, default: &'a str) -> Result<&'a str> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_str().ok_or_else(|| self.error(key, "a string", v)),
        }
    }

    /// A required integer.
    pub fn isize(&self, key: &str) -> Result<isize> {
        let v = self.get(key).ok_or_else(|| {
            LayersError::Config(format!(
                "{} config: missing the integer `{key}`",
                self.class
            ))
        })?;
        as_isize(v).ok_or_else(|| self.error(key, "an integer", v))
    }

    /// A required list of integers.
    pub fn isize_list(&self, key: &str) -> Result<Vec<isize>> {
        let v = self.get(key).ok_or_else(|| {
            LayersError::Config(format!("{} config: missing the list `{key}`", self.class))
        })?;
        let items = v
            .as_array()
            .ok_or_else(|| self.error(key, "a list of integers", v))?;
        items
            .iter()
            .map(|item| as_isize(item).ok_or_else(|| self.error(key, "a list of integers", v)))
            .collect()
    }

    /// An initializer, `default` when absent.
    pub fn initializer_or(&self, key: &str, default: Initializer) -> Result<Initializer> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => initializer_from_config(v)
                .map_err(|e| LayersError::Config(format!("{} config: `{key}`: {e}", self.class))),
        }
    }

    /// Fails when any of `keys` holds something other than `null` (an option rkeras does not implement,
    /// such as a regularizer), naming the option and the value.
    pub fn reject_unsupported(&self, keys: &[&str]) -> Result<()> {
        for key in keys {
            if let Some(v) = self.get(key) {
                return Err(LayersError::Config(format!(
                    "{} config: `{key}` is not supported by rkeras (received {v}); remove it or set it to null",
                    self.class
                )));
            }
        }
        Ok(())
    }

    /// Fails when the boolean option `key` is set to something other than `supported`.
    pub fn require_bool(&self, key: &str, supported: bool) -> Result<()> {
        if self.bool_or(key, supported)? != supported {
            return Err(LayersError::Config(format!(
                "{} config: `{key}={}` is not supported by rkeras",
                self.class, !supported
            )));
        }
        Ok(())
    }
}

fn as_isize(value: &Value) -> Option<isize> {
    value.as_i64().and_then(|n| isize::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_in_shortest_form() {
        assert_eq!(f32_to_json(0.3).to_string(), "0.3");
        assert_eq!(f32_to_json(-0.05).to_string(), "-0.05");
        assert_eq!(f32_to_json(f32::NAN), Value::Null);
    }

    #[test]
    fn reader_errors_name_the_class_and_key() {
        let config =
            json!({"units": -3, "use_bias": "yes", "kernel_regularizer": {"class_name": "L2"}});
        let reader = ConfigReader::new("Dense", &config).unwrap();
        let err = reader.usize("units").unwrap_err().to_string();
        assert!(
            err.contains("Dense") && err.contains("`units`") && err.contains("-3"),
            "{err}"
        );
        assert!(
            reader
                .bool_or("use_bias", true)
                .unwrap_err()
                .to_string()
                .contains("\"yes\"")
        );
        assert!(
            reader
                .reject_unsupported(&["kernel_regularizer"])
                .unwrap_err()
                .to_string()
                .contains("L2")
        );
        assert!(reader.reject_unsupported(&["bias_regularizer"]).is_ok());
        assert!(ConfigReader::new("Dense", &json!([1])).is_err());
    }
}
