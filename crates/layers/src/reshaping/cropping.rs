//! `Cropping1D` / `Cropping2D`: entries removed before and after each spatial axis.

use super::spatial_pairs::{PairsEdit, SpatialPairs};
use rkeras_tensor::Tensor;

/// Keras's `Cropping1D` (`[steps, channels]`) and `Cropping2D` (`[rows, cols, channels]`, `channels_last`;
/// `channels_first` is a config error): `cropping[i] = (before, after)` entries removed on spatial axis `i`.
///
/// # Shapes
/// input `[d1, (d2,) c]`, output `[d1 − b1 − a1, (d2 − b2 − a2,) c]`; cropping a whole axis away is an error.
///
/// ```
/// use rkeras_layers::{Cropping, Input, LayerCall};
/// assert_eq!(Cropping::one_d(1, 2).call(&Input::new(&[6, 3]))?.shape(), &[3, 3]);
/// assert!(Cropping::two_d((2, 2), (0, 0)).call(&Input::new(&[4, 5, 2])).is_err());
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
pub type Cropping = SpatialPairs<Crop>;

/// The edit of [`Cropping`]: `before` entries off the start of the axis, `after` off its end.
#[derive(Debug, Clone)]
pub struct Crop;

impl PairsEdit for Crop {
    const CLASSES: [&'static str; 2] = ["Cropping1D", "Cropping2D"];
    const PREFIXES: [&'static str; 2] = ["cropping1d", "cropping2d"];
    const KEY: &'static str = "cropping";
    const DATA_FORMAT_IN_1D: bool = false;

    fn resize(size: usize, before: usize, after: usize) -> Result<usize, String> {
        if before + after >= size {
            return Err(format!(
                "cropping ({before}, {after}) leaves nothing of {size}"
            ));
        }
        Ok(size - before - after)
    }

    fn apply(
        x: &Tensor,
        axis: usize,
        before: usize,
        after: usize,
    ) -> rkeras_tensor::Result<Tensor> {
        let len = x.shape()[axis].saturating_sub(before + after);
        x.narrow(axis as isize, before, len)
    }
}
