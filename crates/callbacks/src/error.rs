//! The callbacks crate's error type.

use std::path::PathBuf;

/// Errors raised by callbacks, or passed up from the model they control.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// A constructor argument outside its valid range; names the callback, the argument and the value.
    #[error("{callback}: invalid `{argument}`: {reason}")]
    InvalidArgument {
        /// The callback's class name (`ReduceLROnPlateau`).
        callback: &'static str,
        /// The argument (`factor`).
        argument: &'static str,
        /// What is wrong, echoing the value received.
        reason: String,
    },
    /// A monitored key (or filepath placeholder) that the training run will never log.
    #[error("{callback}: `{key}` is not a key the training run logs; valid keys are: {}", available.join(", "))]
    UnknownKey {
        /// The callback's class name.
        callback: &'static str,
        /// The unknown key.
        key: String,
        /// The keys the run does log.
        available: Vec<String>,
    },
    /// A filepath template that cannot be filled (checked when the callback is built); names the template and the
    /// placeholder at fault.
    #[error("{callback}: invalid filepath template \"{template}\": {}{reason}", field.as_ref().map(|f| format!("placeholder '{{{f}}}': ")).unwrap_or_default())]
    InvalidTemplate {
        /// The callback's class name.
        callback: &'static str,
        /// The template as given.
        template: String,
        /// The placeholder at fault, as written between the braces (`loss:.70000f`); `None` for a stray brace.
        field: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// A filepath placeholder with no value in the logs at save time; names the template and lists the keys.
    #[error("{callback}: failed to format the filepath \"{template}\": `{key}` is not in the logs; available keys are: {}", available.join(", "))]
    TemplateKey {
        /// The callback's class name.
        callback: &'static str,
        /// The filepath template.
        template: String,
        /// The placeholder without a value.
        key: String,
        /// The keys that could be used (`epoch`, `batch` for batch-level saves, then the logged keys).
        available: Vec<String>,
    },
    /// `mode="auto"` cannot tell whether the monitored metric should go up or down.
    #[error(
        "{callback}: cannot infer whether `{monitor}` should be minimised or maximised; pass mode \"min\" or \"max\""
    )]
    UnknownDirection {
        /// The callback's class name.
        callback: &'static str,
        /// The monitored key.
        monitor: String,
    },
    /// A file or directory the callback cannot use.
    #[error("{callback}: {path}: {reason}")]
    Path {
        /// The callback's class name.
        callback: &'static str,
        /// The path at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An I/O failure while writing a log or checkpoint.
    #[error("{callback}: I/O error on {path}: {source}")]
    Io {
        /// The callback's class name.
        callback: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Training stopped on an invalid (NaN or infinite) loss with `raise_error`.
    #[error("batch {batch}: invalid loss {value}, training terminated")]
    InvalidLoss {
        /// The 0-based batch index within the epoch.
        batch: usize,
        /// The loss value.
        value: f64,
    },
    /// A failure reported by the model under control (saving, restoring weights, setting the rate).
    #[error("{0}")]
    Model(String),
    /// A failure inside a user closure (`LambdaCallback`, a schedule).
    #[error("{0}")]
    User(String),
}

/// The callbacks crate's result type.
pub type Result<T, E = CallbackError> = std::result::Result<T, E>;
