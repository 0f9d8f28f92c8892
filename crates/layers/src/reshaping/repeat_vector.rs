//! `RepeatVector`: repeats each sample's vector `n` times along a new time axis.

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::json;

/// Repeats the input `n` times (Keras's `RepeatVector`), e.g. to feed an encoder's state to every step of a
/// decoder.
///
/// # Shapes
/// input `[features]`, output `[n, features]`.
///
/// ```
/// use rkeras_layers::{Input, LayerCall, RepeatVector};
/// assert_eq!(RepeatVector::new(3).call(&Input::new(&[32]))?.shape(), &[3, 32]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RepeatVector {
    core: LayerCore,
    n: usize,
}

impl RepeatVector {
    /// Repeats the input `n` times.
    pub fn new(n: usize) -> Self {
        RepeatVector {
            core: LayerCore::new("repeat_vector"),
            n,
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`n`, `name`).
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let reader = ConfigReader::new("RepeatVector", config)?;
        let layer = RepeatVector::new(reader.usize("n")?);
        Ok(match reader.name()? {
            Some(name) => layer.with_name(name),
            None => layer,
        })
    }
}

impl Layer for RepeatVector {
    fn class_name(&self) -> &'static str {
        "RepeatVector"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        if self.n == 0 {
            return Err(LayersError::InvalidArgument {
                class: "RepeatVector",
                argument: "n",
                reason: "expected a positive integer, received 0".into(),
            });
        }
        match input_shapes[0].as_slice() {
            &[features] => Ok(vec![self.n, features]),
            _ => Err(shape_error(
                self,
                "expected an input of shape (None, features)",
                input_shapes,
            )),
        }
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        let copies = vec![x.clone(); self.n];
        Tensor::stack(&copies, 1).in_layer(self.name())
    }

    fn config(&self) -> serde_json::Value {
        let mut config = base_config(self.name(), true);
        config.insert("n".into(), json!(self.n));
        serde_json::Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, LayerCall};
    use rand::SeedableRng;

    #[test]
    fn repeats_each_sample_and_sums_the_gradient_of_the_copies() {
        let layer = RepeatVector::new(3);
        layer.call(&Input::new(&[2])).unwrap();
        let mut rng = StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training: true,
            rng: &mut rng,
        };
        let x = Tensor::leaf(
            ndarray::ArrayD::from_shape_vec(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap(),
        );
        let y = layer.forward(std::slice::from_ref(&x), ctx).unwrap();
        assert_eq!(y.shape(), &[2, 3, 2]);
        assert_eq!(
            y.to_vec(),
            vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 3.0, 4.0]
        );
        // d/dx of sum(y · w) with w = step index + 1: every copy adds its weight, 1 + 2 + 3 = 6.
        let w = Tensor::new(ndarray::ArrayD::from_shape_fn(vec![2, 3, 2], |i| {
            (i[1] + 1) as f32
        }));
        let grads = y.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
        assert_eq!(
            grads.get(&x).unwrap().iter().copied().collect::<Vec<_>>(),
            vec![6.0; 4]
        );
    }

    #[test]
    fn config_round_trips_and_bad_shapes_are_reported() {
        let layer = RepeatVector::new(4).with_name("repeat");
        let config = layer.config();
        assert_eq!(config["n"], json!(4));
        assert_eq!(RepeatVector::from_config(&config).unwrap().config(), config);
        let err = RepeatVector::new(2)
            .call(&Input::new(&[3, 4]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("(None, features)"), "{err}");
        assert!(RepeatVector::new(0).call(&Input::new(&[3])).is_err());
    }
}
