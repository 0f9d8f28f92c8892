//! `AveragePooling1D`: 1-D average pooling over steps (padding is not counted).

use super::base::pool_layer;

pool_layer!(
    /// 1-D average pooling over steps (padding is not counted) (Keras's `AveragePooling1D`), channels last.
    ///
    /// # Shapes
    /// input `[steps, channels]`, output `[out_steps, channels]` (`valid`: `(in − pool) / stride + 1`; `same`: `ceil(in / stride)`).
    ///
    /// ```
    /// use rkeras_layers::{AveragePooling1D, Input, LayerCall};
    /// assert_eq!(AveragePooling1D::new([3]).with_padding("same")?.call(&Input::new(&[7, 2]))?.shape(), &[3, 2]);
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    AveragePooling1D,
    "average_pooling1d",
    Average,
    1
);
