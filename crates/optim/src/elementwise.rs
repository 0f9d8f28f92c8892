//! Element-wise loops over a parameter, its gradient and its slots.
//!
//! When every array is contiguous in standard order (the usual case: slots are created so, parameters and
//! gradients normally are), the loop runs over plain slices, which the compiler vectorizes; otherwise it falls back
//! to `ndarray::Zip`, which walks any layout. Both visit the same elements with the same arithmetic, so results are
//! identical. Callers have checked that all shapes are equal.

use ndarray::{ArrayD, ArrayViewD, Zip};

/// `f(w, g, g²)` for every element of the parameter `w` and gradient `g`; `g²` is the element of `squares` when
/// given (an embedding's per-lookup squared gradients), else `g · g`.
pub(crate) fn for_each_0(
    w: &mut ArrayD<f32>,
    g: &ArrayViewD<'_, f32>,
    squares: Option<&ArrayViewD<'_, f32>>,
    f: impl Fn(&mut f32, f32, f32),
) {
    if let (Some(ws), Some(gs)) = (w.as_slice_mut(), g.as_slice()) {
        match squares.map(|s| s.as_slice()) {
            None => {
                for (w, &g) in ws.iter_mut().zip(gs) {
                    f(w, g, g * g);
                }
                return;
            }
            Some(Some(ss)) => {
                for ((w, &g), &s) in ws.iter_mut().zip(gs).zip(ss) {
                    f(w, g, s);
                }
                return;
            }
            Some(None) => {}
        }
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
    if let (Some(ws), Some(gs), Some(a_s)) = (w.as_slice_mut(), g.as_slice(), a.as_slice_mut()) {
        match squares.map(|s| s.as_slice()) {
            None => {
                for ((w, &g), a) in ws.iter_mut().zip(gs).zip(a_s) {
                    f(w, g, g * g, a);
                }
                return;
            }
            Some(Some(ss)) => {
                for (((w, &g), &s), a) in ws.iter_mut().zip(gs).zip(ss).zip(a_s) {
                    f(w, g, s, a);
                }
                return;
            }
            Some(None) => {}
        }
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
    if let (Some(ws), Some(gs), Some(a_s), Some(bs)) = (
        w.as_slice_mut(),
        g.as_slice(),
        a.as_slice_mut(),
        b.as_slice_mut(),
    ) {
        match squares.map(|s| s.as_slice()) {
            None => {
                for (((w, &g), a), b) in ws.iter_mut().zip(gs).zip(a_s).zip(bs) {
                    f(w, g, g * g, a, b);
                }
                return;
            }
            Some(Some(ss)) => {
                for ((((w, &g), &s), a), b) in ws.iter_mut().zip(gs).zip(ss).zip(a_s).zip(bs) {
                    f(w, g, s, a, b);
                }
                return;
            }
            Some(None) => {}
        }
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
    if let (Some(ws), Some(gs), Some(a_s), Some(bs), Some(cs)) = (
        w.as_slice_mut(),
        g.as_slice(),
        a.as_slice_mut(),
        b.as_slice_mut(),
        c.as_slice_mut(),
    ) {
        match squares.map(|s| s.as_slice()) {
            None => {
                for ((((w, &g), a), b), c) in ws.iter_mut().zip(gs).zip(a_s).zip(bs).zip(cs) {
                    f(w, g, g * g, a, b, c);
                }
                return;
            }
            Some(Some(ss)) => {
                let lanes = ws.iter_mut().zip(gs).zip(ss).zip(a_s).zip(bs).zip(cs);
                for (((((w, &g), &s), a), b), c) in lanes {
                    f(w, g, s, a, b, c);
                }
                return;
            }
            Some(None) => {}
        }
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
}
