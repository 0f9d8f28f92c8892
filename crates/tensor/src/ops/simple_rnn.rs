//! The SimpleRNN over a whole sequence as one differentiable op (kernel in [`crate::kernels::simple_rnn`]).

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::simple_rnn::{
    RnnActivation, SimpleRnnParams, simple_rnn_backward, simple_rnn_forward_inference,
    simple_rnn_forward_masked,
};
use crate::tensor::Tensor;
use ndarray::{ArrayView3, Ix1, Ix2, Ix3};

const OP: &str = "simple_rnn";

fn view<'a, D: ndarray::Dimension>(
    t: &'a Tensor,
    what: &str,
) -> Result<ndarray::ArrayView<'a, f32, D>> {
    t.data().view().into_dimensionality::<D>().map_err(|_| {
        TensorError::invalid_shape(OP, t.shape(), format!("{what} has the wrong rank"))
    })
}

fn params<'a>(
    kernel: &'a Tensor,
    recurrent: &'a Tensor,
    bias: &'a Tensor,
    activation: RnnActivation,
) -> Result<SimpleRnnParams<'a>> {
    Ok(SimpleRnnParams {
        kernel: view::<Ix2>(kernel, "kernel")?,
        recurrent_kernel: view::<Ix2>(recurrent, "recurrent_kernel")?,
        bias: view::<Ix1>(bias, "bias")?,
        activation,
    })
}

impl Tensor {
    /// Runs a SimpleRNN over `self` (`[batch, time, input_dim]`) from `initial_state` (`[batch, units]`, zeros
    /// when `None`), with `kernel` `[input_dim, units]`, `recurrent_kernel` `[units, units]`, `bias` `[units]`;
    /// returns every step's state with `return_sequences`, else the last.
    pub fn simple_rnn(
        &self,
        kernel: &Tensor,
        recurrent_kernel: &Tensor,
        bias: &Tensor,
        initial_state: Option<&Tensor>,
        activation: RnnActivation,
        return_sequences: bool,
    ) -> Result<Tensor> {
        self.simple_rnn_masked(
            kernel,
            recurrent_kernel,
            bias,
            initial_state,
            None,
            activation,
            return_sequences,
        )
    }

    /// [`Tensor::simple_rnn`] with Keras's timestep mask (`[batch, time]`, 0 = skip the step: the state and
    /// output are carried through). The mask is a constant: no gradient reaches it.
    #[allow(clippy::too_many_arguments)]
    pub fn simple_rnn_masked(
        &self,
        kernel: &Tensor,
        recurrent_kernel: &Tensor,
        bias: &Tensor,
        initial_state: Option<&Tensor>,
        mask: Option<&Tensor>,
        activation: RnnActivation,
        return_sequences: bool,
    ) -> Result<Tensor> {
        let x: ArrayView3<f32> = view::<Ix3>(self, "input")?;
        let mask_view = mask.map(|m| view::<Ix2>(m, "mask")).transpose()?;
        let p = params(kernel, recurrent_kernel, bias, activation)?;
        let h0 = initial_state
            .map(|h| view::<Ix2>(h, "initial_state"))
            .transpose()?;
        let mut inputs = vec![
            self.clone(),
            kernel.clone(),
            recurrent_kernel.clone(),
            bias.clone(),
        ];
        inputs.extend(initial_state.cloned());
        let needs = inputs.iter().any(Tensor::requires_grad);
        if !(needs && crate::backprop::is_grad_enabled()) && mask.is_none() {
            return Ok(Tensor::new(simple_rnn_forward_inference(
                x,
                &p,
                h0,
                return_sequences,
            )?));
        }
        let (out, cache) = simple_rnn_forward_masked(x, &p, h0, mask_view, return_sequences)?;
        if !(needs && crate::backprop::is_grad_enabled()) {
            return Ok(Tensor::new(out));
        }
        Ok(Tensor::from_op(
            out,
            || {
                Node::new(OP, inputs, move |ctx| {
                    let x: ArrayView3<f32> = view::<Ix3>(&ctx.inputs[0], "input")?;
                    let p = params(&ctx.inputs[1], &ctx.inputs[2], &ctx.inputs[3], activation)?;
                    let h0 = ctx
                        .inputs
                        .get(4)
                        .map(|h| view::<Ix2>(h, "initial_state"))
                        .transpose()?;
                    let grads = simple_rnn_backward(x, &p, h0, &cache, ctx.grad.view())?;
                    let mut out = vec![
                        Some(grads.x.into_dyn()),
                        Some(grads.kernel.into_dyn()),
                        Some(grads.recurrent_kernel.into_dyn()),
                        Some(grads.bias.into_dyn()),
                    ];
                    out.extend(grads.initial_state.map(|h| Some(h.into_dyn())));
                    Ok(out)
                })
            },
            needs,
        ))
    }
}
