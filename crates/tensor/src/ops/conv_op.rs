//! What `conv2d` and `conv2d_transpose` share: the bias check, the forward call into pooled memory and the
//! graph node whose backward fills the input, kernel and bias gradients the inputs ask for.

use crate::backprop::{BackwardCtx, Node};
use crate::error::{Result, TensorError};
use crate::kernels::{Conv2dGeometry, Conv2dGrads, Parallelism};
use crate::tensor::Tensor;
use ndarray::{ArrayD, CowArray, IxDyn};

/// A forward kernel: `(input, kernel, bias, out, geometry, parallelism)`.
type ForwardKernel =
    fn(&[f32], &[f32], Option<&[f32]>, &mut [f32], &Conv2dGeometry, Parallelism) -> Result<()>;

/// A backward kernel: `(input, kernel, grad_out, grads, geometry, parallelism)`.
type BackwardKernel =
    fn(&[f32], &[f32], &[f32], Conv2dGrads<'_>, &Conv2dGeometry, Parallelism) -> Result<()>;

/// The backward kernel of a forward pass that ends with ReLU: `(input, kernel, grad_out, output, grads,
/// geometry, parallelism)`, masking `grad_out` by ReLU's gradient itself.
type BackwardReluKernel =
    fn(&[f32], &[f32], &[f32], &[f32], Conv2dGrads<'_>, &Conv2dGeometry, Parallelism) -> Result<()>;

/// One convolution-like op: its name, kernels, output shape and bias length.
pub(super) struct ConvOp {
    /// The op's name in errors and the graph.
    pub name: &'static str,
    /// The forward kernel.
    pub forward: ForwardKernel,
    /// The backward kernel.
    pub backward: BackwardKernel,
    /// The geometry both kernels run on.
    pub geometry: Conv2dGeometry,
    /// The output's shape.
    pub output_shape: [usize; 4],
    /// The bias length (the output channels).
    pub bias_len: usize,
    /// When `forward` ends with a ReLU, the backward kernel that masks the output gradient where the output
    /// is not positive, as ReLU's own gradient does (used instead of `backward`).
    pub relu_backward: Option<BackwardReluKernel>,
}

/// The values of `array` as a contiguous row-major array (a copy only when they are not already).
pub(super) fn contiguous(array: &ArrayD<f32>) -> CowArray<'_, f32, IxDyn> {
    array.as_standard_layout()
}

/// The slice of a contiguous array.
pub(super) fn slice<'a>(
    array: &'a CowArray<'_, f32, IxDyn>,
    op: &'static str,
) -> Result<&'a [f32]> {
    array.as_slice().ok_or_else(|| TensorError::Internal {
        op,
        reason: "standard layout is not contiguous".into(),
    })
}

/// An array of `shape` over `values`.
pub(super) fn array(shape: &[usize], values: Vec<f32>, op: &'static str) -> Result<ArrayD<f32>> {
    ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| TensorError::Internal {
        op,
        reason: "output shape".into(),
    })
}

/// The input, kernel and (when the node has one) bias gradients of a convolution-like node, each computed only
/// when its input requires it, by `fill(input, kernel, grad_out, grads)`.
pub(super) fn conv_gradients(
    ctx: &BackwardCtx<'_>,
    bias_len: usize,
    name: &'static str,
    fill: impl FnOnce(&[f32], &[f32], &[f32], Conv2dGrads<'_>) -> Result<()>,
) -> Result<Vec<Option<ArrayD<f32>>>> {
    let wants = |i: usize| ctx.inputs.get(i).is_some_and(Tensor::requires_grad);
    let (x, k) = (
        contiguous(ctx.inputs[0].data()),
        contiguous(ctx.inputs[1].data()),
    );
    let dy = contiguous(ctx.grad);
    let mut dx = wants(0).then(|| crate::buffer_pool::take(x.len()));
    let mut dk = wants(1).then(|| crate::buffer_pool::take(k.len()));
    let mut db = wants(2).then(|| vec![0.0; bias_len]);
    let grads = Conv2dGrads {
        input: dx.as_deref_mut(),
        kernel: dk.as_deref_mut(),
        bias: db.as_deref_mut(),
    };
    fill(slice(&x, name)?, slice(&k, name)?, slice(&dy, name)?, grads)?;
    let mut grads = vec![
        dx.map(|v| array(x.shape(), v, name)).transpose()?,
        dk.map(|v| array(k.shape(), v, name)).transpose()?,
    ];
    if ctx.inputs.len() == 3 {
        grads.push(db.map(|v| array(&[bias_len], v, name)).transpose()?);
    }
    Ok(grads)
}

impl ConvOp {
    /// Runs the op on `input`, `kernel` and an optional `bias`, recording the backward when any needs it.
    pub(super) fn run(
        self,
        input: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        let ConvOp {
            name,
            forward,
            backward,
            geometry: g,
            output_shape,
            bias_len,
            relu_backward,
        } = self;
        if let Some(b) = bias {
            if b.shape() != [bias_len] {
                return Err(TensorError::shape_mismatch(name, kernel.shape(), b.shape()));
            }
        }
        let par = Parallelism::auto(g.flops());
        let (x, k) = (contiguous(input.data()), contiguous(kernel.data()));
        let b = bias.map(|b| contiguous(b.data()));
        let mut out = crate::buffer_pool::take(output_shape.iter().product());
        forward(
            slice(&x, name)?,
            slice(&k, name)?,
            b.as_ref().map(|b| slice(b, name)).transpose()?,
            &mut out,
            &g,
            par,
        )?;
        let out = array(&output_shape, out, name)?;
        let mut inputs = vec![input.clone(), kernel.clone()];
        inputs.extend(bias.cloned());
        let needs = inputs.iter().any(Tensor::requires_grad);
        Ok(Tensor::from_op(
            out,
            || {
                Node::new(name, inputs, move |ctx| {
                    conv_gradients(
                        ctx,
                        bias_len,
                        name,
                        |xs, ks, dys, grads| match relu_backward {
                            Some(relu_backward) => {
                                let y = contiguous(ctx.output);
                                relu_backward(xs, ks, dys, slice(&y, name)?, grads, &g, par)
                            }
                            None => backward(xs, ks, dys, grads, &g, par),
                        },
                    )
                })
            },
            needs,
        ))
    }
}
