//! `MaxPooling1D`: 1-D max pooling over steps.

use super::base::pool_layer;

pool_layer!(
    /// 1-D max pooling over steps (Keras's `MaxPooling1D`), channels last.
    ///
    /// # Shapes
    /// input `[steps, channels]`, output `[out_steps, channels]` (`valid`: `(in − pool) / stride + 1`; `same`: `ceil(in / stride)`).
    ///
    /// ```
    /// use rkeras_layers::{MaxPooling1D, Input, LayerCall};
    /// assert_eq!(MaxPooling1D::new([2]).call(&Input::new(&[9, 4]))?.shape(), &[4, 4]);
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    MaxPooling1D,
    "max_pooling1d",
    Max,
    1
);
