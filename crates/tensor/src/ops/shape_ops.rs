//! Shape ops: reshape, permute, transpose, narrow (slice), concat and stack.

use super::normalize_axis;
use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, IxDyn, Slice};

fn reshaped(array: &ArrayD<f32>, shape: &[usize], op: &'static str) -> Result<ArrayD<f32>> {
    let reshaped = array
        .to_shape((IxDyn(shape), ndarray::Order::RowMajor))
        .map_err(|_| TensorError::shape_mismatch(op, array.shape(), shape))?;
    Ok(if reshaped.is_view() {
        crate::pooled::to_owned(&reshaped)
    } else {
        reshaped.into_owned()
    })
}

/// `array` in `shape`, reusing its buffer when it is row-major (a gradient flowing back through a reshape).
fn reshaped_owned(array: ArrayD<f32>, shape: &[usize], op: &'static str) -> Result<ArrayD<f32>> {
    if !array.is_standard_layout() {
        return reshaped(&array, shape, op);
    }
    let from = array.shape().to_vec();
    array
        .into_shape_with_order(IxDyn(shape))
        .map_err(|_| TensorError::shape_mismatch(op, &from, shape))
}

/// `array` with its axes reordered, in row-major layout. Swapping the last two axes of a row-major array (the
/// memory network's `Permute((2, 1))`) takes the direct batched-transpose loop.
fn permuted(array: &ArrayD<f32>, axes: &[usize]) -> ArrayD<f32> {
    let rank = axes.len();
    let swaps_last_two = rank >= 2
        && axes[..rank - 2].iter().enumerate().all(|(i, &a)| i == a)
        && axes[rank - 2] == rank - 1;
    if let (true, Some(src)) = (swaps_last_two, array.as_slice()) {
        let shape = array.shape();
        let (rows, cols) = (shape[rank - 2], shape[rank - 1]);
        let batch: usize = shape[..rank - 2].iter().product();
        let mut out_shape = shape.to_vec();
        out_shape.swap(rank - 2, rank - 1);
        if let Ok(out) = ArrayD::from_shape_vec(
            IxDyn(&out_shape),
            crate::kernels::layout::transpose_last_two(src, batch, rows, cols),
        ) {
            return out;
        }
    }
    array
        .view()
        .permuted_axes(IxDyn(axes))
        .as_standard_layout()
        .into_owned()
}

/// `outer` (the product of the axes before `axis`) and each shape's run length (its size from `axis` on).
fn runs(shapes: &[&[usize]], axis: usize) -> (usize, Vec<usize>) {
    let outer = shapes
        .first()
        .map(|s| s[..axis].iter().product())
        .unwrap_or(0);
    (
        outer,
        shapes.iter().map(|s| s[axis..].iter().product()).collect(),
    )
}

/// Joins arrays along `axis` (shapes already checked) into a row-major array.
fn concat_arrays(tensors: &[Tensor], axis: usize) -> Result<ArrayD<f32>> {
    let shapes: Vec<&[usize]> = tensors.iter().map(Tensor::shape).collect();
    let mut out_shape = shapes[0].to_vec();
    out_shape[axis] = shapes.iter().map(|s| s[axis]).sum();
    let (outer, run_lengths) = runs(&shapes, axis);
    let standard: Vec<_> = tensors
        .iter()
        .map(|t| t.data().as_standard_layout())
        .collect();
    let slices: Vec<&[f32]> = standard.iter().filter_map(|a| a.as_slice()).collect();
    if slices.len() != tensors.len() {
        return Err(TensorError::Internal {
            op: "concat",
            reason: "input layout".into(),
        });
    }
    let joined = crate::kernels::layout::join_runs(&slices, &run_lengths, outer);
    ArrayD::from_shape_vec(IxDyn(&out_shape), joined).map_err(|_| TensorError::Internal {
        op: "concat",
        reason: "output shape".into(),
    })
}

/// Splits `array` along `axis` into parts of the given sizes (the inverse of `concat_arrays`).
fn split_array(array: &ArrayD<f32>, sizes: &[usize], axis: usize) -> Result<Vec<ArrayD<f32>>> {
    let shape = array.shape();
    let part_shapes: Vec<Vec<usize>> = sizes
        .iter()
        .map(|&size| {
            let mut s = shape.to_vec();
            s[axis] = size;
            s
        })
        .collect();
    let refs: Vec<&[usize]> = part_shapes.iter().map(Vec::as_slice).collect();
    let (outer, run_lengths) = runs(&refs, axis);
    let standard = array.as_standard_layout();
    let joined = standard.as_slice().ok_or_else(|| TensorError::Internal {
        op: "concat",
        reason: "gradient layout".into(),
    })?;
    crate::kernels::layout::split_runs(joined, &run_lengths, outer)
        .into_iter()
        .zip(&part_shapes)
        .map(|(values, s)| {
            ArrayD::from_shape_vec(IxDyn(s), values).map_err(|_| TensorError::Internal {
                op: "concat",
                reason: "gradient shape".into(),
            })
        })
        .collect()
}

impl Tensor {
    /// The same elements (row-major order) in a new shape with the same number of elements.
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if shape.iter().product::<usize>() != self.len() {
            return Err(TensorError::shape_mismatch("reshape", self.shape(), shape));
        }
        let out = reshaped(self.data(), shape, "reshape")?;
        Ok(Tensor::from_op(
            out,
            || {
                Node::passing_gradient("reshape", vec![self.clone()], |inputs, grad| {
                    Ok(vec![Some(reshaped_owned(
                        grad,
                        inputs[0].shape(),
                        "reshape",
                    )?)])
                })
            },
            self.requires_grad(),
        ))
    }

    /// Reorders the axes: output axis `i` is input axis `axes[i]`.
    pub fn permute(&self, axes: &[usize]) -> Result<Tensor> {
        let rank = self.ndim();
        let repeated = |i: usize, a: usize| axes[..i].contains(&a);
        if axes.len() != rank
            || axes
                .iter()
                .enumerate()
                .any(|(i, &a)| a >= rank || repeated(i, a))
        {
            return Err(TensorError::invalid_shape(
                "permute",
                self.shape(),
                format!("axes {axes:?} are not a permutation of 0..{rank}"),
            ));
        }
        let out = permuted(self.data(), axes);
        let mut inverse = vec![0; rank];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("permute", vec![self.clone()], move |ctx| {
                    Ok(vec![Some(permuted(ctx.grad, &inverse))])
                })
            },
            self.requires_grad(),
        ))
    }

    /// Swaps the last two axes.
    pub fn transpose_last(&self) -> Result<Tensor> {
        let rank = self.ndim();
        if rank < 2 {
            return Err(TensorError::invalid_shape(
                "transpose_last",
                self.shape(),
                "expected rank >= 2",
            ));
        }
        let mut axes: Vec<usize> = (0..rank).collect();
        axes.swap(rank - 2, rank - 1);
        self.permute(&axes)
    }

    /// The elements `start..start + len` along `axis`.
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Result<Tensor> {
        let axis = normalize_axis(axis, self.ndim(), "narrow")?;
        let size = self.shape()[axis];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(TensorError::invalid_shape(
                "narrow",
                self.shape(),
                format!(
                    "range {start}..{} exceeds axis {axis} of size {size}",
                    start.saturating_add(len)
                ),
            ));
        }
        let slice = Slice::from(start..start + len);
        let out = crate::pooled::to_owned(&self.data().slice_axis(Axis(axis), slice));
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("narrow", vec![self.clone()], move |ctx| {
                    let mut grad = crate::pooled::zeros(IxDyn(ctx.inputs[0].shape()));
                    grad.slice_axis_mut(Axis(axis), slice).assign(ctx.grad);
                    Ok(vec![Some(grad)])
                })
            },
            self.requires_grad(),
        ))
    }

    /// Joins tensors along an existing axis; all other axes must agree.
    pub fn concat(tensors: &[Tensor], axis: isize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| TensorError::invalid_argument("concat", "no tensors"))?;
        let axis = normalize_axis(axis, first.ndim(), "concat")?;
        for t in tensors {
            let same_rest = t.ndim() == first.ndim()
                && t.shape()
                    .iter()
                    .zip(first.shape())
                    .enumerate()
                    .all(|(i, (a, b))| i == axis || a == b);
            if !same_rest {
                return Err(TensorError::shape_mismatch(
                    "concat",
                    first.shape(),
                    t.shape(),
                ));
            }
        }
        let out = concat_arrays(tensors, axis)?;
        let sizes: Vec<usize> = tensors.iter().map(|t| t.shape()[axis]).collect();
        let needs = tensors.iter().any(Tensor::requires_grad);
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("concat", tensors.to_vec(), move |ctx| {
                    let grads = split_array(ctx.grad, &sizes, axis)?;
                    Ok(grads.into_iter().map(Some).collect())
                })
            },
            needs,
        ))
    }

    /// Joins same-shaped tensors along a new axis.
    pub fn stack(tensors: &[Tensor], axis: usize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| TensorError::invalid_argument("stack", "no tensors"))?;
        if axis > first.ndim() {
            return Err(TensorError::AxisOutOfRange {
                op: "stack",
                axis: axis as isize,
                rank: first.ndim() + 1,
            });
        }
        let mut expanded_shape = first.shape().to_vec();
        expanded_shape.insert(axis, 1);
        let expanded = tensors
            .iter()
            .map(|t| {
                if t.shape() != first.shape() {
                    return Err(TensorError::shape_mismatch(
                        "stack",
                        first.shape(),
                        t.shape(),
                    ));
                }
                t.reshape(&expanded_shape)
            })
            .collect::<Result<Vec<_>>>()?;
        Tensor::concat(&expanded, axis as isize)
    }
}
