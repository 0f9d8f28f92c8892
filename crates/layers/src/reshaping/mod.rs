//! Reshaping layers.

mod cropping;
mod flatten;
mod permute;
mod repeat_vector;
mod reshape;
mod spatial;
mod spatial_pairs;
mod up_sampling;
mod zero_padding;

pub use cropping::{Crop, Cropping};
pub use flatten::Flatten;
pub use permute::Permute;
pub use repeat_vector::RepeatVector;
pub use reshape::Reshape;
pub(crate) use spatial::check_channels_last;
pub use spatial_pairs::{PairsEdit, SpatialPairs};
pub use up_sampling::UpSampling;
pub use zero_padding::{Pad, ZeroPadding};
