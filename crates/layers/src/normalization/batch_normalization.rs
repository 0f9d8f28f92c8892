//! `BatchNormalization`: normalizes each feature with the batch's statistics in training and with moving
//! averages of them in inference.

use super::params::{NormParams, norm_weight_rule_builders};
use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs};
use crate::serialization::{ConfigReader, base_config, f32_to_json, initializer_to_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `BatchNormalization` (Keras 3 semantics).
///
/// - Training (`fit`, or a forward pass with [`CallContext::training`]) on a trainable layer: each feature is
///   normalized with the batch's mean and biased variance over every axis but `axis`, then
///   `moving_mean ← moving_mean·momentum + mean·(1 − momentum)` (the same for `moving_variance`). These two
///   updates are the layer's *state updates*: they are written into the non-trainable weights during the
///   forward pass itself (as Keras assigns them in `call`), and the optimizer never touches them.
/// - Inference (`evaluate`/`predict`), or any call of a layer built with `trainable = false` (Keras 3's
///   frozen-BN behaviour): `y = (x − moving_mean) / sqrt(moving_variance + epsilon) · gamma + beta`.
///
/// Because a training step's statistics couple all samples of a batch, the layer reports
/// [`Layer::uses_batch_statistics`], and the engine then runs each batch as one piece.
///
/// Weights, in Keras's order: `gamma` (if `scale`), `beta` (if `center`), `moving_mean`, `moving_variance`;
/// the last two are non-trainable. `channels_first` data is handled by `axis=1`.
///
/// # Shapes
/// output shape = input shape; each weight has the size of the input's `axis`.
///
/// ```
/// use rand::SeedableRng;
/// use rkeras_layers::{BatchNormalization, CallContext, Input, Layer, LayerCall};
/// use rkeras_tensor::Tensor;
/// let bn = BatchNormalization::new();
/// bn.call(&Input::new(&[1]))?;
/// let x = Tensor::new(ndarray::arr2(&[[1.0f32], [3.0]]).into_dyn());
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let y = bn.forward(&[x], &mut CallContext { training: true, rng: &mut rng })?;
/// // mean 2, variance 1: y = ±1/sqrt(1.001).
/// assert!((y.to_vec()[1] - 1.0 / 1.001f32.sqrt()).abs() < 1e-6);
/// // moving_mean = 0·0.99 + 2·0.01, moving_variance = 1·0.99 + 1·0.01.
/// let moving: Vec<f32> = bn.weights()[2..].iter().map(|w| w.value()[0]).collect();
/// assert!((moving[0] - 0.02).abs() < 1e-7 && (moving[1] - 1.0).abs() < 1e-7);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchNormalization {
    core: LayerCore,
    params: NormParams,
    momentum: f32,
    moving_mean_initializer: Initializer,
    moving_variance_initializer: Initializer,
    trainable: bool,
}

impl Default for BatchNormalization {
    fn default() -> Self {
        Self::new()
    }
}

/// Keras options rkeras does not implement (they must keep Keras's defaults).
const UNSUPPORTED_FLAGS: [&str; 2] = ["synchronized", "renorm"];

impl BatchNormalization {
    /// Keras's defaults: `axis=-1`, `momentum=0.99`, `epsilon=1e-3`, `center` and `scale` on, gamma ones,
    /// beta zeros, moving mean zeros, moving variance ones.
    pub fn new() -> Self {
        BatchNormalization {
            core: LayerCore::new("batch_normalization"),
            params: NormParams::new(1e-3),
            momentum: 0.99,
            moving_mean_initializer: Initializer::Zeros,
            moving_variance_initializer: Initializer::Ones,
            trainable: true,
        }
    }

    /// The feature axis (Keras counts the batch axis: `-1` or, for `channels_first`, `1`). Defaults to -1.
    pub fn with_axis(mut self, axis: isize) -> Self {
        self.params.axis = axis;
        self
    }

    /// The moving averages' momentum. Defaults to 0.99.
    pub fn with_momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
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

    /// Keras's `trainable`: `false` freezes gamma and beta and makes every call run in inference mode, as in
    /// Keras 3. Set it before the first call. Defaults to true.
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

    /// Rebuilds the layer from Keras's config (`axis`, `momentum`, `epsilon`, `center`, `scale`, the four
    /// initializers, `trainable`, `name`). Regularizers, constraints, `renorm` and `synchronized` are not
    /// supported.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("BatchNormalization", config)?;
        for flag in UNSUPPORTED_FLAGS {
            reader.require_bool(flag, false)?;
        }
        let mut layer = BatchNormalization {
            params: NormParams::from_reader(&reader, "BatchNormalization", 1e-3)?,
            momentum: reader.f32_or("momentum", 0.99)?,
            moving_mean_initializer: reader
                .initializer_or("moving_mean_initializer", Initializer::Zeros)?,
            moving_variance_initializer: reader
                .initializer_or("moving_variance_initializer", Initializer::Ones)?,
            trainable: reader.trainable()?,
            ..BatchNormalization::new()
        };
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        layer.validate()?;
        Ok(layer)
    }

    fn validate(&self) -> Result<()> {
        self.params.validate("BatchNormalization")?;
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(LayersError::InvalidArgument {
                class: "BatchNormalization",
                argument: "momentum",
                reason: format!("expected a number in [0, 1], received {}", self.momentum),
            });
        }
        Ok(())
    }

    /// The feature axis of `x` (counting the batch axis).
    fn axis_of(&self, x: &Tensor) -> Result<usize> {
        let shape: Shape = x.shape().iter().skip(1).copied().collect();
        Ok(self
            .params
            .feature_axis(self, std::slice::from_ref(&shape))?
            + 1)
    }

    /// Moves the moving statistics towards the batch's: `moving ← moving·momentum + batch·(1 − momentum)`.
    fn update_moving(&self, moving: &Variable, batch: &[f32]) -> Result<()> {
        if moving.shape() != [batch.len()] {
            return Err(LayersError::Graph(format!(
                "layer `{}`: {} batch statistics for a moving statistic of shape {:?}",
                self.name(),
                batch.len(),
                moving.shape()
            )));
        }
        moving.update(|m| {
            m.iter_mut()
                .zip(batch)
                .for_each(|(m, &b)| *m = *m * self.momentum + b * (1.0 - self.momentum))
        });
        Ok(())
    }

    /// The forward pass, with the batch's statistics over the positions `mask` keeps (all without a mask)
    /// in training, with the moving ones otherwise.
    fn normalize(&self, x: &Tensor, mask: Option<&Tensor>, training: bool) -> Result<Tensor> {
        let name = self.name();
        let weights = self.core.weights();
        let (gamma, beta) = self.params.affine(weights);
        let [.., moving_mean, moving_variance] = weights else {
            return Err(LayersError::Graph(format!(
                "layer `{name}` is used before it was built"
            )));
        };
        let axis = self.axis_of(x)?;
        let eps = self.params.epsilon;
        if training && self.uses_batch_statistics() {
            let (y, moments) = x
                .batch_norm_training(gamma.as_ref(), beta.as_ref(), axis, eps, mask)
                .in_layer(name)?;
            // The state updates (values only: no gradient flows into the moving statistics).
            self.update_moving(moving_mean, &moments.mean)?;
            self.update_moving(moving_variance, &moments.variance)?;
            Ok(y)
        } else {
            let values = |v: &Variable| v.value().iter().copied().collect::<Vec<f32>>();
            x.batch_norm_inference(
                &values(moving_mean),
                &values(moving_variance),
                gamma.as_ref(),
                beta.as_ref(),
                axis,
                eps,
            )
            .in_layer(name)
        }
    }
}

impl Layer for BatchNormalization {
    fn class_name(&self) -> &'static str {
        "BatchNormalization"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn weight_rules(&self) -> Option<&crate::weight_rules::WeightRules> {
        Some(&self.params.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        self.params.feature_axis(self, input_shapes)?;
        Ok(input_shapes[0].clone())
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.validate()?;
        expect_inputs(self, input_shapes, 1)?;
        let size = input_shapes[0][self.params.feature_axis(self, input_shapes)?];
        let mut weights = self.params.build_affine(self, size, rng)?;
        weights.iter().for_each(|w| w.set_trainable(self.trainable));
        for (name, init) in [
            ("moving_mean", &self.moving_mean_initializer),
            ("moving_variance", &self.moving_variance_initializer),
        ] {
            let value = init.sample(&[size], rng).in_layer(self.name())?;
            let moving = Variable::new(name, value);
            moving.set_trainable(false);
            weights.push(moving);
        }
        Ok(weights)
    }

    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        self.normalize(x, None, ctx.training)
    }

    /// Keras's `supports_masking`: the mask passes on unchanged.
    fn supports_masking(&self) -> bool {
        true
    }

    /// A training call with a mask (the input's shape without its last axis, which must be the feature axis)
    /// takes the batch statistics over the kept positions only (Keras 3's masked moments); every position is
    /// normalized. Without a mask, or in inference, the plain forward pass runs.
    fn forward_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        ctx: &mut CallContext<'_>,
    ) -> Result<Option<Vec<Tensor>>> {
        let Some(mask) = masks.first().and_then(Option::as_ref) else {
            return Ok(None);
        };
        if !(ctx.training && self.uses_batch_statistics()) {
            return Ok(None);
        }
        let x = call_inputs::single(self, inputs)?;
        Ok(Some(vec![self.normalize(x, Some(mask), true)?]))
    }

    fn uses_batch_statistics(&self) -> bool {
        // A frozen layer, or one inside a frozen model, normalizes with its moving statistics (Keras 3).
        self.trainable && !self.core.frozen()
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        self.params.write(&mut config);
        config.insert("momentum".into(), f32_to_json(self.momentum));
        config.insert(
            "moving_mean_initializer".into(),
            initializer_to_config(&self.moving_mean_initializer),
        );
        config.insert(
            "moving_variance_initializer".into(),
            initializer_to_config(&self.moving_variance_initializer),
        );
        config.insert("synchronized".into(), json!(false));
        config.insert("renorm".into(), json!(false));
        config.insert("renorm_clipping".into(), Value::Null);
        config.insert("renorm_momentum".into(), f32_to_json(0.99));
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, LayerCall};
    use rand::SeedableRng;

    fn run(layer: &BatchNormalization, x: &Tensor, training: bool) -> Tensor {
        let mut rng = StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training,
            rng: &mut rng,
        };
        layer.forward(std::slice::from_ref(x), ctx).unwrap()
    }

    fn moving(layer: &BatchNormalization) -> (Vec<f32>, Vec<f32>) {
        let w = layer.weights();
        let n = w.len();
        (
            w[n - 2].value().iter().copied().collect(),
            w[n - 1].value().iter().copied().collect(),
        )
    }

    #[test]
    fn weights_follow_keras_order_and_trainability() {
        let layer = BatchNormalization::new();
        layer.call(&Input::new(&[5, 3])).unwrap();
        let names: Vec<(String, Vec<usize>, bool)> = layer
            .weights()
            .iter()
            .map(|w| (w.name().to_string(), w.shape(), w.trainable()))
            .collect();
        let expected = [
            ("gamma", true),
            ("beta", true),
            ("moving_mean", false),
            ("moving_variance", false),
        ];
        assert_eq!(names.len(), 4);
        for ((name, shape, trainable), (e_name, e_trainable)) in names.iter().zip(expected) {
            assert_eq!(
                (name.as_str(), shape.as_slice(), *trainable),
                (e_name, &[3usize][..], e_trainable)
            );
        }
        let plain = BatchNormalization::new()
            .with_center(false)
            .with_scale(false);
        plain.call(&Input::new(&[3])).unwrap();
        assert_eq!(plain.weights().len(), 2);
    }

    #[test]
    fn training_uses_batch_statistics_and_updates_the_moving_ones() {
        // Feature 0: [1, 3, 5, 7] (mean 4, biased variance 5); feature 1: [2, 2, 2, 2] (mean 2, variance 0).
        let layer = BatchNormalization::new().with_momentum(0.5);
        layer.call(&Input::new(&[2])).unwrap();
        let x = Tensor::from_vec(&[4, 2], vec![1.0, 2.0, 3.0, 2.0, 5.0, 2.0, 7.0, 2.0]).unwrap();
        let y = run(&layer, &x, true).to_vec();
        let s = (5.0f32 + 1e-3).sqrt();
        let expected = [-3.0 / s, 0.0, -1.0 / s, 0.0, 1.0 / s, 0.0, 3.0 / s, 0.0];
        for (a, e) in y.iter().zip(expected) {
            assert!((a - e).abs() < 1e-6, "{y:?}");
        }
        assert_eq!(moving(&layer), (vec![2.0, 1.0], vec![3.0, 0.5]));
        // Inference uses the moving statistics and leaves them alone.
        let y = run(&layer, &x, false).to_vec();
        assert!((y[0] - (1.0 - 2.0) / (3.0f32 + 1e-3).sqrt()).abs() < 1e-6);
        assert!((y[1] - 1.0 / (0.5f32 + 1e-3).sqrt()).abs() < 1e-6);
        assert_eq!(moving(&layer), (vec![2.0, 1.0], vec![3.0, 0.5]));
    }

    #[test]
    fn frozen_layer_runs_in_inference_mode() {
        let layer = BatchNormalization::new().with_trainable(false);
        layer.call(&Input::new(&[2])).unwrap();
        assert!(layer.weights().iter().all(|w| !w.trainable()));
        assert!(!layer.uses_batch_statistics());
        let x = Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let y = run(&layer, &x, true).to_vec();
        let s = (1.0f32 + 1e-3).sqrt();
        assert_eq!(y, x.to_vec().iter().map(|v| v / s).collect::<Vec<_>>());
        assert_eq!(moving(&layer), (vec![0.0, 0.0], vec![1.0, 1.0]));
    }

    #[test]
    fn channels_first_axis_normalizes_axis_one() {
        let layer = BatchNormalization::new().with_axis(1);
        assert_eq!(layer.call(&Input::new(&[2, 3])).unwrap().shape(), &[2, 3]);
        assert_eq!(layer.weights()[0].shape(), vec![2]);
        // Channel 0 holds 0..3 in both samples, channel 1 holds 10.
        let x = Tensor::from_vec(
            &[2, 2, 3],
            vec![
                0.0, 1.0, 2.0, 10.0, 10.0, 10.0, 0.0, 1.0, 2.0, 10.0, 10.0, 10.0,
            ],
        )
        .unwrap();
        let y = run(&layer, &x, true).to_vec();
        let s = (2.0f32 / 3.0 + 1e-3).sqrt();
        assert!((y[0] + 1.0 / s).abs() < 1e-6 && y[3].abs() < 1e-6, "{y:?}");
        let bad = BatchNormalization::new().with_axis(3);
        let err = bad.call(&Input::new(&[2, 3])).unwrap_err().to_string();
        assert!(
            err.contains("axis=3") && err.contains("(None, 2, 3)"),
            "{err}"
        );
    }

    #[test]
    fn bad_arguments_are_rejected_with_their_value() {
        let err = BatchNormalization::new()
            .with_momentum(1.5)
            .call(&Input::new(&[2]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("momentum") && err.contains("1.5"), "{err}");
        assert!(BatchNormalization::from_config(&json!({"renorm": true})).is_err());
        assert!(BatchNormalization::from_config(&json!({"epsilon": 0.0})).is_err());
        let err =
            BatchNormalization::from_config(&json!({"gamma_regularizer": {"class_name": "L3"}}))
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("gamma_regularizer") && err.contains("L3"),
            "{err}"
        );
    }

    #[test]
    fn config_round_trips() {
        let layer = BatchNormalization::new()
            .with_momentum(0.9)
            .with_center(false)
            .with_trainable(false)
            .with_name("bn");
        let config = layer.config();
        assert_eq!(
            (config["momentum"].clone(), config["trainable"].clone()),
            (json!(0.9), json!(false))
        );
        assert_eq!(
            BatchNormalization::from_config(&config).unwrap().config(),
            config
        );
    }
}
