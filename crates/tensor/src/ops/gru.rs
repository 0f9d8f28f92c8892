//! The GRU over a whole sequence as one differentiable op (forward and BPTT in [`crate::kernels::gru`]).

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::gru::{
    GruParams, gru_backward_parts, gru_forward_inference, gru_forward_masked,
};
use crate::kernels::lstm::GateActivation;
use crate::tensor::Tensor;
use ndarray::{ArrayView2, ArrayView3, Axis, Ix1, Ix2, Ix3};

const OP: &str = "gru";

/// Options of [`Tensor::gru`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GruConfig {
    /// Return every step's output (`[batch, time, units]`) instead of the last (`[batch, units]`).
    pub return_sequences: bool,
    /// The gates' activation: sigmoid (Keras 3) or Keras 2's hard sigmoid.
    pub recurrent_activation: GateActivation,
    /// Keras 3's default `true` (bias `(2, 3·units)`, reset gate applied after the recurrent product) or
    /// Keras 2's `false` (bias `(3·units)`).
    pub reset_after: bool,
}

impl Default for GruConfig {
    fn default() -> Self {
        GruConfig {
            return_sequences: false,
            recurrent_activation: GateActivation::Sigmoid,
            reset_after: true,
        }
    }
}

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
    config: GruConfig,
) -> Result<GruParams<'a>> {
    let (input_bias, recurrent_bias) = if config.reset_after {
        let rows: ArrayView2<f32> = view::<Ix2>(bias, "bias (2, 3·units) of reset_after")?;
        if rows.nrows() != 2 {
            return Err(TensorError::invalid_shape(
                OP,
                bias.shape(),
                "with reset_after the bias must have shape (2, 3·units)",
            ));
        }
        (
            rows.index_axis_move(Axis(0), 0),
            Some(rows.index_axis_move(Axis(0), 1)),
        )
    } else {
        (
            view::<Ix1>(bias, "bias (3·units) without reset_after")?,
            None,
        )
    };
    Ok(GruParams {
        kernel: view::<Ix2>(kernel, "kernel")?,
        recurrent_kernel: view::<Ix2>(recurrent, "recurrent_kernel")?,
        input_bias,
        recurrent_bias,
        recurrent_activation: config.recurrent_activation,
    })
}

impl Tensor {
    /// Runs a GRU with Keras's gate order (z, r, h) over `self` (`[batch, time, input_dim]`) from
    /// `initial_state` (`[batch, units]`, zeros when `None`), with `kernel` `[input_dim, 3·units]`,
    /// `recurrent_kernel` `[units, 3·units]` and `bias` `[2, 3·units]` (`reset_after`) or `[3·units]`.
    pub fn gru(
        &self,
        kernel: &Tensor,
        recurrent_kernel: &Tensor,
        bias: &Tensor,
        initial_state: Option<&Tensor>,
        config: GruConfig,
    ) -> Result<Tensor> {
        self.gru_masked(kernel, recurrent_kernel, bias, initial_state, None, config)
    }

    /// [`Tensor::gru`] with Keras's timestep mask (`[batch, time]`, 0 = skip the step: the state and output
    /// are carried through). The mask is a constant: no gradient reaches it.
    pub fn gru_masked(
        &self,
        kernel: &Tensor,
        recurrent_kernel: &Tensor,
        bias: &Tensor,
        initial_state: Option<&Tensor>,
        mask: Option<&Tensor>,
        config: GruConfig,
    ) -> Result<Tensor> {
        let x: ArrayView3<f32> = view::<Ix3>(self, "input")?;
        let mask_view = mask.map(|m| view::<Ix2>(m, "mask")).transpose()?;
        let p = params(kernel, recurrent_kernel, bias, config)?;
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
            return Ok(Tensor::new(gru_forward_inference(
                x,
                &p,
                h0,
                config.return_sequences,
            )?));
        }
        let (out, cache) = gru_forward_masked(x, &p, h0, mask_view, config.return_sequences)?;
        if !(needs && crate::backprop::is_grad_enabled()) {
            return Ok(Tensor::new(out));
        }
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("gru", inputs, move |ctx| {
                    let x: ArrayView3<f32> = view::<Ix3>(&ctx.inputs[0], "input")?;
                    let p = params(&ctx.inputs[1], &ctx.inputs[2], &ctx.inputs[3], config)?;
                    let h0 = ctx
                        .inputs
                        .get(4)
                        .map(|h| view::<Ix2>(h, "initial_state"))
                        .transpose()?;
                    // An input that needs no gradient (a model's first layer) skips its product.
                    let (d_x, grads) = gru_backward_parts(
                        x,
                        &p,
                        h0,
                        &cache,
                        ctx.grad.view(),
                        ctx.inputs[0].requires_grad(),
                    )?;
                    let bias = match grads.recurrent_bias {
                        Some(recurrent) => {
                            ndarray::stack(Axis(0), &[grads.input_bias.view(), recurrent.view()])
                                .map_err(|e| TensorError::Internal {
                                    op: OP,
                                    reason: e.to_string(),
                                })?
                                .into_dyn()
                        }
                        None => grads.input_bias.into_dyn(),
                    };
                    let mut out = vec![
                        d_x.map(|d| d.into_dyn()),
                        Some(grads.kernel.into_dyn()),
                        Some(grads.recurrent_kernel.into_dyn()),
                        Some(bias),
                    ];
                    out.extend(grads.initial_state.map(|h| Some(h.into_dyn())));
                    Ok(out)
                })
            },
            needs,
        ))
    }
}
