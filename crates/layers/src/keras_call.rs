//! [`KerasCall`]: how a layer call whose inputs are separate arguments appears in Keras 3's saved graph.

use serde_json::{Map, Value};

/// Keras's saved form of one call (`{"args": [...], "kwargs": {...}}` in `inbound_nodes`) for a layer whose
/// inputs are separate call arguments: the first `positional` inputs are `args`, one tensor each; the inputs
/// after them are the keyword arguments `keywords`, one tensor each, in that order; `arguments` are the call's
/// other keyword arguments (MultiHeadAttention's `use_causal_mask`), which rkeras holds as layer settings.
///
/// ```
/// use rkeras_layers::{KerasCall, Layer, MultiHeadAttention};
/// let mha = MultiHeadAttention::new(2, 4).with_attention_mask_input(true).with_causal_mask(true);
/// let call: KerasCall = mha.keras_call().unwrap();
/// assert_eq!((call.positional, call.keywords), (2, vec!["attention_mask"]));
/// assert_eq!(call.arguments["use_causal_mask"], true);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KerasCall {
    /// How many inputs are positional `args`.
    pub positional: usize,
    /// The keywords of the inputs after the positional ones.
    pub keywords: Vec<&'static str>,
    /// The call's keyword arguments that are not tensors.
    pub arguments: Map<String, Value>,
}

/// The keyword arguments of saved calls that carry input tensors, in the order rkeras takes them after the
/// positional ones (MultiHeadAttention's `query`, `value`, `key`, `attention_mask`; a recurrent layer's
/// `initial_state`).
pub const KEYWORD_INPUTS: [&str; 5] = ["query", "value", "key", "attention_mask", "initial_state"];
