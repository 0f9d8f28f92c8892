//! The layers crate's error type: every variant names the layer at fault.

use rkeras_tensor::TensorError;

/// Errors building or running layers and graphs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayersError {
    /// A tensor operation failed inside a layer.
    #[error("layer `{layer}`: {source}")]
    Tensor {
        /// The layer's name.
        layer: String,
        /// The tensor error.
        source: TensorError,
    },
    /// Input shapes the layer cannot take (found when the graph is built).
    #[error("layer `{layer}` ({class}): {reason}; received input shapes {shapes}")]
    Shape {
        /// The layer's name.
        layer: String,
        /// The layer's class.
        class: &'static str,
        /// What was expected.
        reason: String,
        /// The shapes received, Keras-style with `None` for the batch axis.
        shapes: String,
    },
    /// A constructor argument outside its valid range.
    #[error("{class}: invalid `{argument}`: {reason}")]
    InvalidArgument {
        /// The layer's class.
        class: &'static str,
        /// The argument.
        argument: &'static str,
        /// What is wrong, echoing the value received.
        reason: String,
    },
    /// A weight or a sample of a tensor larger than [`crate::size::MAX_ELEMENTS`] (or than 2⁶⁴ elements).
    #[error(
        "layer `{layer}` ({class}): `{argument}` makes {what} hold {elements}, more than rkeras's limit of {limit} per array"
    )]
    TooLarge {
        /// The layer's name.
        layer: String,
        /// The layer's class.
        class: &'static str,
        /// The argument at fault (`units`, `input_dim`, `shape`, …).
        argument: String,
        /// The array (`weight `kernel` of shape [3, 4611686018427387904]`, `each sample of its input …`).
        what: String,
        /// The element count (`13835058055282163712 elements`).
        elements: String,
        /// [`crate::size::MAX_ELEMENTS`].
        limit: usize,
    },
    /// A name (activation, layer class, …) that rkeras does not know.
    #[error("unknown {kind} `{name}`; valid: {}", valid.join(", "))]
    UnknownName {
        /// What kind of name.
        kind: &'static str,
        /// The name received.
        name: String,
        /// The valid names.
        valid: Vec<String>,
    },
    /// A graph that cannot be built or run (an output not reachable from the inputs, wrong input count, …).
    #[error("graph: {0}")]
    Graph(String),
    /// A layer that cannot be written to a file (a [`crate::Lambda`]'s closure); says why and what to do.
    #[error("layer `{layer}` ({class}) cannot be saved: {reason}")]
    NotSerializable {
        /// The layer's name.
        layer: String,
        /// The layer's class.
        class: &'static str,
        /// Why, and what to do instead.
        reason: String,
    },
    /// A Keras model config that cannot be read.
    #[error("model config: {0}")]
    Config(String),
}

/// The layers crate's result type.
pub type Result<T, E = LayersError> = std::result::Result<T, E>;

/// Formats shapes Keras-style, with `None` for the batch axis: `[(None, 68), (None, 4)]`.
pub fn format_shapes(shapes: &[Vec<usize>]) -> String {
    let parts: Vec<String> = shapes.iter().map(|s| format_shape(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// Formats one shape Keras-style: `(None, 68, 64)`.
pub fn format_shape(shape: &[usize]) -> String {
    let mut parts = vec!["None".to_string()];
    parts.extend(shape.iter().map(|d| d.to_string()));
    if parts.len() == 1 {
        "(None,)".to_string()
    } else {
        format!("({})", parts.join(", "))
    }
}

/// Attaches a layer name to tensor errors.
pub trait InLayer<T> {
    /// Maps a tensor error into [`LayersError::Tensor`] naming `layer`.
    fn in_layer(self, layer: &str) -> Result<T>;
}

impl<T> InLayer<T> for std::result::Result<T, TensorError> {
    fn in_layer(self, layer: &str) -> Result<T> {
        self.map_err(|source| LayersError::Tensor {
            layer: layer.to_string(),
            source,
        })
    }
}
