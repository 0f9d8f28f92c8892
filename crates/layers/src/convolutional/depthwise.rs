//! What DepthwiseConv2D and SeparableConv2D share: the depthwise step, run as `conv2d` with one group per input
//! channel and the kernel `[kh, kw, c, m]` read as `[kh, kw, 1, c·m]` (output channel `c·m + j` is input
//! channel `c` through its `j`-th filter, as Keras orders them).

use super::base::ConvBase;
use super::window::as_2d;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{Layer, Shape, expect_inputs, shape_error};
use rkeras_tensor::Tensor;
use rkeras_tensor::kernels::Conv2dGeometry;
use rkeras_tensor::ops::Conv2dOptions;

/// Checks `depth_multiplier` and the shared options, echoing the bad value; strides and dilation_rate above 1
/// together are accepted, as Keras's depthwise convolutions accept them.
pub(crate) fn validate(base: &ConvBase, depth_multiplier: usize) -> Result<()> {
    if depth_multiplier == 0 {
        return Err(LayersError::InvalidArgument {
            class: base.class,
            argument: "depth_multiplier",
            reason: "expected a positive integer, received 0".into(),
        });
    }
    base.validate_shared()
}

fn options(base: &ConvBase, channels: usize) -> Conv2dOptions {
    Conv2dOptions {
        strides: as_2d(&base.strides, 1),
        dilation: as_2d(&base.dilation_rate, 1),
        padding: base.padding,
        groups: channels,
    }
}

/// The depthwise kernel's shape `[kh, kw, channels, depth_multiplier]`.
pub(crate) fn kernel_shape(
    base: &ConvBase,
    channels: usize,
    depth_multiplier: usize,
) -> Vec<usize> {
    let mut shape = base.kernel_size.clone();
    shape.extend([channels, depth_multiplier]);
    shape
}

/// The depthwise step's output shape `[out_h, out_w, channels · depth_multiplier]` for an input `[h, w, c]`,
/// checked against an already built kernel (`built`).
pub(crate) fn output_shape(
    base: &ConvBase,
    layer: &dyn Layer,
    input_shapes: &[Shape],
    depth_multiplier: usize,
    built: Option<&[usize]>,
) -> Result<Shape> {
    expect_inputs(layer, input_shapes, 1)?;
    validate(base, depth_multiplier)?;
    let &[h, w, c] = input_shapes[0].as_slice() else {
        return Err(shape_error(
            layer,
            "expected 3 axes (height, width, channels) after the batch axis",
            input_shapes,
        ));
    };
    if let Some(kernel) = built {
        if kernel != kernel_shape(base, c, depth_multiplier).as_slice() {
            return Err(shape_error(
                layer,
                format!("the kernel {kernel:?} was built for other input channels"),
                input_shapes,
            ));
        }
    }
    let [kh, kw] = as_2d(&base.kernel_size, 1);
    let o = options(base, c);
    let g = Conv2dGeometry::conv(
        &[1, h, w, c],
        &[kh, kw, 1, c * depth_multiplier],
        o.strides,
        o.dilation,
        o.padding,
        c,
    )
    .map_err(|e| shape_error(layer, e.to_string(), input_shapes))?;
    Ok(vec![g.out_h, g.out_w, c * depth_multiplier])
}

/// The depthwise convolution of `x: [n, h, w, c]` by `kernel: [kh, kw, c, m]`, plus `bias: [c·m]` when given.
pub(crate) fn forward(
    base: &ConvBase,
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    let name = base.core.name();
    let &[kh, kw, c, m] = kernel.shape() else {
        return Err(LayersError::Graph(format!(
            "layer `{name}`: the depthwise kernel {:?} is not [kh, kw, channels, depth_multiplier]",
            kernel.shape()
        )));
    };
    kernel
        .reshape(&[kh, kw, 1, c * m])
        .and_then(|k| x.conv2d(&k, bias, options(base, c)))
        .in_layer(name)
}
