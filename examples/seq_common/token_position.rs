//! Keras's `TokenAndPositionEmbedding` (the text-classification-with-Transformer example's layer), written with
//! the public `Layer` API: `[batch, maxlen]` token ids → token embeddings plus a learned embedding of each
//! position, `[batch, maxlen, dim]`. Used by `custom_layer` (saved and loaded through `register_layer`) and
//! `transformer_classifier`.

use rkeras::layers::{
    CallContext, Layer, LayerCore, LayerRef, Shape, layer::expect_inputs,
    serialization::ConfigReader,
};
use rkeras::tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};
use std::sync::Arc;

/// Token embedding plus a learned embedding of each position: `[batch, maxlen]` ids → `[batch, maxlen, dim]`.
#[derive(Debug, Clone)]
pub struct TokenAndPositionEmbedding {
    core: LayerCore,
    maxlen: usize,
    vocab_size: usize,
    embed_dim: usize,
}

impl TokenAndPositionEmbedding {
    pub fn new(maxlen: usize, vocab_size: usize, embed_dim: usize) -> Self {
        TokenAndPositionEmbedding {
            core: LayerCore::new("token_and_position_embedding"),
            maxlen,
            vocab_size,
            embed_dim,
        }
    }

    /// Keras's `from_config`: the inverse of `config`.
    pub fn from_config(config: &Value) -> rkeras::layers::Result<LayerRef> {
        let reader = ConfigReader::new("TokenAndPositionEmbedding", config)?;
        let mut layer = Self::new(
            reader.usize("maxlen")?,
            reader.usize("vocab_size")?,
            reader.usize("embed_dim")?,
        );
        if let Some(name) = reader.name()? {
            layer.core = LayerCore::named(name);
        }
        Ok(Arc::new(layer))
    }
}

impl Layer for TokenAndPositionEmbedding {
    fn class_name(&self) -> &'static str {
        "TokenAndPositionEmbedding"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> rkeras::layers::Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        if input_shapes[0] != [self.maxlen] {
            return Err(rkeras::layers::layer::shape_error(
                self,
                format!("expected sequences of {} ids", self.maxlen),
                input_shapes,
            ));
        }
        Ok(vec![self.maxlen, self.embed_dim])
    }

    fn build(
        &self,
        input_shapes: &[Shape],
        rng: &mut rand::rngs::StdRng,
    ) -> rkeras::layers::Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        let uniform = Initializer::from_name("uniform").map_err(tensor_error)?;
        let tokens = uniform
            .sample(&[self.vocab_size, self.embed_dim], rng)
            .map_err(tensor_error)?;
        let positions = uniform
            .sample(&[self.maxlen, self.embed_dim], rng)
            .map_err(tensor_error)?;
        Ok(vec![
            Variable::new("token_embeddings", tokens),
            Variable::new("position_embeddings", positions),
        ])
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _ctx: &mut CallContext<'_>,
    ) -> rkeras::layers::Result<Tensor> {
        let tokens = self.core.weight(0)?.gather_rows(&inputs[0]);
        let positions = self.core.weight(1)?;
        tokens.and_then(|t| t.add(&positions)).map_err(tensor_error)
    }

    fn config(&self) -> Value {
        json!({"name": self.name(), "trainable": true, "dtype": "float32",
            "maxlen": self.maxlen, "vocab_size": self.vocab_size, "embed_dim": self.embed_dim})
    }

    fn registered_name(&self) -> Option<String> {
        Some("MyLayers>TokenAndPositionEmbedding".into())
    }
}

fn tensor_error(source: rkeras::tensor::TensorError) -> rkeras::layers::LayersError {
    rkeras::layers::LayersError::Tensor {
        layer: "token_and_position_embedding".into(),
        source,
    }
}
