//! `LayerNormalization`: normalizes each sample over its last axis.

use super::params::{NormParams, norm_weight_rule_builders};
use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `LayerNormalization` over the last axis: `y = (x − mean) / sqrt(var + epsilon) · gamma + beta`,
/// with each position's mean and biased variance over the features (the fused kernel
/// [`rkeras_tensor::kernels::layer_norm`]). The same in training and inference.
///
/// Weights, in Keras's order: `gamma` (if `scale`), `beta` (if `center`), of the last axis's size. Only the
/// last axis can be normalized (`axis=-1`, Keras's default); another axis, several axes or `rms_scaling` are
/// typed errors.
///
/// # Shapes
/// output shape = input shape.
///
/// ```
/// use rand::SeedableRng;
/// use rkeras_layers::{CallContext, Input, Layer, LayerCall, LayerNormalization};
/// use rkeras_tensor::Tensor;
/// let ln = LayerNormalization::new().with_epsilon(1e-6);
/// ln.call(&Input::new(&[2]))?;
/// let x = Tensor::new(ndarray::arr2(&[[1.0f32, 3.0]]).into_dyn());
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let y = ln.forward(&[x], &mut CallContext { training: false, rng: &mut rng })?;
/// assert!((y.to_vec()[0] + 1.0).abs() < 1e-5 && (y.to_vec()[1] - 1.0).abs() < 1e-5);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LayerNormalization {
    core: LayerCore,
    params: NormParams,
    trainable: bool,
}

impl Default for LayerNormalization {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerNormalization {
    /// Keras's defaults: `axis=-1`, `epsilon=1e-3`, `center` and `scale` on, gamma ones, beta zeros.
    pub fn new() -> Self {
        LayerNormalization {
            core: LayerCore::new("layer_normalization"),
            params: NormParams::new(1e-3),
            trainable: true,
        }
    }

    /// The normalized axis, counting the batch axis; it must be the last one. Defaults to -1.
    pub fn with_axis(mut self, axis: isize) -> Self {
        self.params.axis = axis;
        self
    }

    /// Added to the variance. Defaults to 1e-3.
    pub fn with_epsilon(mut self, epsilon: f32) -> Self {
        self.params.epsilon = epsilon;
        self
    }

    /// Whether to add `beta`. Defaults to true.
    pub fn with_center(mut self, center: bool) -> Self {
        self.params.center = center;
        self
    }

    /// Whether to multiply by `gamma`. Defaults to true.
    pub fn with_scale(mut self, scale: bool) -> Self {
        self.params.scale = scale;
        self
    }

    /// Whether the optimizer updates gamma and beta; set it before the first call. Defaults to true.
    pub fn with_trainable(mut self, trainable: bool) -> Self {
        self.trainable = trainable;
        self
    }

    norm_weight_rule_builders!();

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`axis`, `epsilon`, `center`, `scale`, the initializers,
    /// `trainable`, `name`). `rms_scaling`, regularizers and constraints are not supported.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("LayerNormalization", config)?;
        reader.require_bool("rms_scaling", false)?;
        let mut layer = LayerNormalization {
            params: NormParams::from_reader(&reader, "LayerNormalization", 1e-3)?,
            trainable: reader.trainable()?,
            ..LayerNormalization::new()
        };
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        layer.params.validate("LayerNormalization")?;
        Ok(layer)
    }
}

impl Layer for LayerNormalization {
    fn class_name(&self) -> &'static str {
        "LayerNormalization"
    }

    /// Keras's `supports_masking`: each timestep is normalized on its own, so the mask passes on unchanged.
    fn supports_masking(&self) -> bool {
        true
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn weight_rules(&self) -> Option<&crate::weight_rules::WeightRules> {
        Some(&self.params.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        let axis = self.params.feature_axis(self, input_shapes)?;
        if axis + 1 != input_shapes[0].len() {
            return Err(shape_error(
                self,
                format!(
                    "rkeras normalizes over the last axis only, received `axis={}`",
                    self.params.axis
                ),
                input_shapes,
            ));
        }
        Ok(input_shapes[0].clone())
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.params.validate("LayerNormalization")?;
        self.output_shape(input_shapes)?;
        let size = input_shapes[0].last().copied().unwrap_or(0);
        let weights = self.params.build_affine(self, size, rng)?;
        weights.iter().for_each(|w| w.set_trainable(self.trainable));
        Ok(weights)
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        let (gamma, beta) = self.params.affine(self.core.weights());
        x.layer_norm(gamma.as_ref(), beta.as_ref(), self.params.epsilon)
            .in_layer(self.name())
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        self.params.write(&mut config);
        config.insert("rms_scaling".into(), json!(false));
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, LayerCall};

    #[test]
    fn only_the_last_axis_is_supported() {
        let layer = LayerNormalization::new().with_axis(1);
        let err = layer.call(&Input::new(&[3, 4])).unwrap_err().to_string();
        assert!(err.contains("last axis") && err.contains("axis=1"), "{err}");
        assert_eq!(
            LayerNormalization::new()
                .with_axis(2)
                .call(&Input::new(&[3, 4]))
                .unwrap()
                .shape(),
            &[3, 4]
        );
        assert!(LayerNormalization::from_config(&json!({"rms_scaling": true})).is_err());
        assert!(LayerNormalization::from_config(&json!({"axis": [1, 2]})).is_err());
    }

    #[test]
    fn weights_and_config() {
        let layer = LayerNormalization::new().with_center(false).with_name("ln");
        layer.call(&Input::new(&[6])).unwrap();
        let names: Vec<String> = layer
            .weights()
            .iter()
            .map(|w| w.name().to_string())
            .collect();
        assert_eq!(names, ["gamma"]);
        let config = layer.config();
        assert_eq!(
            LayerNormalization::from_config(&config).unwrap().config(),
            config
        );
        let keras = json!({"name": "ln", "axis": [-1], "epsilon": 1e-5, "center": true, "scale": true,
            "rms_scaling": false, "beta_regularizer": null});
        assert_eq!(
            LayerNormalization::from_config(&keras).unwrap().config()["axis"],
            json!(-1)
        );
    }
}
