//! Size limits, checked when a layer is called (before any weight is allocated): every weight a layer builds
//! and every sample of every tensor in the graph holds at most [`MAX_ELEMENTS`] values. Element counts are
//! computed without overflow, so `Dense::new(1 << 62)` or `Input::new(&[1 << 33, 1 << 33])` give a typed error
//! naming the layer, the argument and the element count instead of a panic or an aborted allocation.
//!
//! ```
//! use rkeras_layers::{Dense, Input, LayerCall, LayersError};
//! let err = Dense::new(1 << 62).call(&Input::new(&[3])).unwrap_err();
//! assert!(matches!(err, LayersError::TooLarge { ref argument, .. } if argument == "units"));
//! assert!(err.to_string().contains("13835058055282163712 elements"));
//! ```

use crate::error::{LayersError, Result};
use crate::layer::Layer;

/// The most values one weight, or one sample of one tensor, may hold: 2³¹ (8 GiB of float32). A larger array
/// cannot be trained on a CPU in useful time, and it is usually a mistyped size.
pub const MAX_ELEMENTS: usize = 1 << 31;

/// The number of elements of `shape`, or `None` when it does not fit in 128 bits.
///
/// ```
/// use rkeras_layers::size::element_count;
/// assert_eq!(element_count(&[3, 4]), Some(12));
/// assert_eq!(element_count(&[1 << 33, 1 << 33]), Some(1 << 66));
/// assert_eq!(element_count(&[]), Some(1));
/// ```
pub fn element_count(shape: &[usize]) -> Option<u128> {
    shape
        .iter()
        .try_fold(1u128, |total, &d| total.checked_mul(d as u128))
}

/// An element count as written in errors.
fn describe(shape: &[usize]) -> String {
    match element_count(shape) {
        Some(n) => format!("{n} elements"),
        None => "more than 2^128 elements".to_string(),
    }
}

fn within_limit(shape: &[usize]) -> bool {
    element_count(shape).is_some_and(|n| n <= MAX_ELEMENTS as u128)
}

/// Checks the shape of the weight `weight` that `layer` builds from `argument` (`units`, `input_dim`, …).
pub fn check_weight(
    layer: &dyn Layer,
    argument: &str,
    weight: &str,
    shape: &[usize],
) -> Result<()> {
    if within_limit(shape) {
        return Ok(());
    }
    Err(LayersError::TooLarge {
        layer: layer.name().to_string(),
        class: layer.class_name(),
        argument: argument.to_string(),
        what: format!("weight `{weight}` of shape {shape:?}"),
        elements: describe(shape),
        limit: MAX_ELEMENTS,
    })
}

/// Checks one sample of a tensor `layer` takes or produces (`what`: `input`, `output`); the shape excludes the
/// batch axis.
pub fn check_sample(layer: &dyn Layer, argument: &str, what: &str, shape: &[usize]) -> Result<()> {
    if within_limit(shape) {
        return Ok(());
    }
    Err(LayersError::TooLarge {
        layer: layer.name().to_string(),
        class: layer.class_name(),
        argument: argument.to_string(),
        what: format!(
            "each sample of its {what} {}",
            crate::error::format_shape(shape)
        ),
        elements: describe(shape),
        limit: MAX_ELEMENTS,
    })
}

/// `count · factor` (an LSTM's `4 · units`), or a [`LayersError::TooLarge`] naming `argument` when it
/// overflows.
pub fn scaled(layer: &dyn Layer, argument: &str, count: usize, factor: usize) -> Result<usize> {
    count
        .checked_mul(factor)
        .ok_or_else(|| LayersError::TooLarge {
            layer: layer.name().to_string(),
            class: layer.class_name(),
            argument: argument.to_string(),
            what: format!("{factor} x {argument} = {factor} x {count}"),
            elements: "more than 2^64 elements".to_string(),
            limit: MAX_ELEMENTS,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Embedding, Input, LSTM, LayerCall};

    #[test]
    fn huge_layers_are_errors_naming_layer_argument_and_count() {
        let err = Embedding::new(1 << 40, 64)
            .with_name("words")
            .call(&Input::new(&[4]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`words`")
                && err.contains("input_dim")
                && err.contains(&format!("{} elements", (1u128 << 40) * 64)),
            "{err}"
        );
        let err = LSTM::new(1 << 62)
            .call(&Input::new(&[3, 2]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("units"), "{err}");
        let err = Dense::new(1 << 62)
            .call(&Input::new(&[3]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("units") && err.contains("kernel"), "{err}");
    }

    #[test]
    fn huge_inputs_are_errors_before_any_weight_is_built() {
        let dense = Dense::new(2);
        let err = dense
            .call(&Input::named(&[1 << 33, 1 << 33], "big"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`big`")
                && err.contains("(None, 8589934592, 8589934592)")
                && err.contains(&format!("{} elements", 1u128 << 66)),
            "{err}"
        );
        assert!(dense.core().weights().is_empty());
    }

    #[test]
    fn the_limit_itself_is_accepted() {
        let shape = [MAX_ELEMENTS / 2, 2];
        assert!(within_limit(&shape));
        assert!(!within_limit(&[MAX_ELEMENTS + 1]));
        assert!(!within_limit(&[usize::MAX, usize::MAX, usize::MAX]));
        assert_eq!(
            describe(&[usize::MAX, usize::MAX, 4]),
            "more than 2^128 elements"
        );
    }
}
