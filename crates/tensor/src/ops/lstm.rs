//! The LSTM over a whole sequence as one differentiable op (forward and BPTT in [`crate::kernels::lstm`]).

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::lstm::{
    GateActivation, LstmParams, lstm_backward_parts, lstm_forward_inference, lstm_forward_masked,
};
use crate::tensor::Tensor;
use ndarray::{ArrayView1, ArrayView2, ArrayView3, Ix1, Ix2, Ix3};

/// Options of [`Tensor::lstm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmConfig {
    /// Return every step's output (`[batch, time, units]`) instead of the last (`[batch, units]`).
    pub return_sequences: bool,
    /// The gates' activation: sigmoid (Keras 3) or Keras 2's hard sigmoid.
    pub recurrent_activation: GateActivation,
}

impl Default for LstmConfig {
    fn default() -> Self {
        LstmConfig {
            return_sequences: false,
            recurrent_activation: GateActivation::Sigmoid,
        }
    }
}

fn view<'a, D: ndarray::Dimension>(
    t: &'a Tensor,
    what: &str,
) -> Result<ndarray::ArrayView<'a, f32, D>> {
    t.data().view().into_dimensionality::<D>().map_err(|_| {
        TensorError::invalid_shape("lstm", t.shape(), format!("{what} has the wrong rank"))
    })
}

fn params<'a>(
    kernel: &'a Tensor,
    recurrent: &'a Tensor,
    bias: &'a Tensor,
    act: GateActivation,
) -> Result<LstmParams<'a>> {
    let kernel: ArrayView2<f32> = view::<Ix2>(kernel, "kernel")?;
    let recurrent_kernel: ArrayView2<f32> = view::<Ix2>(recurrent, "recurrent_kernel")?;
    let bias: ArrayView1<f32> = view::<Ix1>(bias, "bias")?;
    Ok(LstmParams {
        kernel,
        recurrent_kernel,
        bias,
        recurrent_activation: act,
    })
}

impl Tensor {
    /// Runs an LSTM with Keras's gate order (i, f, c, o) over `self` (`[batch, time, input_dim]`), with
    /// `kernel` `[input_dim, 4·units]`, `recurrent_kernel` `[units, 4·units]` and `bias` `[4·units]`.
    pub fn lstm(
        &self,
        kernel: &Tensor,
        recurrent_kernel: &Tensor,
        bias: &Tensor,
        config: LstmConfig,
    ) -> Result<Tensor> {
        self.lstm_masked(kernel, recurrent_kernel, bias, None, config)
    }

    /// [`Tensor::lstm`] with Keras's timestep mask (`[batch, time]`, 0 = skip the step: the states and output
    /// are carried through). The mask is a constant: no gradient reaches it.
    pub fn lstm_masked(
        &self,
        kernel: &Tensor,
        recurrent_kernel: &Tensor,
        bias: &Tensor,
        mask: Option<&Tensor>,
        config: LstmConfig,
    ) -> Result<Tensor> {
        let x: ArrayView3<f32> = view::<Ix3>(self, "input")?;
        let mask_view = mask.map(|m| view::<Ix2>(m, "mask")).transpose()?;
        let p = params(kernel, recurrent_kernel, bias, config.recurrent_activation)?;
        let needs = self.requires_grad()
            || kernel.requires_grad()
            || recurrent_kernel.requires_grad()
            || bias.requires_grad();
        if !(needs && crate::backprop::is_grad_enabled()) && mask.is_none() {
            return Ok(Tensor::new(lstm_forward_inference(
                x,
                &p,
                config.return_sequences,
            )?));
        }
        let (out, cache) = lstm_forward_masked(x, &p, mask_view, config.return_sequences)?;
        if !(needs && crate::backprop::is_grad_enabled()) {
            return Ok(Tensor::new(out));
        }
        Ok(Tensor::from_op(
            out,
            || {
                Node::new(
                    "lstm",
                    vec![
                        self.clone(),
                        kernel.clone(),
                        recurrent_kernel.clone(),
                        bias.clone(),
                    ],
                    move |ctx| {
                        let x: ArrayView3<f32> = view::<Ix3>(&ctx.inputs[0], "input")?;
                        let p = params(
                            &ctx.inputs[1],
                            &ctx.inputs[2],
                            &ctx.inputs[3],
                            config.recurrent_activation,
                        )?;
                        // An input that needs no gradient (a model's first layer) skips its product.
                        let (d_x, grads) = lstm_backward_parts(
                            x,
                            &p,
                            &cache,
                            ctx.grad.view(),
                            ctx.inputs[0].requires_grad(),
                        )?;
                        Ok(vec![
                            d_x.map(|d| d.into_dyn()),
                            Some(grads.kernel.into_dyn()),
                            Some(grads.recurrent_kernel.into_dyn()),
                            Some(grads.bias.into_dyn()),
                        ])
                    },
                )
            },
            needs,
        ))
    }
}
