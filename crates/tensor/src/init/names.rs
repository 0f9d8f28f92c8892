//! Keras's string names of the initializers (`"he_normal"`, `"glorot_uniform"`, …), each with Keras's default
//! arguments, and the class names Keras writes in configs.

use super::{FanMode, Initializer, ScalingDistribution};
use crate::error::{Result, TensorError};

/// Keras's snake-case names, with the defaults each name stands for.
pub const INITIALIZER_NAMES: [&str; 15] = [
    "zeros",
    "ones",
    "constant",
    "random_uniform",
    "random_normal",
    "truncated_normal",
    "variance_scaling",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "identity",
];

impl Initializer {
    /// The initializer Keras's `keras.initializers.get(name)` returns: a snake-case name or a class name, with
    /// Keras's default arguments (`random_normal`: mean 0, stddev 0.05; `constant`: 0; `orthogonal`/`identity`:
    /// gain 1; `variance_scaling`: scale 1, fan_in, truncated normal). Keras 2's aliases `uniform`, `normal`,
    /// `zero`, `one` are read too. An unknown name is Keras's error, echoing it.
    ///
    /// ```
    /// use rkeras_tensor::Initializer;
    /// assert_eq!(Initializer::from_name("he_normal")?, Initializer::HeNormal);
    /// assert_eq!("GlorotNormal".parse::<Initializer>()?, Initializer::GlorotNormal);
    /// let err = Initializer::from_name("he_norml").unwrap_err().to_string();
    /// assert!(err.contains("Could not interpret initializer identifier: he_norml"));
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Self> {
        let small = 0.05;
        Ok(match name {
            "zeros" | "Zeros" | "zero" => Initializer::Zeros,
            "ones" | "Ones" | "one" => Initializer::Ones,
            "constant" | "Constant" => Initializer::Constant(0.0),
            "random_uniform" | "RandomUniform" | "uniform" => Initializer::RandomUniform {
                min: -small,
                max: small,
            },
            "random_normal" | "RandomNormal" | "normal" => Initializer::RandomNormal {
                mean: 0.0,
                stddev: small,
            },
            "truncated_normal" | "TruncatedNormal" => Initializer::TruncatedNormal {
                mean: 0.0,
                stddev: small,
            },
            "variance_scaling" | "VarianceScaling" => Initializer::VarianceScaling {
                scale: 1.0,
                mode: FanMode::FanIn,
                distribution: ScalingDistribution::TruncatedNormal,
            },
            "glorot_uniform" | "GlorotUniform" => Initializer::GlorotUniform,
            "glorot_normal" | "GlorotNormal" => Initializer::GlorotNormal,
            "he_uniform" | "HeUniform" => Initializer::HeUniform,
            "he_normal" | "HeNormal" => Initializer::HeNormal,
            "lecun_uniform" | "LecunUniform" => Initializer::LecunUniform,
            "lecun_normal" | "LecunNormal" => Initializer::LecunNormal,
            "orthogonal" | "Orthogonal" | "OrthogonalInitializer" => {
                Initializer::Orthogonal { gain: 1.0 }
            }
            "identity" | "Identity" | "IdentityInitializer" => Initializer::Identity { gain: 1.0 },
            other => {
                return Err(TensorError::invalid_argument(
                    "initializers.get",
                    format!(
                        "Could not interpret initializer identifier: {other}; valid names: {}",
                        INITIALIZER_NAMES.join(", ")
                    ),
                ));
            }
        })
    }
}

impl std::str::FromStr for Initializer {
    type Err = TensorError;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_snake_name_maps_to_its_class() {
        for (name, class) in INITIALIZER_NAMES
            .iter()
            .zip(super::super::INITIALIZER_CLASS_NAMES)
        {
            let init = Initializer::from_name(name).unwrap();
            assert_eq!(init.class_name(), class, "{name}");
            assert_eq!(Initializer::from_name(class).unwrap(), init);
        }
    }
}
