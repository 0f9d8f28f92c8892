//! Keras's fan computation, with a convolution kernel's receptive field counted in.

/// Keras's `compute_fans`: `(fan_in, fan_out)` of a weight shape. A scalar has `(1, 1)`, a vector `(n, n)`,
/// a matrix `(rows, cols)`; a convolution kernel `(..., input_depth, depth)` multiplies both by the
/// receptive field (the product of the leading axes).
///
/// ```
/// use rkeras_tensor::init::compute_fans;
/// assert_eq!(compute_fans(&[3, 3, 16, 32]), (9 * 16, 9 * 32));
/// ```
pub fn compute_fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [a, b] => (*a, *b),
        _ => {
            let receptive: usize = shape[..shape.len() - 2].iter().product();
            (
                shape[shape.len() - 2] * receptive,
                shape[shape.len() - 1] * receptive,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fans_follow_keras() {
        assert_eq!(compute_fans(&[]), (1, 1));
        assert_eq!(compute_fans(&[3, 4]), (3, 4));
        assert_eq!(compute_fans(&[5]), (5, 5));
        assert_eq!(compute_fans(&[2, 3, 4, 5]), (24, 30));
        // Conv1D kernel (kernel_size 3, 8 → 16 channels).
        assert_eq!(compute_fans(&[3, 8, 16]), (24, 48));
    }
}
