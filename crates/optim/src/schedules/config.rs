//! Reading a schedule's Keras `get_config()` dictionary: every key consumed explicitly, leftovers an error.

use crate::error::{OptimError, Result};
use serde_json::{Map, Value};

/// The entries of one schedule config not yet read.
pub(crate) struct ScheduleConfigReader {
    schedule: String,
    remaining: Map<String, Value>,
}

impl ScheduleConfigReader {
    /// A reader over `config` (a JSON object, or `null` for all defaults).
    pub(crate) fn new(schedule: &str, config: &Value) -> Result<Self> {
        let remaining = match config {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            other => {
                return Err(OptimError::InvalidSchedule {
                    schedule: schedule.into(),
                    reason: format!("config: expected a JSON object, received {other}"),
                });
            }
        };
        Ok(ScheduleConfigReader {
            schedule: schedule.into(),
            remaining,
        })
    }

    fn invalid(&self, key: &str, reason: String) -> OptimError {
        OptimError::InvalidSchedule {
            schedule: self.schedule.clone(),
            reason: format!("config key `{key}`: {reason}"),
        }
    }

    /// A required number.
    pub(crate) fn f64(&mut self, key: &str) -> Result<f64> {
        self.f64_opt(key)?
            .ok_or_else(|| self.invalid(key, "missing".into()))
    }

    /// A number, `None` when absent or `null`.
    pub(crate) fn f64_opt(&mut self, key: &str) -> Result<Option<f64>> {
        match self.remaining.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(self.invalid(key, format!("expected a number, received {other}"))),
        }
    }

    /// A number or `default`.
    pub(crate) fn f64_or(&mut self, key: &str, default: f64) -> Result<f64> {
        Ok(self.f64_opt(key)?.unwrap_or(default))
    }

    /// A boolean or `default`.
    pub(crate) fn bool_or(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.remaining.remove(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(other) => Err(self.invalid(key, format!("expected a boolean, received {other}"))),
        }
    }

    /// A list of numbers.
    pub(crate) fn f64_list(&mut self, key: &str) -> Result<Vec<f64>> {
        match self.remaining.remove(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_f64()
                        .ok_or_else(|| self.invalid(key, format!("expected numbers, received {v}")))
                })
                .collect(),
            other => Err(self.invalid(
                key,
                format!(
                    "expected a list of numbers, received {}",
                    other.unwrap_or(Value::Null)
                ),
            )),
        }
    }

    /// The schedule's `name` (any string; Keras keeps it for the name scope only).
    pub(crate) fn name(&mut self, default: &str) -> Result<String> {
        match self.remaining.remove("name") {
            None | Some(Value::Null) => Ok(default.into()),
            Some(Value::String(s)) => Ok(s),
            Some(other) => {
                Err(self.invalid("name", format!("expected a string, received {other}")))
            }
        }
    }

    /// Fails on the first entry no one read.
    pub(crate) fn finish(self) -> Result<()> {
        match self.remaining.keys().next() {
            None => Ok(()),
            Some(key) => Err(self.invalid(key, "argument not recognized".into())),
        }
    }
}
