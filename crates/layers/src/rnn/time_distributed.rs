//! `TimeDistributed`: applies one layer to every step of a sequence, with one set of weights.

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, LayerRef, Shape, expect_inputs, shape_error};
use crate::registry::layer_from_config;
use crate::serialization::{ConfigReader, base_config, saved_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};
use std::sync::Arc;

/// Applies a layer to every step of its input (Keras's `TimeDistributed`): the batch and time axes are merged
/// into one, the layer runs once on `[batch·time, …]`, and the result is split back. The steps share the
/// layer's weights, which are the wrapper's weights (in the `.h5` file under the wrapper's name).
///
/// Any single-output layer can be wrapped (`Dense`, `Conv2D`, `Flatten`, …). Layers that compute batch
/// statistics (`BatchNormalization`) see the merged `batch·time` samples, as in Keras.
///
/// # Shapes
/// input `[time, …]`, output `[time, …the layer's output for one step]`.
///
/// ```
/// use rkeras_layers::{Dense, Input, Layer, LayerCall, TimeDistributed};
/// let y = TimeDistributed::new(Dense::new(8)).call(&Input::new(&[5, 3]))?;
/// assert_eq!(y.shape(), &[5, 8]);
/// assert_eq!(y.layer().weights().len(), 2); // one kernel [3, 8] and one bias for all 5 steps
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Clone)]
pub struct TimeDistributed {
    core: LayerCore,
    layer: LayerRef,
}

impl std::fmt::Debug for TimeDistributed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TimeDistributed({} {})",
            self.layer.class_name(),
            self.layer.name()
        )
    }
}

impl TimeDistributed {
    /// Wraps `layer`.
    pub fn new(layer: impl Layer) -> Self {
        Self::wrapping(Arc::new(layer))
    }

    /// Wraps a shared layer handle.
    pub fn wrapping(layer: LayerRef) -> Self {
        TimeDistributed {
            core: LayerCore::new("time_distributed"),
            layer,
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The wrapped layer.
    pub fn layer(&self) -> &LayerRef {
        &self.layer
    }

    /// Rebuilds the wrapper and its layer from Keras's config (`layer`: `{class_name, config}`).
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("TimeDistributed", config)?;
        let inner = config
            .get("layer")
            .ok_or_else(|| LayersError::Config("TimeDistributed config without `layer`".into()))?;
        let class = inner
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                LayersError::Config(format!(
                    "TimeDistributed config: the wrapped layer has no class_name: {inner}"
                ))
            })?;
        let layer = layer_from_config(class, inner.get("config").unwrap_or(&Value::Null))?;
        let wrapper = TimeDistributed::wrapping(layer);
        Ok(match reader.name()? {
            Some(name) => wrapper.with_name(name),
            None => wrapper,
        })
    }

    /// The time steps and one step's shape.
    fn split_shape(&self, input_shapes: &[Shape]) -> Result<(usize, Shape)> {
        expect_inputs(self, input_shapes, 1)?;
        match input_shapes.first().and_then(|s| s.split_first()) {
            Some((&time, step)) if !step.is_empty() => Ok((time, step.to_vec())),
            _ => Err(shape_error(
                self,
                "expected an input of shape (None, time, …) with at least one axis per step",
                input_shapes,
            )),
        }
    }
}

impl Layer for TimeDistributed {
    fn class_name(&self) -> &'static str {
        "TimeDistributed"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn weight_regularizers(&self) -> Vec<(usize, crate::Regularizer)> {
        self.layer.weight_regularizers()
    }

    fn weight_constraints(&self) -> Vec<(usize, crate::Constraint)> {
        self.layer.weight_constraints()
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        let (time, step) = self.split_shape(input_shapes)?;
        let outputs = self.layer.output_shapes(&[step])?;
        let [output] = outputs.as_slice() else {
            return Err(shape_error(
                self,
                format!(
                    "the wrapped layer `{}` returns {} tensors; TimeDistributed needs one",
                    self.layer.name(),
                    outputs.len()
                ),
                input_shapes,
            ));
        };
        Ok(std::iter::once(time)
            .chain(output.iter().copied())
            .collect())
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        let (_, step) = self.split_shape(input_shapes)?;
        let step = [step];
        self.layer
            .core()
            .build_with(|| self.layer.build(&step, rng))?;
        self.output_shape(input_shapes)?;
        Ok(self.layer.weights())
    }

    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        let name = self.name();
        let (batch, time) = match x.shape() {
            [batch, time, _, ..] => (*batch, *time),
            other => {
                return Err(shape_error(
                    self,
                    "expected a batch of shape (batch, time, …)",
                    &[other.to_vec()],
                ));
            }
        };
        let mut merged_shape = vec![batch * time];
        merged_shape.extend_from_slice(&x.shape()[2..]);
        let merged = x.reshape(&merged_shape).in_layer(name)?;
        let y = self.layer.forward(&[merged], ctx)?;
        let mut shape = vec![batch, time];
        shape.extend_from_slice(y.shape().get(1..).unwrap_or(&[]));
        y.reshape(&shape).in_layer(name)
    }

    fn uses_batch_statistics(&self) -> bool {
        self.layer.uses_batch_statistics()
    }

    fn wrapped_layers(&self) -> Vec<&dyn Layer> {
        vec![self.layer.as_ref()]
    }

    /// Keras's `TimeDistributed` passes its input's timestep mask on unchanged (its `compute_mask` is the
    /// default); the wrapped layer runs on every step unmasked, and a mask it would make itself is dropped.
    fn supports_masking(&self) -> bool {
        true
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        config.insert(
            "layer".into(),
            json!({
                "module": "keras.layers",
                "class_name": self.layer.class_name(),
                "config": saved_config(self.layer.as_ref()),
                "registered_name": null,
            }),
        );
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbolic::Input;
    use crate::{Dense, Flatten, LSTM, LayerCall};
    use rand::SeedableRng;

    #[test]
    fn every_step_is_the_wrapped_layer_on_that_step() {
        let dense = Dense::new(3);
        let y = TimeDistributed::new(dense.clone())
            .call(&Input::new(&[4, 2]))
            .unwrap();
        let x = Tensor::new(ndarray::ArrayD::from_shape_fn(
            ndarray::IxDyn(&[2, 4, 2]),
            |i| (i[0] * 8 + i[1] * 2 + i[2]) as f32 * 0.1 - 0.7,
        ));
        let mut rng = StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training: false,
            rng: &mut rng,
        };
        let out = y.layer().forward(std::slice::from_ref(&x), ctx).unwrap();
        assert_eq!(out.shape(), &[2, 4, 3]);
        for b in 0..2 {
            for t in 0..4 {
                let step = x.narrow(0, b, 1).unwrap().narrow(1, t, 1).unwrap();
                let step = step.reshape(&[1, 2]).unwrap();
                let expected = dense.forward(&[step], ctx).unwrap().to_vec();
                let got = out
                    .narrow(0, b, 1)
                    .unwrap()
                    .narrow(1, t, 1)
                    .unwrap()
                    .to_vec();
                assert_eq!(got, expected);
            }
        }
    }

    #[test]
    fn shapes_and_unsupported_wrapped_layers_are_errors_naming_the_layer() {
        let flat = TimeDistributed::new(Flatten::new())
            .call(&Input::new(&[3, 4, 2]))
            .unwrap();
        assert_eq!(flat.shape(), &[3, 8]);
        let error = TimeDistributed::new(Dense::new(2))
            .with_name("per_step")
            .call(&Input::new(&[3]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("per_step"), "{error}");
        let error = TimeDistributed::new(LSTM::new(2).with_return_state(true))
            .with_name("stateful_steps")
            .call(&Input::new(&[3, 4, 2]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("stateful_steps") && error.contains("returns 3 tensors"),
            "{error}"
        );
    }
}
