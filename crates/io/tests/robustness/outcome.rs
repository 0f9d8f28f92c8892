//! What loading one damaged copy gave, compared with loading the undamaged file, as one line the
//! child prints and the parent parses.

use std::fmt;
use std::path::Path;

use rkeras_io::{IoError, LayerWeights, ModelFile, load_model_file, load_weights_file};

/// Both loaders' results for one file (`model` is `None` for a weights-only file).
pub struct Loaded {
    model: Option<Result<ModelFile, IoError>>,
    weights: Result<Vec<LayerWeights>, IoError>,
}

/// Loads `path` with both loaders (the whole-model loader only for a whole-model file).
pub fn load_outcome(path: &Path, whole_model: bool) -> Loaded {
    Loaded {
        model: whole_model.then(|| load_model_file(path)),
        weights: load_weights_file(path),
    }
}

/// One case's outcome.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Both loads gave exactly what the undamaged file gives.
    Same,
    /// A load failed with this error variant; `names_file`: its message names the damaged file.
    Error { variant: String, names_file: bool },
    /// A load succeeded with different content: which parts differ (`values`, `strings`, ...).
    Changed { parts: String },
    /// The child process died (signal or abort) or stopped answering.
    Crash(String),
}

impl Outcome {
    pub fn parse(line: &str) -> Self {
        let mut words = line.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("same"), _, _) => Self::Same,
            (Some("error"), Some(variant), Some(named)) => Self::Error {
                variant: variant.to_owned(),
                names_file: named == "named",
            },
            (Some("changed"), Some(parts), _) => Self::Changed {
                parts: parts.to_owned(),
            },
            _ => Self::Crash(line.to_owned()),
        }
    }

    /// The outcome without details that differ between cases, for counting.
    pub fn summary(&self) -> String {
        match self {
            Self::Same => "same".into(),
            Self::Error { variant, .. } => format!("error {variant}"),
            Self::Changed { parts } => format!("changed {parts}"),
            Self::Crash(what) => what.clone(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Same => write!(f, "same"),
            Self::Error {
                variant,
                names_file,
            } => write!(
                f,
                "error {variant} {}",
                if *names_file { "named" } else { "unnamed" }
            ),
            Self::Changed { parts } => write!(f, "changed {parts}"),
            Self::Crash(what) => write!(f, "{what}"),
        }
    }
}

fn error_outcome(err: &IoError, file_name: &str) -> Outcome {
    let debug = format!("{err:?}");
    Outcome::Error {
        variant: debug.split([' ', '{', '(']).next().unwrap_or("").to_owned(),
        names_file: err.to_string().contains(file_name),
    }
}

/// The parts in which two models differ.
fn differences(a: &ModelFile, b: &ModelFile) -> Vec<&'static str> {
    let mut parts = Vec::new();
    let strings = (
        &a.keras_version,
        &a.backend,
        &a.model_config,
        &a.training_config,
    );
    if strings
        != (
            &b.keras_version,
            &b.backend,
            &b.model_config,
            &b.training_config,
        )
        || a.extra.as_ref().map(|e| &e.json) != b.extra.as_ref().map(|e| &e.json)
    {
        parts.push("strings");
    }
    let optimizer_counter = |m: &ModelFile| {
        m.optimizer
            .as_ref()
            .map(|o| (o.iterations_name.clone(), o.iterations))
    };
    if optimizer_counter(a) != optimizer_counter(b) {
        parts.push("counter");
    }
    parts.extend(layer_differences(&arrays_of(a), &arrays_of(b)));
    parts
}

fn arrays_of(model: &ModelFile) -> Vec<LayerWeights> {
    let mut layers = model.layers.clone();
    if let Some(optimizer) = &model.optimizer {
        layers.push(LayerWeights::new("optimizer", optimizer.weights.clone()));
    }
    if let Some(extra) = &model.extra {
        layers.push(LayerWeights::new("extra", extra.arrays.clone()));
    }
    layers
}

/// Each layer's name with its weights' names and shapes.
type Structure = Vec<(String, Vec<(String, Vec<usize>)>)>;

/// `structure` when names or shapes differ, else `values` when values differ.
fn layer_differences(a: &[LayerWeights], b: &[LayerWeights]) -> Option<&'static str> {
    let shape = |layers: &[LayerWeights]| -> Structure {
        layers
            .iter()
            .map(|l| {
                let weights = l
                    .weights
                    .iter()
                    .map(|w| (w.name.clone(), w.value.shape().to_vec()))
                    .collect();
                (l.layer_name.clone(), weights)
            })
            .collect()
    };
    if shape(a) != shape(b) {
        Some("structure")
    } else if a != b {
        Some("values")
    } else {
        None
    }
}

impl Loaded {
    /// This load's outcome against the undamaged file's, errors checked for `file_name`.
    pub fn compare(&self, reference: &Self, file_name: &str) -> Outcome {
        let mut changed = Vec::new();
        let mut error = None;
        match (&self.model, &reference.model) {
            (Some(Err(err)), _) => error = Some(error_outcome(err, file_name)),
            (Some(Ok(model)), Some(Ok(original))) => changed.extend(differences(model, original)),
            _ => {}
        }
        match (&self.weights, &reference.weights) {
            (Err(err), _) => {
                let outcome = error_outcome(err, file_name);
                if !matches!(
                    outcome,
                    Outcome::Error {
                        names_file: true,
                        ..
                    }
                ) || error.is_none()
                {
                    error = Some(outcome);
                }
            }
            (Ok(layers), Ok(original)) => changed.extend(layer_differences(layers, original)),
            _ => {}
        }
        changed.sort_unstable();
        changed.dedup();
        if !changed.is_empty() {
            Outcome::Changed {
                parts: changed.join("+"),
            }
        } else {
            error.unwrap_or(Outcome::Same)
        }
    }
}
