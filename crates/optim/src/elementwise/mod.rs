//! Element-wise loops over a parameter, its gradient and its slots.
//!
//! When every array is contiguous in standard order (the usual case: slots are created so, parameters and
//! gradients normally are), the loop runs over plain slices, compiled for each x86-64 level and chosen at run
//! time (`multiversion`'s `simd` targets); otherwise it falls back to `ndarray::Zip`, which walks any layout. Both visit the same
//! elements with the same arithmetic, so results are identical. Callers have checked that all shapes are equal.

use multiversion::multiversion;
use ndarray::{ArrayD, ArrayViewD, Zip};

/// The slice loop of [`for_each_0`]: `g²` from `ss` when given, else `g · g`.
#[multiversion(targets = "simd")]
fn slices_0<F: Fn(&mut f32, f32, f32)>(ws: &mut [f32], gs: &[f32], ss: Option<&[f32]>, f: F) {
    match ss {
        None => {
            for (w, &g) in ws.iter_mut().zip(gs) {
                f(w, g, g * g);
            }
        }
        Some(ss) => {
            for ((w, &g), &s) in ws.iter_mut().zip(gs).zip(ss) {
                f(w, g, s);
            }
        }
    }
}

/// The slice loop of [`for_each_1`].
#[multiversion(targets = "simd")]
fn slices_1<F: Fn(&mut f32, f32, f32, &mut f32)>(
    ws: &mut [f32],
    gs: &[f32],
    ss: Option<&[f32]>,
    a_s: &mut [f32],
    f: F,
) {
    match ss {
        None => {
            for ((w, &g), a) in ws.iter_mut().zip(gs).zip(a_s) {
                f(w, g, g * g, a);
            }
        }
        Some(ss) => {
            for (((w, &g), &s), a) in ws.iter_mut().zip(gs).zip(ss).zip(a_s) {
                f(w, g, s, a);
            }
        }
    }
}

/// The slice loop of [`for_each_2`].
#[multiversion(targets = "simd")]
fn slices_2<F: Fn(&mut f32, f32, f32, &mut f32, &mut f32)>(
    ws: &mut [f32],
    gs: &[f32],
    ss: Option<&[f32]>,
    a_s: &mut [f32],
    bs: &mut [f32],
    f: F,
) {
    match ss {
        None => {
            for (((w, &g), a), b) in ws.iter_mut().zip(gs).zip(a_s).zip(bs) {
                f(w, g, g * g, a, b);
            }
        }
        Some(ss) => {
            for ((((w, &g), &s), a), b) in ws.iter_mut().zip(gs).zip(ss).zip(a_s).zip(bs) {
                f(w, g, s, a, b);
            }
        }
    }
}

/// The slice loop of [`for_each_3`].
#[allow(clippy::too_many_arguments)]
#[multiversion(targets = "simd")]
fn slices_3<F: Fn(&mut f32, f32, f32, &mut f32, &mut f32, &mut f32)>(
    ws: &mut [f32],
    gs: &[f32],
    ss: Option<&[f32]>,
    a_s: &mut [f32],
    bs: &mut [f32],
    cs: &mut [f32],
    f: F,
) {
    match ss {
        None => {
            for ((((w, &g), a), b), c) in ws.iter_mut().zip(gs).zip(a_s).zip(bs).zip(cs) {
                f(w, g, g * g, a, b, c);
            }
        }
        Some(ss) => {
            let lanes = ws.iter_mut().zip(gs).zip(ss).zip(a_s).zip(bs).zip(cs);
            for (((((w, &g), &s), a), b), c) in lanes {
                f(w, g, s, a, b, c);
            }
        }
    }
}

/// The squares as a slice when given and contiguous: `Ok(None)` without squares, `Err(())` when they need `Zip`.
fn squares_slice<'a>(squares: Option<&'a ArrayViewD<'_, f32>>) -> Result<Option<&'a [f32]>, ()> {
    match squares {
        None => Ok(None),
        Some(s) => s.as_slice().map(Some).ok_or(()),
    }
}

/// `f(w, g, g²)` for every element of the parameter `w` and gradient `g`; `g²` is the element of `squares` when
/// given (an embedding's per-lookup squared gradients), else `g · g`.
pub(crate) fn for_each_0(
    w: &mut ArrayD<f32>,
    g: &ArrayViewD<'_, f32>,
    squares: Option<&ArrayViewD<'_, f32>>,
    f: impl Fn(&mut f32, f32, f32),
) {
    if let (Some(ws), Some(gs), Ok(ss)) = (w.as_slice_mut(), g.as_slice(), squares_slice(squares)) {
        return slices_0(ws, gs, ss, f);
    }
    match squares {
        None => Zip::from(w).and(g).for_each(|w, &g| f(w, g, g * g)),
        Some(sq) => Zip::from(w).and(g).and(sq).for_each(|w, &g, &s| f(w, g, s)),
    }
}

/// `f(w, g, g², a)` for every element of the parameter, gradient and one slot (`g²` as in [`for_each_0`]).
pub(crate) fn for_each_1(
    w: &mut ArrayD<f32>,
    g: &ArrayViewD<'_, f32>,
    squares: Option<&ArrayViewD<'_, f32>>,
    a: &mut ArrayD<f32>,
    f: impl Fn(&mut f32, f32, f32, &mut f32),
) {
    if let (Some(ws), Some(gs), Ok(ss), Some(a_s)) = (
        w.as_slice_mut(),
        g.as_slice(),
        squares_slice(squares),
        a.as_slice_mut(),
    ) {
        return slices_1(ws, gs, ss, a_s, f);
    }
    match squares {
        None => Zip::from(w)
            .and(g)
            .and(a)
            .for_each(|w, &g, a| f(w, g, g * g, a)),
        Some(sq) => Zip::from(w)
            .and(g)
            .and(sq)
            .and(a)
            .for_each(|w, &g, &s, a| f(w, g, s, a)),
    }
}

/// `f(w, g, g², a, b)` for every element of the parameter, gradient and two slots.
pub(crate) fn for_each_2(
    w: &mut ArrayD<f32>,
    g: &ArrayViewD<'_, f32>,
    squares: Option<&ArrayViewD<'_, f32>>,
    a: &mut ArrayD<f32>,
    b: &mut ArrayD<f32>,
    f: impl Fn(&mut f32, f32, f32, &mut f32, &mut f32),
) {
    if let (Some(ws), Some(gs), Ok(ss), Some(a_s), Some(bs)) = (
        w.as_slice_mut(),
        g.as_slice(),
        squares_slice(squares),
        a.as_slice_mut(),
        b.as_slice_mut(),
    ) {
        return slices_2(ws, gs, ss, a_s, bs, f);
    }
    match squares {
        None => Zip::from(w)
            .and(g)
            .and(a)
            .and(b)
            .for_each(|w, &g, a, b| f(w, g, g * g, a, b)),
        Some(sq) => Zip::from(w)
            .and(g)
            .and(sq)
            .and(a)
            .and(b)
            .for_each(|w, &g, &s, a, b| f(w, g, s, a, b)),
    }
}

/// `f(w, g, g², a, b, c)` for every element of the parameter, gradient and three slots.
pub(crate) fn for_each_3(
    w: &mut ArrayD<f32>,
    g: &ArrayViewD<'_, f32>,
    squares: Option<&ArrayViewD<'_, f32>>,
    a: &mut ArrayD<f32>,
    b: &mut ArrayD<f32>,
    c: &mut ArrayD<f32>,
    f: impl Fn(&mut f32, f32, f32, &mut f32, &mut f32, &mut f32),
) {
    if let (Some(ws), Some(gs), Ok(ss), Some(a_s), Some(bs), Some(cs)) = (
        w.as_slice_mut(),
        g.as_slice(),
        squares_slice(squares),
        a.as_slice_mut(),
        b.as_slice_mut(),
        c.as_slice_mut(),
    ) {
        return slices_3(ws, gs, ss, a_s, bs, cs, f);
    }
    match squares {
        None => Zip::from(w)
            .and(g)
            .and(a)
            .and(b)
            .and(c)
            .for_each(|w, &g, a, b, c| f(w, g, g * g, a, b, c)),
        Some(sq) => Zip::from(w)
            .and(g)
            .and(sq)
            .and(a)
            .and(b)
            .and(c)
            .for_each(|w, &g, &s, a, b, c| f(w, g, s, a, b, c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn slice_path_and_zip_path_agree() {
        let base =
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let grad = base.mapv(|x| x * 10.0);
        let update = |w: &mut f32, g: f32, g2: f32, a: &mut f32| {
            *a += g + g2;
            *w -= *a;
        };
        // contiguous
        let (mut w1, mut a1) = (base.clone(), ArrayD::zeros(IxDyn(&[2, 3])));
        for_each_1(&mut w1, &grad.view(), None, &mut a1, update);
        // transposed twice: same logical array, column-major memory
        let mut w2 = base
            .clone()
            .reversed_axes()
            .as_standard_layout()
            .into_owned()
            .reversed_axes();
        let mut a2 = ArrayD::<f32>::zeros(IxDyn(&[3, 2])).reversed_axes();
        assert!(w2.as_slice_mut().is_none());
        for_each_1(&mut w2, &grad.view(), None, &mut a2, update);
        assert_eq!(w1, w2);
        assert_eq!(a1, a2);
        assert_eq!(w1[[1, 2]], 6.0 - 60.0 - 3600.0);
        // Given squares replace g·g, on both paths.
        let squares = base.mapv(|x| -x);
        let (mut w3, mut a3) = (base.clone(), ArrayD::zeros(IxDyn(&[2, 3])));
        for_each_1(
            &mut w3,
            &grad.view(),
            Some(&squares.view()),
            &mut a3,
            update,
        );
        let mut a4 = ArrayD::<f32>::zeros(IxDyn(&[3, 2])).reversed_axes();
        let mut w4 = w2.clone();
        w4.assign(&base);
        for_each_1(
            &mut w4,
            &grad.view(),
            Some(&squares.view()),
            &mut a4,
            update,
        );
        assert_eq!(w3, w4);
        assert_eq!(w3[[1, 2]], 6.0 - (60.0 - 6.0));
    }

    /// Parameters, gradients, squares and slots with awkward values (zeros of both signs, subnormals, huge and
    /// non-finite values) and a length that leaves a tail on every vector width.
    fn awkward(len: usize, salt: u32) -> Vec<f32> {
        let special = [
            0.0,
            -0.0,
            1e-40,
            -1e-39,
            3.4e38,
            f32::INFINITY,
            f32::NAN,
            1.0,
            -2.5,
        ];
        (0..len)
            .map(|i| {
                let k = (i as u32)
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(salt.wrapping_mul(40_503));
                if k % 31 == 0 {
                    special[(k as usize / 31) % special.len()]
                } else {
                    (k >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
                }
            })
            .collect()
    }

    fn bits(xs: &[f32]) -> Vec<u32> {
        xs.iter().map(|x| x.to_bits()).collect()
    }

    /// Keras's RMSprop, Adam (AMSGrad) and Adadelta formulas, as the optimizers pass them.
    fn rmsprop(w: &mut f32, g: f32, g2: f32, v: &mut f32, m: &mut f32, _: &mut f32) {
        *v = 0.9 * *v + 0.100_000_024 * g2;
        *m = 0.5 * *m + (0.001 * g) / (*v + 1e-7).sqrt();
        *w -= *m;
    }
    fn adam(w: &mut f32, g: f32, g2: f32, m: &mut f32, v: &mut f32, v_hat: &mut f32) {
        *m += (g - *m) * 0.1;
        *v += (g2 - *v) * 0.001;
        *v_hat = v_hat.max(*v);
        *w -= (*m * 0.000_316) / (v_hat.sqrt() + 1e-7);
    }
    fn adadelta(w: &mut f32, g: f32, g2: f32, ag: &mut f32, ad: &mut f32, _: &mut f32) {
        *ag = 0.95 * *ag + 0.050_000_012 * g2;
        let delta = -((*ad + 1e-7).sqrt() * g) / (*ag + 1e-7).sqrt();
        *ad = 0.95 * *ad + 0.050_000_012 * (delta * delta);
        *w += delta;
    }

    type Update = fn(&mut f32, f32, f32, &mut f32, &mut f32, &mut f32);

    /// The slice loops (the copy compiled for this CPU) give the bits of one element at a time (each element's update a separate,
    /// opaque call), with and without given squares, for one to three slots.
    #[test]
    fn the_slice_loops_match_one_element_at_a_time() {
        let len = 1037;
        let updates: [(&str, Update); 3] =
            [("rmsprop", rmsprop), ("adam", adam), ("adadelta", adadelta)];
        for (name, update) in updates {
            for with_squares in [false, true] {
                let (w0, g) = (awkward(len, 1), awkward(len, 2));
                let sq = awkward(len, 3).iter().map(|x| x.abs()).collect::<Vec<_>>();
                let slots0 = [awkward(len, 4), awkward(len, 5), awkward(len, 6)]
                    .map(|s| s.iter().map(|x| x.abs()).collect::<Vec<_>>());
                // One element at a time.
                let (mut w_ref, mut s_ref) = (w0.clone(), slots0.clone());
                for i in 0..len {
                    let g2 = if with_squares { sq[i] } else { g[i] * g[i] };
                    let [a, b, c] = &mut s_ref;
                    std::hint::black_box(update)(
                        &mut w_ref[i],
                        g[i],
                        g2,
                        &mut a[i],
                        &mut b[i],
                        &mut c[i],
                    );
                }
                let ss = with_squares.then_some(&sq[..]);
                // Three slots.
                let (mut w3, mut s3) = (w0.clone(), slots0.clone());
                let [a, b, c] = &mut s3;
                slices_3(&mut w3, &g, ss, a, b, c, update);
                assert_eq!(bits(&w3), bits(&w_ref), "{name} squares {with_squares}");
                for (x, y) in s3.iter().zip(&s_ref) {
                    assert_eq!(bits(x), bits(y), "{name} slots");
                }
                // Two, one and no slots: the third (and second, first) slot as scratch the update ignores
                // only where the formula does; compare against the same formula with scratch slots.
                let (mut w2, mut s2) = (w0.clone(), slots0.clone());
                let [a, b, c] = &mut s2;
                let c_copy = c.clone();
                slices_2(&mut w2, &g, ss, a, b, |w, g, g2, a, b| {
                    let mut scratch = 0.0;
                    update(w, g, g2, a, b, &mut scratch);
                });
                let mut s2_ref = slots0.clone();
                let mut w2_ref = w0.clone();
                for i in 0..len {
                    let g2 = if with_squares { sq[i] } else { g[i] * g[i] };
                    let [a, b, _] = &mut s2_ref;
                    let mut scratch = 0.0;
                    std::hint::black_box(update)(
                        &mut w2_ref[i],
                        g[i],
                        g2,
                        &mut a[i],
                        &mut b[i],
                        &mut scratch,
                    );
                }
                assert_eq!(bits(&w2), bits(&w2_ref), "{name} two slots");
                assert_eq!(bits(c), bits(&c_copy));
                let (mut w1, mut a1) = (w0.clone(), slots0[0].clone());
                slices_1(&mut w1, &g, ss, &mut a1, |w, g, g2, a| {
                    let (mut b, mut c) = (0.5, 0.0);
                    update(w, g, g2, a, &mut b, &mut c);
                });
                let (mut w1_ref, mut a1_ref) = (w0.clone(), slots0[0].clone());
                for i in 0..len {
                    let g2 = if with_squares { sq[i] } else { g[i] * g[i] };
                    let (mut b, mut c) = (0.5, 0.0);
                    std::hint::black_box(update)(
                        &mut w1_ref[i],
                        g[i],
                        g2,
                        &mut a1_ref[i],
                        &mut b,
                        &mut c,
                    );
                }
                assert_eq!(bits(&w1), bits(&w1_ref), "{name} one slot");
                assert_eq!(bits(&a1), bits(&a1_ref));
                let mut w0t = w0.clone();
                slices_0(&mut w0t, &g, ss, |w, g, g2| {
                    *w -= (0.01 * g) / (g2 + 1e-7).sqrt()
                });
                let w0_ref: Vec<f32> = (0..len)
                    .map(|i| {
                        let g2 = if with_squares { sq[i] } else { g[i] * g[i] };
                        std::hint::black_box(w0[i] - (0.01 * g[i]) / (g2 + 1e-7).sqrt())
                    })
                    .collect();
                assert_eq!(bits(&w0t), bits(&w0_ref), "{name} no slot");
            }
        }
    }
}
