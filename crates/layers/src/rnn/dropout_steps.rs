//! The recurrent layers step by step with dropout masks on `h_{t-1}` (Keras's implementation 1 of `LSTMCell` and
//! `GRUCell`, and `SimpleRNNCell`), built from the tensor crate's differentiable ops: the path a call takes in
//! training with `recurrent_dropout`, which the fused kernels do not carry. Without masks it computes what the
//! fused kernels compute.

use super::dropout::DropoutMasks;
use super::lstm_steps::gate;
use rkeras_tensor::kernels::lstm::GateActivation;
use rkeras_tensor::kernels::simple_rnn::RnnActivation;
use rkeras_tensor::{Result, Tensor, TensorError};

/// The cell a run computes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StepCell {
    /// `h = activation(x·W + (h ⊙ m)·U + b)`.
    Simple(RnnActivation),
    /// Gates (i, f, c, o), each with its own masks.
    Lstm(GateActivation),
    /// Gates (z, r, h), each with its own masks; bias `[2, 3·units]` with `reset_after`, else `[3·units]`.
    Gru {
        recurrent_activation: GateActivation,
        reset_after: bool,
    },
}

impl StepCell {
    fn gates(self) -> usize {
        match self {
            StepCell::Simple(_) => 1,
            StepCell::Lstm(_) => 4,
            StepCell::Gru { .. } => 3,
        }
    }
}

/// The weights, masks and options of one run.
pub(crate) struct DropoutSteps<'a> {
    pub cell: StepCell,
    /// `[input_dim, gates·units]`.
    pub kernel: &'a Tensor,
    /// `[units, gates·units]`.
    pub recurrent_kernel: &'a Tensor,
    /// The bias (zeros when the layer has none).
    pub bias: &'a Tensor,
    /// The call's dropout masks: none, one shared, or one per gate.
    pub masks: &'a DropoutMasks,
    /// Keras's timestep mask `[batch, time]` in processing order: a 0 step carries the states through.
    pub step_mask: Option<&'a Tensor>,
    /// Every step's output instead of the last.
    pub return_sequences: bool,
}

/// What one run returns: the output and the final states (`[h]`, or `[h, c]` for the LSTM).
pub(crate) struct StepsRun {
    pub output: Tensor,
    pub states: Vec<Tensor>,
}

/// The mask of gate `g` among `masks` (none, one shared, or one per gate).
fn mask_of(masks: &[Tensor], g: usize) -> Option<&Tensor> {
    masks.get(if masks.len() == 1 { 0 } else { g })
}

/// `(v ⊙ m_g)·w_g` for gates `first..first + count` side by side, `w` holding `units` columns per gate; one
/// product when no mask differs between the gates.
fn gate_products(
    v: &Tensor,
    w: &Tensor,
    masks: &[Tensor],
    first: usize,
    count: usize,
    units: usize,
) -> Result<Tensor> {
    let columns = |first: usize, count: usize| -> Result<Tensor> {
        if first == 0 && count * units == w.shape()[1] {
            Ok(w.clone())
        } else {
            w.narrow(1, first * units, count * units)
        }
    };
    if masks.len() <= 1 {
        let v = match masks.first() {
            Some(m) => v.mul(m)?,
            None => v.clone(),
        };
        return v.matmul(&columns(first, count)?);
    }
    let blocks = (first..first + count)
        .map(|g| {
            let v = match mask_of(masks, g) {
                Some(m) => v.mul(m)?,
                None => v.clone(),
            };
            v.matmul(&columns(g, 1)?)
        })
        .collect::<Result<Vec<_>>>()?;
    Tensor::concat(&blocks, -1)
}

fn activate(activation: RnnActivation, z: &Tensor) -> Result<Tensor> {
    match activation {
        RnnActivation::Tanh => z.tanh(),
        RnnActivation::Relu => z.relu(),
        RnnActivation::Sigmoid => z.sigmoid(),
        RnnActivation::Linear => Ok(z.clone()),
    }
}

impl DropoutSteps<'_> {
    /// Runs over `x` (`[batch, time, input_dim]`, already in processing order) from `initial` (`[batch, units]`
    /// each; zeros when empty).
    pub fn run(&self, x: &Tensor, initial: &[Tensor]) -> Result<StepsRun> {
        let &[batch, time, features] = x.shape() else {
            return Err(TensorError::invalid_shape(
                "recurrent steps",
                x.shape(),
                "expected an input of rank 3 [batch, time, features]",
            ));
        };
        let units = self.recurrent_kernel.shape().first().copied().unwrap_or(0);
        let gates = self.cell.gates();
        let state_count = if matches!(self.cell, StepCell::Lstm(_)) {
            2
        } else {
            1
        };
        let mut states: Vec<Tensor> = (0..state_count)
            .map(|k| {
                initial
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| Tensor::zeros(&[batch, units]))
            })
            .collect();
        let (input_bias, recurrent_bias) = match self.cell {
            StepCell::Gru {
                reset_after: true, ..
            } => (
                self.bias.narrow(0, 0, 1)?.reshape(&[gates * units])?,
                Some(self.bias.narrow(0, 1, 1)?.reshape(&[gates * units])?),
            ),
            _ => (self.bias.clone(), None),
        };
        // Every step's input projection at once, each gate's block from its own masked input.
        let input_masks: Vec<Tensor> = self
            .masks
            .input
            .iter()
            .map(|m| m.reshape(&[batch, 1, features]))
            .collect::<Result<_>>()?;
        let projected =
            gate_products(x, self.kernel, &input_masks, 0, gates, units)?.add(&input_bias)?;
        let mut outputs = Vec::with_capacity(if self.return_sequences { time } else { 0 });
        for t in 0..time {
            let xt = projected
                .narrow(1, t, 1)?
                .reshape(&[batch, gates * units])?;
            let next = self.step(&xt, &states, recurrent_bias.as_ref(), units)?;
            states = match self.step_mask {
                None => next,
                Some(mask) => {
                    let keep = mask.narrow(1, t, 1)?;
                    let skip = keep.rsub_scalar(1.0)?;
                    next.iter()
                        .zip(&states)
                        .map(|(new, old)| new.mul(&keep)?.add(&old.mul(&skip)?))
                        .collect::<Result<_>>()?
                }
            };
            if self.return_sequences {
                outputs.push(states[0].clone());
            }
        }
        let output = if !self.return_sequences {
            states[0].clone()
        } else if outputs.is_empty() {
            Tensor::zeros(&[batch, 0, units])
        } else {
            Tensor::stack(&outputs, 1)?
        };
        Ok(StepsRun { output, states })
    }

    /// One step from the step's projected input `xt` (`[batch, gates·units]`, bias included).
    fn step(
        &self,
        xt: &Tensor,
        states: &[Tensor],
        recurrent_bias: Option<&Tensor>,
        units: usize,
    ) -> Result<Vec<Tensor>> {
        let h = &states[0];
        let u = self.recurrent_kernel;
        let masks = &self.masks.recurrent;
        let part = |z: &Tensor, g: usize| z.narrow(-1, g * units, units);
        match self.cell {
            StepCell::Simple(activation) => {
                let z = xt.add(&gate_products(h, u, masks, 0, 1, units)?)?;
                Ok(vec![activate(activation, &z)?])
            }
            StepCell::Lstm(activation) => {
                let z = xt.add(&gate_products(h, u, masks, 0, 4, units)?)?;
                let i = gate(activation, &part(&z, 0)?)?;
                let f = gate(activation, &part(&z, 1)?)?;
                let candidate = part(&z, 2)?.tanh()?;
                let o = gate(activation, &part(&z, 3)?)?;
                let c = f.mul(&states[1])?.add(&i.mul(&candidate)?)?;
                Ok(vec![o.mul(&c.tanh()?)?, c])
            }
            StepCell::Gru {
                recurrent_activation: activation,
                reset_after,
            } => {
                let inner = gate_products(h, u, masks, 0, if reset_after { 3 } else { 2 }, units)?;
                let inner = match recurrent_bias {
                    Some(b) => inner.add(b)?,
                    None => inner,
                };
                let z = gate(activation, &part(xt, 0)?.add(&part(&inner, 0)?)?)?;
                let r = gate(activation, &part(xt, 1)?.add(&part(&inner, 1)?)?)?;
                let recurrent_h = if reset_after {
                    r.mul(&part(&inner, 2)?)?
                } else {
                    let h_h = match mask_of(masks, 2) {
                        Some(m) => h.mul(m)?,
                        None => h.clone(),
                    };
                    r.mul(&h_h)?.matmul(&u.narrow(1, 2 * units, units)?)?
                };
                let candidate = part(xt, 2)?.add(&recurrent_h)?.tanh()?;
                let keep = z.mul(h)?;
                Ok(vec![keep.add(&z.rsub_scalar(1.0)?.mul(&candidate)?)?])
            }
        }
    }
}
