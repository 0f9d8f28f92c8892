//! Keras's activation layers, one per file: [`ReLU`], [`LeakyReLU`], [`PReLU`], [`ELU`], [`Softmax`]. Their
//! configs are Keras 3's, so `.h5`/`.keras` files cross both ways (a PReLU's `alpha` weight included).

mod elu;
mod leaky_relu;
mod prelu;
mod relu;
mod softmax;

pub use elu::ELU;
pub use leaky_relu::LeakyReLU;
pub use prelu::PReLU;
pub use relu::ReLU;
pub use softmax::Softmax;

use crate::error::{LayersError, Result};
use crate::layer::LayerCore;
use crate::serialization::ConfigReader;

/// A layer core named by the config's `name`, or automatically from `prefix`.
fn core_from(reader: &ConfigReader<'_>, prefix: &str) -> Result<LayerCore> {
    Ok(match reader.name()? {
        Some(name) => LayerCore::named(name),
        None => LayerCore::new(prefix),
    })
}

/// Keras's error for a negative or missing argument of an activation layer.
fn invalid(class: &'static str, argument: &'static str, reason: String) -> LayersError {
    LayersError::InvalidArgument {
        class,
        argument,
        reason,
    }
}
