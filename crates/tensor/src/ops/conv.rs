//! Convolution and pooling over channels-last images: `conv2d` (with groups, strides, dilation, padding and a
//! fused bias), `max_pool2d` and `avg_pool2d`, on the kernels of [`crate::kernels::conv2d_forward`] & co.

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::{self, Conv2dGeometry, ConvPadding, Parallelism};
use crate::tensor::Tensor;
use ndarray::{ArrayD, CowArray, IxDyn};

/// Strides, dilation, padding and groups of a 2-D convolution. Defaults to stride 1, dilation 1, `valid`
/// padding and one group (Keras's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dOptions {
    /// Vertical and horizontal strides.
    pub strides: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// How the input is padded.
    pub padding: ConvPadding,
    /// Channel groups: input and output channels are split into this many independent convolutions.
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            strides: [1, 1],
            dilation: [1, 1],
            padding: ConvPadding::Valid,
            groups: 1,
        }
    }
}

/// The values of `array` as a contiguous row-major slice (a copy only when they are not already).
fn contiguous(array: &ArrayD<f32>) -> CowArray<'_, f32, IxDyn> {
    array.as_standard_layout()
}

fn slice<'a>(array: &'a CowArray<'_, f32, IxDyn>, op: &'static str) -> Result<&'a [f32]> {
    array.as_slice().ok_or_else(|| TensorError::Internal {
        op,
        reason: "standard layout is not contiguous".into(),
    })
}

fn array(shape: &[usize], values: Vec<f32>, op: &'static str) -> Result<ArrayD<f32>> {
    ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| TensorError::Internal {
        op,
        reason: "output shape".into(),
    })
}

impl Tensor {
    /// 2-D convolution of a channels-last batch `self: [n, h, w, c]` with `kernel: [kh, kw, c / groups,
    /// filters]`, plus `bias: [filters]` when given; the output is `[n, out_h, out_w, filters]`.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, ops::Conv2dOptions};
    /// let x = Tensor::from_vec(&[1, 2, 3, 1], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
    /// let k = Tensor::from_vec(&[1, 2, 1, 1], vec![1.0, -1.0])?; // x[i, j] − x[i, j+1]
    /// let y = x.conv2d(&k, Some(&Tensor::from_vec(&[1], vec![0.5])?), Conv2dOptions::default())?;
    /// assert_eq!((y.shape(), y.to_vec()), (&[1, 2, 2, 1][..], vec![-0.5; 4]));
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn conv2d(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: Conv2dOptions,
    ) -> Result<Tensor> {
        let g = Conv2dGeometry::conv(
            self.shape(),
            kernel.shape(),
            options.strides,
            options.dilation,
            options.padding,
            options.groups,
        )?;
        if let Some(b) = bias {
            if b.shape() != [g.out_c] {
                return Err(TensorError::shape_mismatch(
                    "conv2d",
                    kernel.shape(),
                    b.shape(),
                ));
            }
        }
        let par = Parallelism::auto(g.flops());
        let (x, k) = (contiguous(self.data()), contiguous(kernel.data()));
        let b = bias.map(|b| contiguous(b.data()));
        let shape = g.output_shape();
        let mut out = crate::buffer_pool::take(shape.iter().product());
        kernels::conv2d_forward(
            slice(&x, "conv2d")?,
            slice(&k, "conv2d")?,
            b.as_ref().map(|b| slice(b, "conv2d")).transpose()?,
            &mut out,
            &g,
            par,
        )?;
        let out = array(&shape, out, "conv2d")?;
        let mut inputs = vec![self.clone(), kernel.clone()];
        inputs.extend(bias.cloned());
        let needs = inputs.iter().any(Tensor::requires_grad);
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("conv2d", inputs, move |ctx| {
                    let wants = |i: usize| ctx.inputs.get(i).is_some_and(Tensor::requires_grad);
                    let (x, k) = (
                        contiguous(ctx.inputs[0].data()),
                        contiguous(ctx.inputs[1].data()),
                    );
                    let dy = contiguous(ctx.grad);
                    let mut dx = wants(0).then(|| crate::buffer_pool::take(x.len()));
                    let mut dk = wants(1).then(|| crate::buffer_pool::take(k.len()));
                    let mut db = wants(2).then(|| vec![0.0; g.out_c]);
                    kernels::conv2d_backward(
                        slice(&x, "conv2d")?,
                        slice(&k, "conv2d")?,
                        slice(&dy, "conv2d")?,
                        kernels::Conv2dGrads {
                            input: dx.as_deref_mut(),
                            kernel: dk.as_deref_mut(),
                            bias: db.as_deref_mut(),
                        },
                        &g,
                        par,
                    )?;
                    let mut grads = vec![
                        dx.map(|v| array(x.shape(), v, "conv2d")).transpose()?,
                        dk.map(|v| array(k.shape(), v, "conv2d")).transpose()?,
                    ];
                    if ctx.inputs.len() == 3 {
                        grads.push(db.map(|v| array(&[g.out_c], v, "conv2d")).transpose()?);
                    }
                    Ok(grads)
                })
            },
            needs,
        ))
    }

    /// Max pooling of a channels-last batch `[n, h, w, c]` over `pool` windows moved by `strides`.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, kernels::ConvPadding};
    /// let x = Tensor::from_vec(&[1, 2, 2, 1], vec![1.0, 4.0, 3.0, 2.0])?;
    /// assert_eq!(x.max_pool2d([2, 2], [2, 2], ConvPadding::Valid)?.to_vec(), vec![4.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn max_pool2d(
        &self,
        pool: [usize; 2],
        strides: [usize; 2],
        padding: ConvPadding,
    ) -> Result<Tensor> {
        let g = Conv2dGeometry::pool(self.shape(), pool, strides, padding)?;
        let x = contiguous(self.data());
        let shape = g.output_shape();
        let len = shape.iter().product();
        let mut out = crate::buffer_pool::take(len);
        let mut argmax = vec![usize::MAX; len];
        let par = Parallelism::auto_elements(x.len());
        kernels::max_pool2d_forward(slice(&x, "max_pool2d")?, &mut out, &mut argmax, &g, par)?;
        Ok(Tensor::from_op(
            array(&shape, out, "max_pool2d")?,
            || {
                Node::new("max_pool2d", vec![self.clone()], move |ctx| {
                    let dy = contiguous(ctx.grad);
                    let mut dx = crate::buffer_pool::take(ctx.inputs[0].len());
                    kernels::max_pool2d_backward(slice(&dy, "max_pool2d")?, &argmax, &mut dx, &g)?;
                    Ok(vec![Some(array(ctx.inputs[0].shape(), dx, "max_pool2d")?)])
                })
            },
            self.requires_grad(),
        ))
    }

    /// Average pooling of a channels-last batch `[n, h, w, c]`; windows that overhang `same` padding average
    /// only the positions inside the input.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, kernels::ConvPadding};
    /// let x = Tensor::from_vec(&[1, 1, 3, 1], vec![1.0, 2.0, 6.0])?;
    /// assert_eq!(x.avg_pool2d([1, 2], [1, 2], ConvPadding::Same)?.to_vec(), vec![1.5, 6.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn avg_pool2d(
        &self,
        pool: [usize; 2],
        strides: [usize; 2],
        padding: ConvPadding,
    ) -> Result<Tensor> {
        let g = Conv2dGeometry::pool(self.shape(), pool, strides, padding)?;
        let x = contiguous(self.data());
        let shape = g.output_shape();
        let mut out = crate::buffer_pool::take(shape.iter().product());
        let par = Parallelism::auto_elements(x.len());
        kernels::avg_pool2d_forward(slice(&x, "avg_pool2d")?, &mut out, &g, par)?;
        Ok(Tensor::from_op(
            array(&shape, out, "avg_pool2d")?,
            || {
                Node::new("avg_pool2d", vec![self.clone()], move |ctx| {
                    let dy = contiguous(ctx.grad);
                    let mut dx = crate::buffer_pool::take(ctx.inputs[0].len());
                    kernels::avg_pool2d_backward(slice(&dy, "avg_pool2d")?, &mut dx, &g, par)?;
                    Ok(vec![Some(array(ctx.inputs[0].shape(), dx, "avg_pool2d")?)])
                })
            },
            self.requires_grad(),
        ))
    }
}
