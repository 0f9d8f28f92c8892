//! Keras's `stateful=True`: the final states of a call are the initial states of the next, until
//! `reset_states()`.

use crate::error::{LayersError, Result};
use rkeras_tensor::Tensor;
use std::sync::{Arc, Mutex, MutexGuard};

/// The states a stateful layer carries from call to call; clones of a layer share them (as they share weights).
#[derive(Debug, Clone, Default)]
pub(crate) struct CarriedStates(Arc<Mutex<Option<Vec<Tensor>>>>);

impl CarriedStates {
    fn lock(&self) -> MutexGuard<'_, Option<Vec<Tensor>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets the states: the next call starts from zeros (Keras's `reset_states`).
    pub fn reset(&self) {
        *self.lock() = None;
    }

    /// Runs a stateful call: `run` gets the sequence and the initial states (the given ones, else the carried
    /// ones, else none) and returns `[output, *final states]`; the final states are kept, cut from the graph,
    /// for the next call. Returns the output, and the states too with `return_state`. A batch of another size
    /// than the carried states' is an error, as in Keras.
    pub fn run(
        &self,
        layer: &str,
        inputs: &[Tensor],
        return_state: bool,
        run: impl FnOnce(&[Tensor]) -> Result<Vec<Tensor>>,
    ) -> Result<Vec<Tensor>> {
        let mut carried = self.lock();
        let outputs = match (inputs, carried.as_ref()) {
            ([x], Some(states)) => {
                let batch = x.shape().first().copied().unwrap_or(0);
                let expected = states
                    .first()
                    .and_then(|s| s.shape().first())
                    .copied()
                    .unwrap_or(batch);
                if batch != expected {
                    return Err(LayersError::Graph(format!(
                        "layer `{layer}` is stateful: every batch must have the batch size of the states it carries ({expected}), received {batch} (call reset_states() first to start over)"
                    )));
                }
                let with_states: Vec<Tensor> = std::iter::once(x.clone())
                    .chain(states.iter().cloned())
                    .collect();
                run(&with_states)?
            }
            _ => run(inputs)?,
        };
        *carried = Some(outputs.iter().skip(1).map(Tensor::detach).collect());
        Ok(if return_state {
            outputs
        } else {
            outputs.into_iter().take(1).collect()
        })
    }
}
