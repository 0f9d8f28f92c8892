//! [`Run`]: one training run's per-epoch values, from a [`History`] or a CSVLogger file.

use crate::error::{PlotError, Result};
use indexmap::IndexMap;
use rkeras_callbacks::History;
use std::path::Path;

/// One run's per-epoch values under a label (`rkeras`, `Keras`); `NaN` marks an epoch without a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The run's name in the legend.
    pub label: String,
    /// Key (`loss`, `val_accuracy`) → one value per epoch.
    pub values: IndexMap<String, Vec<f64>>,
}

impl Run {
    /// A run from `fit`'s [`History`].
    pub fn from_history(label: &str, history: &History) -> Self {
        let values = history
            .keys()
            .filter_map(|k| history.get(k).map(|v| (k.to_string(), v.to_vec())))
            .collect();
        Self {
            label: label.into(),
            values,
        }
    }

    /// A run from a CSVLogger (rkeras's or Keras's) file: an `epoch` column, then one column per key; `NA` or an
    /// empty field is a missing value. The label is the file's stem.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("keras.csv");
    /// std::fs::write(&path, "epoch,loss,val_loss\r\n0,0.5,NA\r\n1,0.25,0.3\r\n").unwrap();
    /// let run = rkeras_plot::Run::from_csv(&path).unwrap();
    /// assert_eq!(run.label, "keras");
    /// assert_eq!(run.values["loss"], [0.5, 0.25]);
    /// assert!(run.values["val_loss"][0].is_nan());
    /// ```
    pub fn from_csv(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| PlotError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |line: usize, reason: String| PlotError::Csv {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines
            .next()
            .ok_or_else(|| bad(1, "the file is empty".into()))?;
        let separator = if header.contains(',') { ',' } else { ';' };
        let columns: Vec<&str> = header.split(separator).map(str::trim).collect();
        if columns.first() != Some(&"epoch") {
            return Err(bad(
                1,
                format!("the first column is {:?}, not \"epoch\"", columns[0]),
            ));
        }
        let mut values: IndexMap<String, Vec<f64>> = columns[1..]
            .iter()
            .map(|c| (c.to_string(), Vec::new()))
            .collect();
        for (i, line) in lines.enumerate() {
            let fields: Vec<&str> = line.split(separator).map(str::trim).collect();
            if fields.len() != columns.len() {
                return Err(bad(
                    i + 2,
                    format!("{} fields, the header has {}", fields.len(), columns.len()),
                ));
            }
            for (field, series) in fields[1..].iter().zip(values.values_mut()) {
                let value = match *field {
                    "NA" | "" => f64::NAN,
                    v => v
                        .parse()
                        .map_err(|_| bad(i + 2, format!("{v:?} is not a number")))?,
                };
                series.push(value);
            }
        }
        let label = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self { label, values })
    }

    /// The keys without their `val_` twins (`loss`, `accuracy`), in the run's order; a `val_` key without its
    /// training twin counts as its own. `learning_rate` is kept.
    pub fn base_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for key in self.values.keys() {
            let base = key.strip_prefix("val_").unwrap_or(key).to_string();
            if !keys.contains(&base) {
                keys.push(base);
            }
        }
        keys
    }
}
