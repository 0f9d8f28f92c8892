//! Data movement on row-major buffers: batched transposes of the last two axes, and joining / splitting
//! along one axis. Each is a plain loop over contiguous runs, tested against a naive reference; the results'
//! buffers come from [`crate::buffer_pool`].

/// `dst[b][j][i] = src[b][i][j]` for `batch` row-major `rows × cols` matrices.
pub fn transpose_last_two(src: &[f32], batch: usize, rows: usize, cols: usize) -> Vec<f32> {
    let size = rows * cols;
    // Written whole when `src` holds exactly the `batch` matrices; any other tail stays zero.
    let mut dst = if batch.checked_mul(size) == Some(src.len()) {
        crate::buffer_pool::take(src.len())
    } else {
        crate::buffer_pool::take_zeroed(src.len())
    };
    if size == 0 {
        return dst;
    }
    for (s, d) in src
        .chunks_exact(size)
        .zip(dst.chunks_exact_mut(size))
        .take(batch)
    {
        for (i, row) in s.chunks_exact(cols).enumerate() {
            for (j, &v) in row.iter().enumerate() {
                d[j * rows + i] = v;
            }
        }
    }
    dst
}

/// Joins row-major blocks along one axis: `parts[p]` holds `outer` runs of `runs[p]` contiguous values each;
/// the result interleaves them run by run (`outer` = product of the axes before the joined one, `runs[p]` =
/// the part's size along the axis times the product of the axes after it).
pub fn join_runs(parts: &[&[f32]], runs: &[usize], outer: usize) -> Vec<f32> {
    let total: usize = runs.iter().sum();
    let mut out = crate::buffer_pool::take_empty(total * outer);
    for o in 0..outer {
        for (part, &run) in parts.iter().zip(runs) {
            out.extend_from_slice(&part[o * run..(o + 1) * run]);
        }
    }
    out
}

/// The inverse of [`join_runs`]: splits `joined` into the parts.
pub fn split_runs(joined: &[f32], runs: &[usize], outer: usize) -> Vec<Vec<f32>> {
    let total: usize = runs.iter().sum();
    let mut parts: Vec<Vec<f32>> = runs
        .iter()
        .map(|&r| crate::buffer_pool::take_empty(r * outer))
        .collect();
    for o in 0..outer {
        let mut start = o * total;
        for (part, &run) in parts.iter_mut().zip(runs) {
            part.extend_from_slice(&joined[start..start + run]);
            start += run;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_matches_a_naive_reference() {
        for (b, r, c) in [
            (1, 1, 1),
            (2, 3, 5),
            (3, 68, 4),
            (0, 4, 4),
            (2, 0, 3),
            (1, 7, 13),
        ] {
            let src: Vec<f32> = (0..b * r * c).map(|v| v as f32).collect();
            let dst = transpose_last_two(&src, b, r, c);
            for bi in 0..b {
                for i in 0..r {
                    for j in 0..c {
                        assert_eq!(dst[bi * r * c + j * r + i], src[bi * r * c + i * c + j]);
                    }
                }
            }
        }
    }

    #[test]
    fn join_and_split_are_inverse_and_match_ndarray() {
        use ndarray::{Array3, Axis, concatenate};
        let a = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 100 + j * 10 + k) as f32);
        let b = Array3::from_shape_fn((2, 3, 2), |(i, j, k)| -((i * 100 + j * 10 + k) as f32));
        for axis in 0..3 {
            let b = if axis == 2 { b.clone() } else { a.mapv(|v| -v) };
            let expected = concatenate(Axis(axis), &[a.view(), b.view()]).unwrap();
            let outer: usize = a.shape()[..axis].iter().product();
            let run_a: usize = a.shape()[axis..].iter().product();
            let run_b: usize = b.shape()[axis..].iter().product();
            let joined = join_runs(
                &[a.as_slice().unwrap(), b.as_slice().unwrap()],
                &[run_a, run_b],
                outer,
            );
            assert_eq!(
                joined,
                expected
                    .as_standard_layout()
                    .iter()
                    .copied()
                    .collect::<Vec<_>>()
            );
            let parts = split_runs(&joined, &[run_a, run_b], outer);
            assert_eq!(parts[0], a.as_slice().unwrap());
            assert_eq!(parts[1], b.as_slice().unwrap());
        }
    }
}
