//! The optimizer crate's error type.
//!
//! Policy: constructors validate every hyper-parameter and echo the bad value; `apply_gradients` checks every
//! shape before it changes anything, so that an error never leaves parameters or slots half-updated; `load_state`
//! validates the whole state before replacing the current one.

/// Errors of optimizer construction, update steps, state restoring and config parsing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimError {
    /// A hyper-parameter outside its valid range (a negative learning rate, `rho = 1.5`, `epsilon = 0`, …).
    #[error(
        "{optimizer}: invalid value for `{argument}`, expected {expected}. Received: {argument}={value}"
    )]
    InvalidArgument {
        /// The optimizer class (`"RMSprop"`).
        optimizer: &'static str,
        /// The argument's Keras name (`"rho"`).
        argument: &'static str,
        /// What a valid value looks like.
        expected: &'static str,
        /// The value received, as text.
        value: String,
    },
    /// More than one of `clipnorm`, `clipvalue` and `global_clipnorm` set.
    #[error(
        "{optimizer}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. \
         Received: clipnorm={clipnorm:?}, clipvalue={clipvalue:?}, global_clipnorm={global_clipnorm:?}"
    )]
    ConflictingClipping {
        /// The optimizer class.
        optimizer: &'static str,
        /// `clipnorm` as received.
        clipnorm: Option<f64>,
        /// `clipvalue` as received.
        clipvalue: Option<f64>,
        /// `global_clipnorm` as received.
        global_clipnorm: Option<f64>,
    },
    /// `apply_gradients` received different numbers of parameters and gradients.
    #[error("{optimizer}.apply_gradients: received {params} parameters but {grads} gradients")]
    CountMismatch {
        /// The optimizer class.
        optimizer: &'static str,
        /// Number of parameters.
        params: usize,
        /// Number of gradients.
        grads: usize,
    },
    /// A gradient whose shape differs from its parameter's.
    #[error(
        "{optimizer}.apply_gradients: parameter {index} has shape {param:?} but its gradient has shape {grad:?}"
    )]
    GradientShapeMismatch {
        /// The optimizer class.
        optimizer: &'static str,
        /// Position of the parameter in the list.
        index: usize,
        /// The parameter's shape.
        param: Vec<usize>,
        /// The gradient's shape.
        grad: Vec<usize>,
    },
    /// `apply_gradients` called with a different number of parameters than the slots were built (or loaded) for.
    #[error(
        "{optimizer}.apply_gradients: the optimizer holds slots for {expected} parameters but received {received}; \
         an optimizer serves one fixed list of parameters (create a new one for another model)"
    )]
    ParameterCountChanged {
        /// The optimizer class.
        optimizer: &'static str,
        /// Number of parameters the slots were made for.
        expected: usize,
        /// Number of parameters received.
        received: usize,
    },
    /// A slot whose shape differs from its parameter's (or from the slot it should replace).
    #[error(
        "{optimizer}: slot `{slot}` of parameter {index} has shape {slot_shape:?} but {expected:?} was expected"
    )]
    SlotShapeMismatch {
        /// The optimizer class.
        optimizer: &'static str,
        /// Position of the parameter.
        index: usize,
        /// The slot's name (`"velocity"`).
        slot: String,
        /// The slot's shape.
        slot_shape: Vec<usize>,
        /// The shape expected (the parameter's).
        expected: Vec<usize>,
    },
    /// A state to load that does not fit this optimizer (unknown, missing or repeated slots, …).
    #[error("{optimizer}.load_state: {reason}")]
    InvalidState {
        /// The optimizer class.
        optimizer: &'static str,
        /// What is wrong with the state.
        reason: String,
    },
    /// An optimizer name that is not one of the known ones.
    #[error("unknown optimizer `{name}`; expected one of: {valid}")]
    UnknownOptimizer {
        /// The name received.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// A Keras config entry that cannot be read (unknown key, wrong type, …).
    #[error("{optimizer} config: key `{key}`: {reason}")]
    InvalidConfig {
        /// The optimizer class.
        optimizer: &'static str,
        /// The config key at fault.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A Keras feature that rkeras does not implement (EMA, gradient accumulation, learning-rate schedules, …).
    #[error("{optimizer}: `{argument}` is not supported. Received: {argument}={value}")]
    Unsupported {
        /// The optimizer class.
        optimizer: &'static str,
        /// The Keras argument.
        argument: String,
        /// The value received, as text.
        value: String,
    },
    /// A learning-rate schedule argument or config that Keras rejects (in Keras's words where it has them).
    #[error("{schedule}: {reason}")]
    InvalidSchedule {
        /// The schedule class (`"ExponentialDecay"`).
        schedule: String,
        /// What is wrong, echoing the value.
        reason: String,
    },
    /// Setting the learning rate of an optimizer whose rate is a schedule (Keras raises `TypeError`): e.g. from
    /// `LearningRateScheduler` or `ReduceLROnPlateau`.
    #[error(
        "{optimizer}: this optimizer was created with a `LearningRateSchedule` object ({schedule}) as its \
         `learning_rate` constructor argument, hence its learning rate is not settable. If you need the learning \
         rate to be settable, you should instantiate the optimizer with a float `learning_rate` argument. \
         Received: learning_rate={value}"
    )]
    LearningRateNotSettable {
        /// The optimizer class.
        optimizer: &'static str,
        /// The schedule's class name.
        schedule: &'static str,
        /// The rate that was to be set.
        value: f64,
    },
    /// `exclude_from_weight_decay` called once the optimizer is built (Keras's `ValueError`), or with a name
    /// pattern that is not a valid regular expression.
    #[error("{optimizer}.exclude_from_weight_decay: {reason}")]
    WeightDecayExclusion {
        /// The optimizer class.
        optimizer: &'static str,
        /// What went wrong, with the value received.
        reason: String,
    },
    /// An internal invariant failed (a bug in rkeras, not in the caller's input).
    #[error("internal error in {optimizer}: {reason}")]
    Internal {
        /// The optimizer class.
        optimizer: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// The optimizer crate's result type.
pub type Result<T, E = OptimError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_message_echoes_the_value() {
        let err = OptimError::InvalidArgument {
            optimizer: "RMSprop",
            argument: "rho",
            expected: "a float in [0, 1)",
            value: "1.5".into(),
        };
        assert_eq!(
            err.to_string(),
            "RMSprop: invalid value for `rho`, expected a float in [0, 1). Received: rho=1.5"
        );
    }

    #[test]
    fn shape_mismatch_message_names_index_and_shapes() {
        let err = OptimError::GradientShapeMismatch {
            optimizer: "Adam",
            index: 2,
            param: vec![3, 4],
            grad: vec![4, 3],
        };
        assert_eq!(
            err.to_string(),
            "Adam.apply_gradients: parameter 2 has shape [3, 4] but its gradient has shape [4, 3]"
        );
    }
}
