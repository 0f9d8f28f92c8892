//! Keras's config form of a loss, `{"module": "keras.losses", "class_name": …, "config": {…}}`, both ways.

use super::names::{class_name, kind_of_class};
use super::{Loss, LossKind, Reduction};
use crate::error::{EngineError, Result};
use serde_json::{Map, Value, json};

impl Loss {
    /// Keras's serialised form (`keras.losses.serialize(loss)`). Huber's `delta` and CosineSimilarity's `axis`
    /// are written only when not the default (Keras's own `get_config` omits them; its `from_config` reads them).
    ///
    /// ```
    /// use rkeras_engine::Loss;
    /// let loss = Loss::from_config(&serde_json::json!({
    ///     "module": "keras.losses", "class_name": "CategoricalCrossentropy",
    ///     "config": {"name": "cce", "reduction": "sum", "from_logits": true, "label_smoothing": 0.1, "axis": -1}}))?;
    /// assert_eq!(loss.name(), "cce");
    /// assert_eq!(Loss::from_config(&loss.to_config())?.to_config(), loss.to_config());
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn to_config(&self) -> Value {
        let mut config = Map::new();
        config.insert("name".into(), json!(self.name));
        config.insert(
            "reduction".into(),
            match self.reduction {
                Reduction::None if self.null_reduction => Value::Null,
                r => json!(r.name()),
            },
        );
        match &self.kind {
            LossKind::BinaryCrossentropy(a) | LossKind::CategoricalCrossentropy(a) => {
                config.insert("from_logits".into(), json!(a.from_logits));
                config.insert("label_smoothing".into(), short(a.label_smoothing));
                config.insert("axis".into(), json!(a.axis));
            }
            LossKind::SparseCategoricalCrossentropy(a) => {
                config.insert("from_logits".into(), json!(a.from_logits));
                config.insert("ignore_class".into(), json!(a.ignore_class));
            }
            LossKind::BinaryFocalCrossentropy(a) => {
                config.insert("from_logits".into(), json!(a.from_logits));
                config.insert("label_smoothing".into(), short(a.label_smoothing));
                config.insert("axis".into(), json!(a.axis));
                config.insert(
                    "apply_class_balancing".into(),
                    json!(a.apply_class_balancing),
                );
                config.insert("alpha".into(), short(a.alpha));
                config.insert("gamma".into(), short(a.gamma));
            }
            LossKind::CategoricalFocalCrossentropy(a) => {
                config.insert("from_logits".into(), json!(a.from_logits));
                config.insert("label_smoothing".into(), short(a.label_smoothing));
                config.insert("axis".into(), json!(a.axis));
                config.insert("alpha".into(), short(a.alpha));
                config.insert("gamma".into(), short(a.gamma));
            }
            LossKind::Huber { delta } if *delta != 1.0 => {
                config.insert("delta".into(), short(*delta));
            }
            LossKind::CosineSimilarity { axis } if *axis != -1 => {
                config.insert("axis".into(), json!(axis));
            }
            _ => {}
        }
        if let LossKind::Custom(_) = self.kind {
            return json!({"module": null, "class_name": self.name, "config": config, "registered_name": self.name});
        }
        json!({"module": "keras.losses", "class_name": class_name(&self.kind), "config": config, "registered_name": null})
    }

    /// What a compile config holds: the function name when the loss was given by one (`"mse"`), else the
    /// serialised form, as Keras writes.
    pub fn to_compile_value(&self) -> Value {
        if self.from_function_name {
            json!(self.name)
        } else {
            self.to_config()
        }
    }

    /// A loss from Keras's serialised form, or from a name string. Unknown classes and arguments are errors
    /// that name them; a custom loss's class is an error (a closure cannot be rebuilt from a file).
    pub fn from_config(value: &Value) -> Result<Loss> {
        if let Some(name) = value.as_str() {
            return Loss::from_name(name);
        }
        let class = value
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| EngineError::invalid("loss", format!("not a loss config: {value}")))?;
        let empty = Map::new();
        let config = value
            .get("config")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let Some(kind) = kind_of_class(class) else {
            return Err(EngineError::UnknownName {
                kind: "loss class",
                name: class.to_string(),
                valid: super::LOSS_NAMES
                    .iter()
                    .filter(|n| n.starts_with(|c: char| c.is_ascii_uppercase()))
                    .map(|n| n.to_string())
                    .collect(),
            });
        };
        let kind = with_arguments(kind, config)?;
        let mut loss = Loss::new(kind)?;
        if let Some(name) = config.get("name").and_then(Value::as_str) {
            loss.name = name.to_string();
        }
        loss.reduction = match config.get("reduction") {
            None => Reduction::default(),
            Some(Value::Null) => {
                loss.null_reduction = true;
                Reduction::None
            }
            Some(v) => Reduction::from_name(v.as_str().unwrap_or(&v.to_string()))?,
        };
        Ok(loss)
    }
}

/// The kind with the config's arguments; an argument the class does not take is an error naming it.
fn with_arguments(mut kind: LossKind, config: &Map<String, Value>) -> Result<LossKind> {
    for (key, value) in config {
        let ok = match (&mut kind, key.as_str()) {
            (_, "name" | "reduction" | "dtype") => true,
            (LossKind::BinaryCrossentropy(a) | LossKind::CategoricalCrossentropy(a), k) => {
                match k {
                    "from_logits" => set_bool(&mut a.from_logits, value),
                    "label_smoothing" => set_f32(&mut a.label_smoothing, value),
                    "axis" => set_axis(&mut a.axis, value),
                    _ => false,
                }
            }
            (LossKind::SparseCategoricalCrossentropy(a), k) => match k {
                "from_logits" => set_bool(&mut a.from_logits, value),
                "ignore_class" => {
                    a.ignore_class = value.as_i64();
                    value.is_null() || value.is_i64()
                }
                "axis" => set_axis(&mut a.axis, value),
                _ => false,
            },
            (LossKind::BinaryFocalCrossentropy(a), k) => match k {
                "from_logits" => set_bool(&mut a.from_logits, value),
                "label_smoothing" => set_f32(&mut a.label_smoothing, value),
                "axis" => set_axis(&mut a.axis, value),
                "apply_class_balancing" => set_bool(&mut a.apply_class_balancing, value),
                "alpha" => set_f32(&mut a.alpha, value),
                "gamma" => set_f32(&mut a.gamma, value),
                _ => false,
            },
            (LossKind::CategoricalFocalCrossentropy(a), k) => match k {
                "from_logits" => set_bool(&mut a.from_logits, value),
                "label_smoothing" => set_f32(&mut a.label_smoothing, value),
                "axis" => set_axis(&mut a.axis, value),
                "alpha" => set_f32(&mut a.alpha, value),
                "gamma" => set_f32(&mut a.gamma, value),
                _ => false,
            },
            (LossKind::Huber { delta }, "delta") => set_f32(delta, value),
            (LossKind::CosineSimilarity { axis }, "axis") => set_axis(axis, value),
            _ => false,
        };
        if !ok {
            return Err(EngineError::invalid(
                key.clone(),
                format!(
                    "not an argument of this loss, or of the wrong type. Received: {key}={value}"
                ),
            ));
        }
    }
    Ok(kind)
}

/// An f32 as the shortest decimal that reads back to it (`0.2`, not `0.20000000298023224`), as Python writes.
fn short(value: f32) -> Value {
    value
        .to_string()
        .parse::<f64>()
        .map_or(Value::Null, |v| json!(v))
}

fn set_bool(slot: &mut bool, value: &Value) -> bool {
    value.as_bool().map(|v| *slot = v).is_some()
}

fn set_f32(slot: &mut f32, value: &Value) -> bool {
    value.as_f64().map(|v| *slot = v as f32).is_some()
}

fn set_axis(slot: &mut isize, value: &Value) -> bool {
    value.as_i64().map(|v| *slot = v as isize).is_some()
}
