//! The tensor crate's error type.
//!
//! Policy: every tensor operation returns [`Result`]. A shape error names the operation and the shapes it
//! received, so that a layer built on top can point the user at the layer and the shapes at fault.

/// Errors of tensor operations, kernels and automatic differentiation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TensorError {
    /// Two operands whose shapes do not fit together.
    #[error("{op}: shapes {lhs:?} and {rhs:?} are incompatible")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// The first operand's shape.
        lhs: Vec<usize>,
        /// The second operand's shape.
        rhs: Vec<usize>,
    },
    /// An operand whose shape the operation cannot take.
    #[error("{op}: invalid shape {shape:?}: {reason}")]
    InvalidShape {
        /// The operation.
        op: &'static str,
        /// The shape received.
        shape: Vec<usize>,
        /// What was expected.
        reason: String,
    },
    /// An axis beyond the operand's rank.
    #[error("{op}: axis {axis} is out of range for a tensor of rank {rank}")]
    AxisOutOfRange {
        /// The operation.
        op: &'static str,
        /// The axis requested.
        axis: isize,
        /// The operand's rank.
        rank: usize,
    },
    /// An index (an embedding id, a class label) outside its valid range.
    #[error("{op}: index {index} is out of range 0..{bound}")]
    IndexOutOfRange {
        /// The operation.
        op: &'static str,
        /// The offending value, as received.
        index: f64,
        /// The exclusive upper bound.
        bound: usize,
    },
    /// An argument outside its valid range (a dropout rate of 1.5, a negative clip range, …).
    #[error("{op}: invalid argument: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong with the argument.
        reason: String,
    },
    /// `backward` called on a tensor that is not a scalar.
    #[error("backward needs a scalar (one element), received shape {shape:?}")]
    BackwardOfNonScalar {
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// `backward` reached a tensor whose graph an earlier `backward` already took apart (each backward pass
    /// frees the saved values of the graph it walks: run the forward pass again for another gradient).
    #[error(
        "backward reached `{op}`, whose graph an earlier backward pass already released; run the forward pass again"
    )]
    GraphReleased {
        /// The operation that produced the tensor.
        op: &'static str,
    },
    /// A gradient or kernel internal invariant failed (a bug in rkeras, not in the caller's input).
    #[error("internal error in {op}: {reason}")]
    Internal {
        /// The operation.
        op: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// The tensor crate's result type.
pub type Result<T, E = TensorError> = std::result::Result<T, E>;

impl TensorError {
    /// Builds a [`TensorError::ShapeMismatch`] from two shapes.
    pub fn shape_mismatch(op: &'static str, lhs: &[usize], rhs: &[usize]) -> Self {
        TensorError::ShapeMismatch {
            op,
            lhs: lhs.to_vec(),
            rhs: rhs.to_vec(),
        }
    }

    /// Builds a [`TensorError::InvalidShape`].
    pub fn invalid_shape(op: &'static str, shape: &[usize], reason: impl Into<String>) -> Self {
        TensorError::InvalidShape {
            op,
            shape: shape.to_vec(),
            reason: reason.into(),
        }
    }

    /// Builds a [`TensorError::InvalidArgument`].
    pub fn invalid_argument(op: &'static str, reason: impl Into<String>) -> Self {
        TensorError::InvalidArgument {
            op,
            reason: reason.into(),
        }
    }
}
