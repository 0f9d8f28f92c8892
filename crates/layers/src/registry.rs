//! Rebuilding layers from Keras's saved configs: `layer_from_config("Dense", &config)`.
//!
//! Reads the `get_config()` JSON that Keras 3 writes (and Keras 2's spellings where they differ: an
//! Embedding's `input_length`, an InputLayer's `batch_input_shape`, an LSTM's `hard_sigmoid`, …). The
//! config's `name` becomes the layer's name. A layer class rkeras lacks is an error listing the supported
//! ones.
//!
//! ```
//! use rkeras_layers::{Layer, layer_from_config};
//! let config = serde_json::json!({"name": "drop", "rate": 0.3, "seed": null, "noise_shape": null});
//! let layer = layer_from_config("Dropout", &config)?;
//! assert_eq!((layer.name(), layer.class_name()), ("drop", "Dropout"));
//! let err = layer_from_config("Conv3D", &serde_json::json!({})).err().unwrap().to_string();
//! assert!(err.contains("Conv3D") && err.contains("Dense"));
//! # Ok::<(), rkeras_layers::LayersError>(())
//! ```

use crate::activation::{ELU, LeakyReLU, PReLU, ReLU, Softmax};
use crate::attention::{AdditiveAttention, Attention};
use crate::convolutional::{Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D};
use crate::core::{Activation, Dense, EinsumDense, Embedding, Masking};
use crate::error::{LayersError, Result};
use crate::input_layer::InputLayer;
use crate::layer::LayerRef;
use crate::merging::{Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract};
use crate::normalization::{BatchNormalization, LayerNormalization};
use crate::pooling::{
    AveragePooling1D, AveragePooling2D, GlobalPooling, GlobalPoolingKind, MaxPooling1D,
    MaxPooling2D,
};
use crate::preprocessing::Rescaling;
use crate::regularization::{Dropout, SpatialDropout};
use crate::reshaping::{
    Cropping, Flatten, Permute, RepeatVector, Reshape, UpSampling, ZeroPadding,
};
use crate::rnn::LSTM;
use crate::rnn::SimpleRNN;
use crate::rnn::{Bidirectional, GRU, TimeDistributed};
use crate::serialization::ConfigReader;
use serde_json::Value;
use std::sync::Arc;

/// The Keras layer classes [`layer_from_config`] rebuilds.
pub const SUPPORTED_LAYER_CLASSES: &[&str] = &[
    "InputLayer",
    "Dense",
    "Embedding",
    "Masking",
    "Activation",
    "Dropout",
    "Add",
    "Multiply",
    "Subtract",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
    "Permute",
    "Reshape",
    "Flatten",
    "LSTM",
    "BatchNormalization",
    "LayerNormalization",
    "MultiHeadAttention",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "Cropping1D",
    "Cropping2D",
    "UpSampling1D",
    "UpSampling2D",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "Rescaling",
    "GRU",
    "SimpleRNN",
    "RepeatVector",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "TimeDistributed",
    "Bidirectional",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "Softmax",
    "Attention",
    "AdditiveAttention",
    "EinsumDense",
];

/// Rebuilds a layer of Keras class `class_name` from its config (weights are not part of a config: the
/// layer builds fresh ones when it is first called).
pub fn layer_from_config(class_name: &str, config: &Value) -> Result<LayerRef> {
    Ok(match class_name {
        "InputLayer" => Arc::new(input_layer_from_config(config)?),
        "Dense" => Arc::new(Dense::from_config(config)?),
        // A model used as a layer.
        "Sequential" | "Functional" | "Model" => {
            Arc::new(crate::NestedModel::from_config(class_name, config)?)
        }
        "EinsumDense" => Arc::new(EinsumDense::from_config(config)?),
        "Attention" => Arc::new(Attention::from_config(config)?),
        "AdditiveAttention" => Arc::new(AdditiveAttention::from_config(config)?),
        "Embedding" => Arc::new(Embedding::from_config(config)?),
        "Masking" => Arc::new(Masking::from_config(config)?),
        "Activation" => Arc::new(Activation::from_config(config)?),
        "Dropout" => Arc::new(Dropout::from_config(config)?),
        "Add" => Arc::new(Add::from_config(config)?),
        "Multiply" => Arc::new(Multiply::from_config(config)?),
        "Subtract" => Arc::new(Subtract::from_config(config)?),
        "Average" => Arc::new(Average::from_config(config)?),
        "Maximum" => Arc::new(Maximum::from_config(config)?),
        "Minimum" => Arc::new(Minimum::from_config(config)?),
        "Concatenate" => Arc::new(Concatenate::from_config(config)?),
        "Dot" => Arc::new(Dot::from_config(config)?),
        "Permute" => Arc::new(Permute::from_config(config)?),
        "Reshape" => Arc::new(Reshape::from_config(config)?),
        "Flatten" => Arc::new(Flatten::from_config(config)?),
        "LSTM" => Arc::new(LSTM::from_config(config)?),
        "BatchNormalization" => Arc::new(BatchNormalization::from_config(config)?),
        "LayerNormalization" => Arc::new(LayerNormalization::from_config(config)?),
        "MultiHeadAttention" => {
            Arc::new(crate::attention::MultiHeadAttention::from_config(config)?)
        }
        "GlobalMaxPooling1D" => Arc::new(GlobalPooling::from_config(
            config,
            GlobalPoolingKind::Max,
            1,
        )?),
        "GlobalMaxPooling2D" => Arc::new(GlobalPooling::from_config(
            config,
            GlobalPoolingKind::Max,
            2,
        )?),
        "GlobalAveragePooling1D" => Arc::new(GlobalPooling::from_config(
            config,
            GlobalPoolingKind::Average,
            1,
        )?),
        "GlobalAveragePooling2D" => Arc::new(GlobalPooling::from_config(
            config,
            GlobalPoolingKind::Average,
            2,
        )?),
        "ZeroPadding1D" => Arc::new(ZeroPadding::from_config(config, 1)?),
        "ZeroPadding2D" => Arc::new(ZeroPadding::from_config(config, 2)?),
        "Cropping1D" => Arc::new(Cropping::from_config(config, 1)?),
        "Cropping2D" => Arc::new(Cropping::from_config(config, 2)?),
        "UpSampling1D" => Arc::new(UpSampling::from_config(config, 1)?),
        "UpSampling2D" => Arc::new(UpSampling::from_config(config, 2)?),
        "SpatialDropout1D" => Arc::new(SpatialDropout::from_config(config, 1)?),
        "SpatialDropout2D" => Arc::new(SpatialDropout::from_config(config, 2)?),
        "Rescaling" => Arc::new(Rescaling::from_config(config)?),
        "GRU" => Arc::new(GRU::from_config(config)?),
        "SimpleRNN" => Arc::new(SimpleRNN::from_config(config)?),
        "RepeatVector" => Arc::new(RepeatVector::from_config(config)?),
        "TimeDistributed" => Arc::new(TimeDistributed::from_config(config)?),
        "Bidirectional" => Arc::new(Bidirectional::from_config(config)?),
        "Conv1D" => Arc::new(Conv1D::from_config(config)?),
        "Conv2D" => Arc::new(Conv2D::from_config(config)?),
        "Conv2DTranspose" => Arc::new(Conv2DTranspose::from_config(config)?),
        "DepthwiseConv2D" => Arc::new(DepthwiseConv2D::from_config(config)?),
        "SeparableConv2D" => Arc::new(SeparableConv2D::from_config(config)?),
        "MaxPooling1D" => Arc::new(MaxPooling1D::from_config(config)?),
        "MaxPooling2D" => Arc::new(MaxPooling2D::from_config(config)?),
        "AveragePooling1D" => Arc::new(AveragePooling1D::from_config(config)?),
        "AveragePooling2D" => Arc::new(AveragePooling2D::from_config(config)?),
        "ReLU" => Arc::new(ReLU::from_config(config)?),
        "LeakyReLU" => Arc::new(LeakyReLU::from_config(config)?),
        "PReLU" => Arc::new(PReLU::from_config(config)?),
        "ELU" => Arc::new(ELU::from_config(config)?),
        "Softmax" => Arc::new(Softmax::from_config(config)?),
        other => {
            if let Some(factory) = crate::custom_registry::find(other, None) {
                return factory(config);
            }
            return Err(LayersError::UnknownName {
                kind: "layer class",
                name: other.to_string(),
                valid: SUPPORTED_LAYER_CLASSES
                    .iter()
                    .map(|c| c.to_string())
                    .chain(crate::custom_registry::registered_layer_names())
                    .collect(),
            });
        }
    })
}

/// Rebuilds a saved layer: a registered custom layer ([`crate::register_layer`]) by its `registered_name` or
/// class name first, then the built-in class.
pub fn layer_from_saved(
    class_name: &str,
    registered_name: Option<&str>,
    config: &Value,
) -> Result<LayerRef> {
    match crate::custom_registry::find(class_name, registered_name) {
        Some(factory) => factory(config),
        None => layer_from_config(class_name, config),
    }
}

/// An InputLayer from Keras 3's `batch_shape: [null, 68]` or Keras 2's `batch_input_shape`. A fixed batch
/// size is ignored; every other axis must have a fixed size.
pub fn input_layer_from_config(config: &Value) -> Result<InputLayer> {
    let reader = ConfigReader::new("InputLayer", config)?;
    let (key, batch_shape) = ["batch_shape", "batch_input_shape"]
        .into_iter()
        .find_map(|key| reader.get(key).map(|v| (key, v)))
        .ok_or_else(|| {
            LayersError::Config(format!(
                "InputLayer config: missing `batch_shape` in {config}"
            ))
        })?;
    let bad = || {
        LayersError::Config(format!(
            "InputLayer config: `{key}` must be a list [batch, sizes…] with fixed sizes after the batch axis \
             (rkeras has no variable-length inputs), received {batch_shape}"
        ))
    };
    let entries = batch_shape.as_array().ok_or_else(bad)?;
    let shape = entries
        .iter()
        .skip(1)
        .map(|v| {
            v.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(bad)
        })
        .collect::<Result<Vec<usize>>>()?;
    if entries.is_empty() {
        return Err(bad());
    }
    Ok(match reader.name()? {
        Some(name) => InputLayer::named(&shape, name),
        None => InputLayer::new(&shape),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Layer;
    use rkeras_tensor::Initializer;
    use serde_json::json;

    #[test]
    fn reads_keras_3_and_keras_2_input_layers() {
        let keras3 = json!({"batch_shape": [null, 68], "dtype": "float32", "sparse": false, "ragged": false,
            "name": "input_layer", "optional": false});
        let layer = input_layer_from_config(&keras3).unwrap();
        assert_eq!(
            (layer.shape(), layer.name()),
            (&[68usize][..], "input_layer")
        );
        let keras2 =
            json!({"batch_input_shape": [null, 4, 3], "dtype": "float32", "name": "question"});
        assert_eq!(input_layer_from_config(&keras2).unwrap().shape(), &[4, 3]);
        let ragged = json!({"batch_shape": [null, null, 8], "name": "seq"});
        assert!(
            input_layer_from_config(&ragged)
                .unwrap_err()
                .to_string()
                .contains("variable-length")
        );
        let rebuilt = layer_from_config("InputLayer", &layer.config()).unwrap();
        assert_eq!(rebuilt.config(), layer.config());
    }

    #[test]
    fn every_supported_class_round_trips() {
        let layers: Vec<LayerRef> = vec![
            Arc::new(InputLayer::named(&[68], "story")),
            Arc::new(Dense::new(22).with_activation("softmax").unwrap()),
            Arc::new(Embedding::new(22, 64)),
            Arc::new(Masking::new(-1.0)),
            Arc::new(Activation::new("tanh").unwrap()),
            Arc::new(Dropout::new(0.3)),
            Arc::new(Add::new()),
            Arc::new(Multiply::new()),
            Arc::new(Subtract::new()),
            Arc::new(Average::new()),
            Arc::new(Maximum::new()),
            Arc::new(Minimum::new()),
            Arc::new(Concatenate::new().with_axis(1)),
            Arc::new(Dot::new((2, 2))),
            Arc::new(Permute::new(&[2, 1])),
            Arc::new(Reshape::new(&[-1, 4])),
            Arc::new(Flatten::new()),
            Arc::new(
                LSTM::new(32)
                    .with_recurrent_activation("hard_sigmoid")
                    .unwrap(),
            ),
            Arc::new(BatchNormalization::new().with_momentum(0.9)),
            Arc::new(LayerNormalization::new().with_epsilon(1e-5)),
            Arc::new(crate::attention::MultiHeadAttention::new(2, 4).with_value_dim(3)),
            Arc::new(GlobalPooling::new(GlobalPoolingKind::Max, 1)),
            Arc::new(GlobalPooling::new(GlobalPoolingKind::Max, 2).with_keepdims(true)),
            Arc::new(GlobalPooling::new(GlobalPoolingKind::Average, 1)),
            Arc::new(GlobalPooling::new(GlobalPoolingKind::Average, 2)),
            Arc::new(ZeroPadding::one_d(1, 2)),
            Arc::new(ZeroPadding::two_d((1, 0), (2, 3))),
            Arc::new(Cropping::one_d(1, 2)),
            Arc::new(Cropping::two_d((1, 0), (2, 1))),
            Arc::new(UpSampling::one_d(3)),
            Arc::new(UpSampling::two_d(2, 3)),
            Arc::new(SpatialDropout::new(0.4, 1)),
            Arc::new(SpatialDropout::new(0.3, 2)),
            Arc::new(Rescaling::new(1.0 / 255.0, 0.0)),
            Arc::new(GRU::new(8).with_reset_after(false).with_go_backwards(true)),
            Arc::new(SimpleRNN::new(8).with_activation("relu").unwrap()),
            Arc::new(RepeatVector::new(3)),
            Arc::new(Conv1D::new(4, [3]).with_padding("causal").unwrap()),
            Arc::new(Conv2D::new(8, [3, 3]).with_groups(2)),
            Arc::new(
                Conv2DTranspose::new(4, [3, 3])
                    .with_strides([2, 2])
                    .with_output_padding([1, 0]),
            ),
            Arc::new(DepthwiseConv2D::new([3, 3]).with_depth_multiplier(2)),
            Arc::new(SeparableConv2D::new(8, [3, 3]).with_bias(false)),
            Arc::new(MaxPooling1D::new([2])),
            Arc::new(MaxPooling2D::new([2, 2]).with_strides([1, 1])),
            Arc::new(AveragePooling1D::new([3])),
            Arc::new(AveragePooling2D::new([2, 2]).with_padding("same").unwrap()),
            Arc::new(TimeDistributed::new(Dense::new(3))),
            Arc::new(Bidirectional::new(GRU::new(3)).unwrap()),
            Arc::new(ReLU::with_args(Some(6.0), 0.1, 0.5).unwrap()),
            Arc::new(LeakyReLU::new(0.3).unwrap()),
            Arc::new(
                PReLU::new()
                    .with_alpha_initializer(Initializer::Constant(0.25))
                    .with_shared_axes(&[1])
                    .unwrap(),
            ),
            Arc::new(ELU::new(0.7)),
            Arc::new(Softmax::new(1)),
            Arc::new(
                Attention::new()
                    .with_scale(true)
                    .with_score_mode(crate::attention::ScoreMode::Concat),
            ),
            Arc::new(AdditiveAttention::new().with_dropout(0.2)),
            Arc::new(
                EinsumDense::new("abc,cd->abd", &[None, Some(4)])
                    .unwrap()
                    .with_bias_axes("d"),
            ),
        ];
        let classes: Vec<&str> = layers.iter().map(|l| l.class_name()).collect();
        assert_eq!(classes, SUPPORTED_LAYER_CLASSES);
        for layer in layers {
            let config = layer.config();
            let rebuilt = layer_from_config(layer.class_name(), &config).unwrap();
            assert_eq!(
                (rebuilt.class_name(), rebuilt.name()),
                (layer.class_name(), layer.name())
            );
            assert_eq!(rebuilt.config(), config, "{}", layer.class_name());
        }
    }

    #[test]
    fn unknown_class_lists_the_supported_ones() {
        match layer_from_config("ConvLSTM2D", &json!({"units": 4})) {
            Err(LayersError::UnknownName { kind, name, valid }) => {
                assert_eq!((kind, name.as_str()), ("layer class", "ConvLSTM2D"));
                // The built-in classes, then any registered with `register_layer`.
                assert_eq!(
                    &valid[..SUPPORTED_LAYER_CLASSES.len()],
                    SUPPORTED_LAYER_CLASSES
                );
            }
            Err(other) => panic!("expected UnknownName, received {other}"),
            Ok(layer) => panic!("expected an error, received layer `{}`", layer.name()),
        }
    }

    #[test]
    fn config_name_becomes_the_layer_name() {
        for class in ["Add", "Multiply", "Flatten", "Concatenate"] {
            let layer =
                layer_from_config(class, &json!({"name": "loaded_layer", "trainable": true}))
                    .unwrap();
            assert_eq!((layer.name(), layer.class_name()), ("loaded_layer", class));
        }
    }

    #[test]
    fn keras_3_configs_of_the_memory_network_are_read() {
        let dtype = json!({"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": null});
        let cases = [
            (
                "Embedding",
                json!({"name": "embedding", "trainable": true, "dtype": dtype, "input_dim": 22,
                "output_dim": 64, "embeddings_initializer": {"module": "keras.initializers",
                "class_name": "RandomUniform", "config": {"seed": null, "minval": -0.05, "maxval": 0.05},
                "registered_name": null}, "embeddings_regularizer": null, "activity_regularizer": null,
                "embeddings_constraint": null, "mask_zero": false, "quantization_config": null}),
            ),
            (
                "Dropout",
                json!({"name": "dropout", "trainable": true, "dtype": dtype, "rate": 0.3, "seed": null,
                "noise_shape": null}),
            ),
            (
                "Dot",
                json!({"name": "dot", "trainable": true, "dtype": dtype, "axes": [2, 2], "normalize": false}),
            ),
            (
                "Activation",
                json!({"name": "activation", "trainable": true, "dtype": dtype, "activation": "softmax"}),
            ),
            (
                "Add",
                json!({"name": "add", "trainable": true, "dtype": dtype}),
            ),
            (
                "Permute",
                json!({"name": "permute", "trainable": true, "dtype": dtype, "dims": [2, 1]}),
            ),
            (
                "Concatenate",
                json!({"name": "concatenate", "trainable": true, "dtype": dtype, "axis": -1}),
            ),
            (
                "Dense",
                json!({"name": "dense", "trainable": true, "dtype": dtype, "units": 22, "activation": "linear",
                "use_bias": true, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                "config": {"seed": null}, "registered_name": null}, "bias_initializer": {"module": "keras.initializers",
                "class_name": "Zeros", "config": {}, "registered_name": null}, "kernel_regularizer": null,
                "bias_regularizer": null, "kernel_constraint": null, "bias_constraint": null,
                "quantization_config": null}),
            ),
        ];
        for (class, config) in cases {
            let layer = layer_from_config(class, &config).unwrap();
            assert_eq!(layer.name(), config["name"].as_str().unwrap());
            for (key, value) in layer.config().as_object().unwrap() {
                if key != "dtype" && config.get(key).is_some() && !key.ends_with("initializer") {
                    assert_eq!(&config[key], value, "{class}.{key}");
                }
            }
        }
    }
}
