//! `Sequential`: a stack of single-input layers, built with `add`.

use crate::error::{EngineError, Result};
use crate::model::Model;
use rkeras_layers::{Input, LayerCall, SymbolicTensor};

/// Keras's `Sequential`: `Sequential::new(&[20]).add(Dense::new(64))?…` then `build()` into a [`Model`].
///
/// ```
/// use rkeras_engine::Sequential;
/// use rkeras_layers::Dense;
/// let model = Sequential::new(&[4]).add(Dense::new(8).with_activation("relu")?)?.add(Dense::new(3))?.build()?;
/// assert_eq!(model.count_params(), 4 * 8 + 8 + 8 * 3 + 3);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub struct Sequential {
    input: SymbolicTensor,
    output: SymbolicTensor,
}

impl Sequential {
    /// A stack whose input has `input_shape` (batch axis excluded).
    pub fn new(input_shape: &[usize]) -> Self {
        let input = Input::new(input_shape);
        Sequential {
            output: input.clone(),
            input,
        }
    }

    /// Adds a layer on top (Keras's `model.add`); its shape is checked now.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl LayerCall) -> Result<Self> {
        self.output = layer.call(&self.output)?;
        Ok(self)
    }

    /// The model.
    pub fn build(self) -> Result<Model> {
        if self.input.layer().core().id() == self.output.layer().core().id() {
            return Err(EngineError::invalid(
                "layers",
                "a Sequential model needs at least one layer",
            ));
        }
        let network =
            rkeras_layers::Network::new(&[self.input], &[self.output])?.into_sequential()?;
        Ok(Model::from_network(network).with_name("sequential"))
    }
}
