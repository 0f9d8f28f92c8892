//! An `EinsumDense` equation (`"abc,cde->abde"`), parsed and lowered to one matrix product: the input and the
//! kernel are permuted and reshaped to `[m, k]`·`[k, n]` (or a batched product when an axis is shared by the
//! input, the kernel and the output), and the result is reshaped and permuted to the output's axes.

use crate::error::{LayersError, Result};
use rkeras_tensor::{Tensor, TensorError};

/// Placeholder axis names for the axes an ellipsis (`...`) stands for.
const ELIDED: &[u8] = b"0123456789";

/// A parsed `input,kernel->output` equation with one letter per axis; an input and output may start with
/// `...` (the leading axes, batch included, passed through).
///
/// ```
/// use rkeras_layers::core::EinsumEquation;
/// let eq = EinsumEquation::parse("abc,cde->abde")?;
/// assert_eq!(eq.kernel_shape(&[2, 5, 3], &[Some(5), Some(2), Some(4)])?, vec![3, 2, 4]);
/// assert!(EinsumEquation::parse("ab,bc").unwrap_err().to_string().contains("ab,bc"));
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EinsumEquation {
    text: String,
    input: Vec<u8>,
    kernel: Vec<u8>,
    output: Vec<u8>,
    ellipsis: bool,
}

/// The axis groups of one call: input axes resolved (ellipsis expanded).
struct Resolved {
    input: Vec<u8>,
    output: Vec<u8>,
}

impl EinsumEquation {
    /// Parses `equation`, or returns an error naming it and saying what is not supported.
    pub fn parse(equation: &str) -> Result<Self> {
        let error = |reason: &str| LayersError::InvalidArgument {
            class: "EinsumDense",
            argument: "equation",
            reason: format!("{reason}, received \"{equation}\""),
        };
        let (lhs, output) = equation
            .split_once("->")
            .ok_or_else(|| error("expected the form \"input,kernel->output\""))?;
        let (input, kernel) = lhs
            .split_once(',')
            .ok_or_else(|| error("expected the form \"input,kernel->output\""))?;
        let strip = |spec: &str| -> (bool, String) {
            match spec.strip_prefix("...") {
                Some(rest) => (true, rest.to_string()),
                None => (false, spec.to_string()),
            }
        };
        let (in_ellipsis, input) = strip(input.trim());
        let (out_ellipsis, output) = strip(output.trim());
        let kernel = kernel.trim();
        if in_ellipsis != out_ellipsis || kernel.contains('.') {
            return Err(error(
                "rkeras supports an ellipsis only at the start of both the input and the output",
            ));
        }
        let letters = |spec: &str| -> Result<Vec<u8>> {
            let bytes = spec.as_bytes().to_vec();
            if bytes.iter().any(|c| !c.is_ascii_alphabetic()) {
                return Err(error("expected one letter per axis"));
            }
            if (1..bytes.len()).any(|i| bytes[..i].contains(&bytes[i])) {
                return Err(error(
                    "a letter repeats within one operand (diagonals are not supported)",
                ));
            }
            Ok(bytes)
        };
        let (input, kernel, output) = (letters(&input)?, letters(kernel)?, letters(&output)?);
        if let Some(&c) = output
            .iter()
            .find(|c| !input.contains(c) && !kernel.contains(c))
        {
            return Err(error(&format!(
                "output axis `{}` is in neither the input nor the kernel",
                c as char
            )));
        }
        if let Some(&c) = kernel
            .iter()
            .find(|c| !input.contains(c) && !output.contains(c))
        {
            return Err(error(&format!(
                "kernel axis `{}` is in neither the input nor the output (summing it is not supported)",
                c as char
            )));
        }
        if let Some(&c) = input
            .iter()
            .find(|c| !kernel.contains(c) && !output.contains(c))
        {
            return Err(error(&format!(
                "input axis `{}` is in neither the kernel nor the output (summing it is not supported)",
                c as char
            )));
        }
        Ok(EinsumEquation {
            text: equation.to_string(),
            input,
            kernel,
            output,
            ellipsis: in_ellipsis,
        })
    }

    /// The equation as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn shape_error(&self, reason: String) -> LayersError {
        LayersError::InvalidArgument {
            class: "EinsumDense",
            argument: "equation",
            reason: format!("\"{}\": {reason}", self.text),
        }
    }

    fn resolve(&self, input_rank: usize) -> Result<Resolved> {
        let named = self.input.len();
        let elided = input_rank.checked_sub(named).unwrap_or(usize::MAX);
        if (!self.ellipsis && elided != 0) || elided > ELIDED.len() {
            return Err(self.shape_error(format!(
                "expected an input of rank {named}{}, received rank {input_rank}",
                if self.ellipsis { " or more" } else { "" }
            )));
        }
        let prefix = &ELIDED[..elided];
        Ok(Resolved {
            input: [prefix, &self.input].concat(),
            output: [prefix, &self.output].concat(),
        })
    }

    /// The output's full shape (batch included) for an input of `input_shape` (batch included) and Keras's
    /// `output_shape` (the axes after the batch axis, or after the ellipsis; `None` for an axis taken from the
    /// input).
    pub fn output_shape(
        &self,
        input_shape: &[usize],
        output_shape: &[Option<usize>],
    ) -> Result<Vec<usize>> {
        let resolved = self.resolve(input_shape.len())?;
        let given_from = if self.ellipsis {
            resolved.output.len() - output_shape.len()
        } else {
            1
        };
        if resolved.output.len() != given_from + output_shape.len() {
            return Err(self.shape_error(format!(
                "`output_shape` {output_shape:?} does not give the {} axes after the batch axis",
                resolved.output.len().saturating_sub(1)
            )));
        }
        resolved
            .output
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let given = i.checked_sub(given_from).and_then(|j| output_shape[j]);
                match resolved.input.iter().position(|x| x == c) {
                    Some(p) => match given {
                        Some(g) if i > 0 && g != input_shape[p] => Err(self.shape_error(format!(
                            "`output_shape` gives {g} for axis `{}` of input size {}",
                            *c as char, input_shape[p]
                        ))),
                        _ => Ok(input_shape[p]),
                    },
                    None => given.ok_or_else(|| {
                        self.shape_error(format!(
                            "`output_shape` must give the size of axis `{}`",
                            *c as char
                        ))
                    }),
                }
            })
            .collect()
    }

    /// The kernel's shape for an input of `input_shape` (batch included).
    pub fn kernel_shape(
        &self,
        input_shape: &[usize],
        output_shape: &[Option<usize>],
    ) -> Result<Vec<usize>> {
        let resolved = self.resolve(input_shape.len())?;
        let full = self.output_shape(input_shape, output_shape)?;
        Ok(self
            .kernel
            .iter()
            .map(|c| match resolved.input.iter().position(|x| x == c) {
                Some(p) => input_shape[p],
                None => full[resolved.output.iter().position(|x| x == c).unwrap_or(0)],
            })
            .collect())
    }

    /// The bias's shape for `bias_axes` (output letters): the output's trailing axes from the first bias axis
    /// on, 1 for those not in `bias_axes` (Keras's layout).
    pub fn bias_shape(&self, bias_axes: &str, full_output: &[usize]) -> Result<Vec<usize>> {
        let offset = full_output.len() - self.output.len();
        let mut first = self.output.len();
        for c in bias_axes.bytes() {
            let p = self.output.iter().position(|&x| x == c).ok_or_else(|| {
                self.shape_error(format!("bias axis `{}` is not an output axis", c as char))
            })?;
            first = first.min(p);
        }
        Ok((first..self.output.len())
            .map(|p| {
                if bias_axes.as_bytes().contains(&self.output[p]) {
                    full_output[offset + p]
                } else {
                    1
                }
            })
            .collect())
    }

    /// `einsum(equation, x, kernel)` as one (batched) matrix product.
    pub fn apply(&self, x: &Tensor, kernel: &Tensor) -> Result<Tensor> {
        let resolved = self.resolve(x.ndim())?;
        let tensor = |e: TensorError| LayersError::Tensor {
            layer: format!("einsum \"{}\"", self.text),
            source: e,
        };
        let (inp, out, ker) = (&resolved.input, &resolved.output, &self.kernel);
        let batch: Vec<u8> = inp
            .iter()
            .copied()
            .filter(|c| ker.contains(c) && out.contains(c))
            .collect();
        let contract: Vec<u8> = inp
            .iter()
            .copied()
            .filter(|c| ker.contains(c) && !out.contains(c))
            .collect();
        let free_in: Vec<u8> = inp.iter().copied().filter(|c| !ker.contains(c)).collect();
        let free_k: Vec<u8> = ker.iter().copied().filter(|c| !inp.contains(c)).collect();
        let size = |c: &u8| -> usize {
            match inp.iter().position(|x| x == c) {
                Some(p) => x.shape()[p],
                None => kernel.shape()[ker.iter().position(|x| x == c).unwrap_or(0)],
            }
        };
        let prod = |axes: &[u8]| axes.iter().map(size).product::<usize>();
        let (b, m, k, n) = (prod(&batch), prod(&free_in), prod(&contract), prod(&free_k));
        let lhs = permuted(x, inp, &[&batch[..], &free_in, &contract].concat()).map_err(tensor)?;
        let rhs =
            permuted(kernel, ker, &[&batch[..], &contract, &free_k].concat()).map_err(tensor)?;
        let product = if batch.is_empty() {
            lhs.reshape(&[m, k])
                .and_then(|l| l.matmul(&rhs.reshape(&[k, n])?))
        } else {
            lhs.reshape(&[b, m, k])
                .and_then(|l| l.batch_matmul(&rhs.reshape(&[b, k, n])?, false, false))
        }
        .map_err(tensor)?;
        let order = [&batch[..], &free_in, &free_k].concat();
        let dims: Vec<usize> = order.iter().map(size).collect();
        let product = product.reshape(&dims).map_err(tensor)?;
        permuted(&product, &order, out).map_err(tensor)
    }
}

/// `x` (axes named `from`) with its axes in the order `to`; no copy when the order is the same.
fn permuted(x: &Tensor, from: &[u8], to: &[u8]) -> std::result::Result<Tensor, TensorError> {
    if from == to {
        return Ok(x.clone());
    }
    let axes: Vec<usize> = to
        .iter()
        .map(|c| from.iter().position(|x| x == c).unwrap_or(0))
        .collect();
    x.permute(&axes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, Dimension, IxDyn};

    fn ramp(shape: &[usize]) -> ArrayD<f32> {
        ArrayD::from_shape_fn(IxDyn(shape), |ix| {
            ix.slice()
                .iter()
                .enumerate()
                .map(|(i, &v)| (v as f32 + 1.0) * (i as f32 + 0.5))
                .sum::<f32>()
                .sin()
        })
    }

    /// Each lowering against the einsum sum written out by hand.
    #[test]
    fn lowering_matches_the_written_out_sum() {
        let x = ramp(&[2, 3, 4]);
        let w = ramp(&[4, 2, 5]);
        let eq = EinsumEquation::parse("abc,cde->adbe").unwrap();
        let y = eq
            .apply(&Tensor::new(x.clone()), &Tensor::new(w.clone()))
            .unwrap();
        assert_eq!(y.shape(), &[2, 2, 3, 5]);
        for ((a, d, b, e), v) in y
            .data()
            .indexed_iter()
            .map(|(ix, v)| ((ix[0], ix[1], ix[2], ix[3]), *v))
        {
            let want: f32 = (0..4).map(|c| x[[a, b, c]] * w[[c, d, e]]).sum();
            assert!((v - want).abs() < 1e-5, "{v} vs {want}");
        }
        // A batch axis shared by input, kernel and output: a batched product.
        let w = ramp(&[3, 4, 5]);
        let eq = EinsumEquation::parse("abc,bcd->abd").unwrap();
        let y = eq
            .apply(&Tensor::new(x.clone()), &Tensor::new(w.clone()))
            .unwrap();
        for ((a, b, d), v) in y
            .data()
            .indexed_iter()
            .map(|(ix, v)| ((ix[0], ix[1], ix[2]), *v))
        {
            let want: f32 = (0..4).map(|c| x[[a, b, c]] * w[[b, c, d]]).sum();
            assert!((v - want).abs() < 1e-5, "{v} vs {want}");
        }
    }

    #[test]
    fn unsupported_equations_are_named() {
        for bad in [
            "ab,bc",
            "ab,bcd->ac",
            "abc,cd->ad",
            "aab,bc->ac",
            "ab,b...->a",
            "ab,bc->ae",
        ] {
            let err = EinsumEquation::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
        let eq = EinsumEquation::parse("abc,cd->abd").unwrap();
        let err = eq
            .kernel_shape(&[2, 3], &[None, Some(4)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("abc,cd->abd") && err.contains("rank"), "{err}");
        assert_eq!(eq.bias_shape("b", &[2, 5, 4]).unwrap(), vec![5, 1]);
    }
}
