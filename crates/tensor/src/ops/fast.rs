//! Contiguous fast paths for elementwise work: plain loops over row-major slices, falling back to ndarray's
//! general (strided, `IxDyn`) iteration only when a layout needs it.

use ndarray::{ArrayD, Zip};

/// `f` applied to every element, in a new array of the same shape.
pub(crate) fn map(a: &ArrayD<f32>, f: impl Fn(f32) -> f32) -> ArrayD<f32> {
    match a.as_slice() {
        Some(s) => filled(a, |out| {
            for (o, &v) in out.iter_mut().zip(s) {
                *o = f(v);
            }
        }),
        None => a.mapv(f),
    }
}

/// A new row-major array of `like`'s shape whose elements `fill` writes, every one of them: plain loops over
/// slices, which the compiler vectorises (an iterator chain collected into a buffer is not).
fn filled(like: &ArrayD<f32>, fill: impl FnOnce(&mut [f32])) -> ArrayD<f32> {
    let mut out = crate::pooled::for_overwrite(like.raw_dim());
    match out.as_slice_mut() {
        Some(values) => fill(values),
        // A fresh array is row-major; this arm is never taken.
        None => out.fill(0.0),
    }
    out
}

/// `f(a, b)` elementwise for two arrays of the same shape.
pub(crate) fn zip(a: &ArrayD<f32>, b: &ArrayD<f32>, f: impl Fn(f32, f32) -> f32) -> ArrayD<f32> {
    match (a.as_slice(), b.as_slice()) {
        (Some(x), Some(y)) if a.shape() == b.shape() => filled(a, |out| {
            for ((o, &p), &q) in out.iter_mut().zip(x).zip(y) {
                *o = f(p, q);
            }
        }),
        _ => {
            let mut out = crate::pooled::clone(a);
            Zip::from(&mut out).and(b).for_each(|o, &q| *o = f(*o, q));
            out
        }
    }
}

/// `f(a, b)` elementwise where one operand's shape is the other's trailing axes (a bias row, a position
/// table added to every batch item): the larger operand's row-major slice in blocks of the smaller one's, each
/// element computed as the general broadcast computes it. `None` when the shapes or layouts do not fit.
pub(crate) fn zip_trailing(
    a: &ArrayD<f32>,
    b: &ArrayD<f32>,
    f: impl Fn(f32, f32) -> f32,
) -> Option<ArrayD<f32>> {
    let trailing = |big: &ArrayD<f32>, small: &ArrayD<f32>| {
        small.ndim() < big.ndim()
            && !small.is_empty()
            && big.shape()[big.ndim() - small.ndim()..] == *small.shape()
    };
    let (x, y) = (a.as_slice()?, b.as_slice()?);
    if trailing(a, b) {
        Some(filled(a, |out| {
            for (o, x) in out.chunks_exact_mut(y.len()).zip(x.chunks_exact(y.len())) {
                for ((o, &p), &q) in o.iter_mut().zip(x).zip(y) {
                    *o = f(p, q);
                }
            }
        }))
    } else if trailing(b, a) {
        Some(filled(b, |out| {
            for (o, y) in out.chunks_exact_mut(x.len()).zip(y.chunks_exact(x.len())) {
                for ((o, &p), &q) in o.iter_mut().zip(x).zip(y) {
                    *o = f(p, q);
                }
            }
        }))
    } else {
        None
    }
}

/// `f(a[i], b[i], c[i])` for three arrays of the same shape, in a new array of `a`'s layout.
pub(crate) fn zip3(
    a: &ArrayD<f32>,
    b: &ArrayD<f32>,
    c: &ArrayD<f32>,
    f: impl Fn(f32, f32, f32) -> f32,
) -> ArrayD<f32> {
    let same = a.shape() == b.shape() && a.shape() == c.shape();
    if let (true, Some(x), Some(y), Some(z)) = (same, a.as_slice(), b.as_slice(), c.as_slice()) {
        return filled(a, |out| {
            for (((o, &p), &q), &r) in out.iter_mut().zip(x).zip(y).zip(z) {
                *o = f(p, q, r);
            }
        });
    }
    let mut out = crate::pooled::clone(a);
    Zip::from(&mut out)
        .and(b)
        .and(c)
        .for_each(|d, &q, &r| *d = f(*d, q, r));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pooled::testing::{assert_identical, varied};

    /// `dst[i] = f(dst[i], a[i], b[i])`, the in-place form `zip3` replaces.
    fn zip3_inplace(
        dst: &mut ArrayD<f32>,
        a: &ArrayD<f32>,
        b: &ArrayD<f32>,
        f: impl Fn(f32, f32, f32) -> f32,
    ) {
        Zip::from(dst)
            .and(a)
            .and(b)
            .for_each(|d, &p, &q| *d = f(*d, p, q));
    }

    #[test]
    fn zip3_matches_a_clone_updated_in_place() {
        let f = |g: f32, x: f32, y: f32| g * (x - y * 0.5);
        let (a, b, c) = (varied(&[3, 4], 1), varied(&[3, 4], 2), varied(&[3, 4], 3));
        let a_t = a.clone().reversed_axes();
        let (b_t, c_t) = (b.clone().reversed_axes(), c.clone().reversed_axes());
        for (a, b, c, what) in [(&a, &b, &c, "standard"), (&a_t, &b_t, &c_t, "transposed")] {
            let mut expected = a.clone();
            zip3_inplace(&mut expected, b, c, f);
            assert_identical(&zip3(a, b, c, f), &expected, what);
        }
    }

    #[test]
    fn map_and_zip_match_ndarray() {
        let (a, b) = (varied(&[2, 3, 4], 4), varied(&[2, 3, 4], 5));
        assert_identical(&map(&a, f32::exp), &a.mapv(f32::exp), "map");
        assert_identical(&zip(&a, &b, |x, y| x * y - y), &(&a * &b - &b), "zip");
    }
}
