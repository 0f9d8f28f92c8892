//! `ZeroPadding1D` / `ZeroPadding2D`: zeros added before and after each spatial axis.

use super::spatial_pairs::{PairsEdit, SpatialPairs};
use rkeras_tensor::Tensor;

/// Keras's `ZeroPadding1D` (`[steps, channels]`) and `ZeroPadding2D` (`[rows, cols, channels]`,
/// `channels_last`; `channels_first` is a config error): `padding[i] = (before, after)` zeros on spatial axis `i`.
///
/// # Shapes
/// input `[d1, (d2,) c]`, output `[d1 + b1 + a1, (d2 + b2 + a2,) c]`.
///
/// ```
/// use rkeras_layers::{Input, LayerCall, ZeroPadding};
/// assert_eq!(ZeroPadding::one_d(1, 2).call(&Input::new(&[4, 3]))?.shape(), &[7, 3]);
/// assert_eq!(ZeroPadding::two_d((1, 0), (2, 3)).call(&Input::new(&[3, 2, 2]))?.shape(), &[4, 7, 2]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
pub type ZeroPadding = SpatialPairs<Pad>;

/// The edit of [`ZeroPadding`]: `before` zeros ahead of the axis, `after` behind it.
#[derive(Debug, Clone)]
pub struct Pad;

impl PairsEdit for Pad {
    const CLASSES: [&'static str; 2] = ["ZeroPadding1D", "ZeroPadding2D"];
    const PREFIXES: [&'static str; 2] = ["zero_padding1d", "zero_padding2d"];
    const KEY: &'static str = "padding";
    const DATA_FORMAT_IN_1D: bool = true;

    fn resize(size: usize, before: usize, after: usize) -> Result<usize, String> {
        Ok(size + before + after)
    }

    fn apply(
        x: &Tensor,
        axis: usize,
        before: usize,
        after: usize,
    ) -> rkeras_tensor::Result<Tensor> {
        let zeros = |n: usize| {
            let mut shape = x.shape().to_vec();
            shape[axis] = n;
            Tensor::zeros(&shape)
        };
        let mut parts = Vec::with_capacity(3);
        if before > 0 {
            parts.push(zeros(before));
        }
        parts.push(x.clone());
        if after > 0 {
            parts.push(zeros(after));
        }
        Tensor::concat(&parts, axis as isize)
    }
}
