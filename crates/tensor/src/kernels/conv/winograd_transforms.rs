//! The three transforms of Winograd's F(2×2, 3×3) (Lavin & Gray, 2015), each vectorised along the channel axis
//! of a channels-last array and compiled per target:
//!
//! ```text
//! Bᵀ = | 1  0 −1  0 |     G = |  1    0    0  |     Aᵀ = | 1  1  1  0 |
//!      | 0  1  1  0 |         | 1/2  1/2  1/2 |          | 0  1 −1 −1 |
//!      | 0 −1  1  0 |         | 1/2 −1/2  1/2 |
//!      | 0  1  0 −1 |         |  0    0    1  |
//! ```
//!
//! A 4×4 input tile `d` becomes `V = Bᵀ d B`, a 3×3 kernel `g` becomes `U = G g Gᵀ`, and the 2×2 outputs of the
//! tile are `Y = Aᵀ (U ⊙ V) A`; summed over input channels, `U ⊙ V` is 16 products `V_t · U_t`. Every
//! coefficient is 0, ±1 or ±1/2, so the transforms are additions (and halvings, exact in floating point). The
//! kernel gradient needs the adjoints of the output and kernel transforms, `dM = A dY Aᵀ` and `dg = Gᵀ dU G`.
//! Each loop writes at most four outputs (one row of a transformed tile): with more, LLVM leaves it scalar.

use crate::kernels::per_target::per_target;

/// Elements of a transformed tile.
pub(crate) const TILE: usize = 16;

/// G applied to three values: `(a, (a + b + c) / 2, (a − b + c) / 2, c)`; `I` picks one of the four.
#[inline(always)]
fn g_col<const I: usize>(a: f32, b: f32, c: f32) -> f32 {
    match I {
        0 => a,
        1 => (a + b + c) * 0.5,
        2 => (a - b + c) * 0.5,
        _ => c,
    }
}

/// Row `I` of `U = (G g) Gᵀ` for `n` filters: row `I` of `G g` (three values per filter, from the kernel's
/// columns), then `G`'s four rows. Four outputs per loop, so that it vectorises.
#[inline(always)]
fn kernel_row<const I: usize>(g: &[&[f32]; 9], u: &mut [&mut [f32]], n: usize) {
    let [u0, u1, u2, u3] = u else {
        return;
    };
    let (u0, u1, u2, u3) = (&mut u0[..n], &mut u1[..n], &mut u2[..n], &mut u3[..n]);
    let [g0, g1, g2, g3, g4, g5, g6, g7, g8] = *g;
    let (g0, g1, g2) = (&g0[..n], &g1[..n], &g2[..n]);
    let (g3, g4, g5) = (&g3[..n], &g4[..n], &g5[..n]);
    let (g6, g7, g8) = (&g6[..n], &g7[..n], &g8[..n]);
    for f in 0..n {
        let r0 = g_col::<I>(g0[f], g3[f], g6[f]);
        let r1 = g_col::<I>(g1[f], g4[f], g7[f]);
        let r2 = g_col::<I>(g2[f], g5[f], g8[f]);
        u0[f] = g_col::<0>(r0, r1, r2);
        u1[f] = g_col::<1>(r0, r1, r2);
        u2[f] = g_col::<2>(r0, r1, r2);
        u3[f] = g_col::<3>(r0, r1, r2);
    }
}

per_target! {
/// `U = G g Gᵀ` for `n` consecutive filters: `g[ky · 3 + kx]` holds the 9 taps' rows (at least `n` values
/// each), `u[t]` receives the 16 transformed values (`t = 4 · row + column`).
pub(crate) fn kernel_tile(g: &[&[f32]; 9], u: &mut [&mut [f32]; TILE], n: usize) {
    let (u0, rest) = u.split_at_mut(4);
    let (u1, rest) = rest.split_at_mut(4);
    let (u2, u3) = rest.split_at_mut(4);
    kernel_row::<0>(g, u0, n);
    kernel_row::<1>(g, u1, n);
    kernel_row::<2>(g, u2, n);
    kernel_row::<3>(g, u3, n);
}
}

/// `a + b`, or `a − b` when `NEG`.
#[inline(always)]
fn comb<const NEG: bool>(a: f32, b: f32) -> f32 {
    if NEG { a - b } else { a + b }
}

/// Row `i` of `V = (Bᵀ d) B` (its 4 values per channel into `out`): row `i` of `Bᵀ d` is `p ± q`, with `p` and
/// `q` two rows of the tile (4 slices each), then `B`'s columns.
#[inline(always)]
fn input_row<const NEG: bool>(p: [&[f32]; 4], q: [&[f32]; 4], out: &mut [&mut [f32]], n: usize) {
    let [o0, o1, o2, o3] = out else {
        return;
    };
    let (o0, o1, o2, o3) = (&mut o0[..n], &mut o1[..n], &mut o2[..n], &mut o3[..n]);
    let [p0, p1, p2, p3] = p;
    let [q0, q1, q2, q3] = q;
    let (p0, p1, p2, p3) = (&p0[..n], &p1[..n], &p2[..n], &p3[..n]);
    let (q0, q1, q2, q3) = (&q0[..n], &q1[..n], &q2[..n], &q3[..n]);
    for c in 0..n {
        let r0 = comb::<NEG>(p0[c], q0[c]);
        let r1 = comb::<NEG>(p1[c], q1[c]);
        let r2 = comb::<NEG>(p2[c], q2[c]);
        let r3 = comb::<NEG>(p3[c], q3[c]);
        o0[c] = r0 - r2;
        o1[c] = r1 + r2;
        o2[c] = r2 - r1;
        o3[c] = r1 - r3;
    }
}

per_target! {
/// `V = Bᵀ d B` for `n` consecutive channels: `d[4 · row + column]` holds the tile's 16 input pixels (at least
/// `n` values each; a zero slice outside the image), `v[t]` receives the 16 transformed values.
pub(crate) fn input_tile(d: &[&[f32]; TILE], v: &mut [&mut [f32]; TILE], n: usize) {
    let row = |i: usize| [d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]];
    let (v0, rest) = v.split_at_mut(4);
    let (v1, rest) = rest.split_at_mut(4);
    let (v2, v3) = rest.split_at_mut(4);
    // Bᵀ's rows: d0 − d2, d1 + d2, d2 − d1, d1 − d3.
    input_row::<true>(row(0), row(2), v0, n);
    input_row::<false>(row(1), row(2), v1, n);
    input_row::<true>(row(2), row(1), v2, n);
    input_row::<true>(row(1), row(3), v3, n);
}
}

per_target! {
/// `Y = Aᵀ m A` for `n` consecutive filters plus `bias`, through ReLU when `relu`: `m[t]` holds the 16
/// products' values (at least `n` each), `y` receives the 2×2 outputs in row order (the first `n` values of
/// each).
pub(crate) fn output_tile(
    m: &[&[f32]; TILE],
    bias: &[f32],
    relu: bool,
    y: &mut [&mut [f32]; 4],
    n: usize,
) {
    let [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] = *m;
    let (m0, m1, m2, m3) = (&m0[..n], &m1[..n], &m2[..n], &m3[..n]);
    let (m4, m5, m6, m7) = (&m4[..n], &m5[..n], &m6[..n], &m7[..n]);
    let (m8, m9, m10, m11) = (&m8[..n], &m9[..n], &m10[..n], &m11[..n]);
    let (m12, m13, m14, m15) = (&m12[..n], &m13[..n], &m14[..n], &m15[..n]);
    let bias = &bias[..n];
    let [y00, y01, y10, y11] = y;
    let (y00, y01, y10, y11) = (&mut y00[..n], &mut y01[..n], &mut y10[..n], &mut y11[..n]);
    let finish = |v: f32, b: f32| {
        let v = v + b;
        match relu {
            true if v > 0.0 => v,
            true => 0.0,
            false => v,
        }
    };
    for f in 0..n {
        // Aᵀ's rows: m0 + m1 + m2 and m1 − m2 − m3 (rows of the tile), then its columns.
        let s00 = m0[f] + m4[f] + m8[f];
        let s01 = m1[f] + m5[f] + m9[f];
        let s02 = m2[f] + m6[f] + m10[f];
        let s03 = m3[f] + m7[f] + m11[f];
        let s10 = m4[f] - m8[f] - m12[f];
        let s11 = m5[f] - m9[f] - m13[f];
        let s12 = m6[f] - m10[f] - m14[f];
        let s13 = m7[f] - m11[f] - m15[f];
        y00[f] = finish(s00 + s01 + s02, bias[f]);
        y01[f] = finish(s01 - s02 - s03, bias[f]);
        y10[f] = finish(s10 + s11 + s12, bias[f]);
        y11[f] = finish(s11 - s12 - s13, bias[f]);
    }
}
}

/// A applied to two values: `(p, p + q, p − q, −q)`; `I` picks one of the four.
#[inline(always)]
fn a_col<const I: usize>(p: f32, q: f32) -> f32 {
    match I {
        0 => p,
        1 => p + q,
        2 => p - q,
        _ => -q,
    }
}

/// Row `I` of `dM = (A dY) Aᵀ` for `n` filters from the tile's 2×2 gradients `a b / c d`: row `I` of `A dY`
/// (two values), then `A`'s four rows.
#[inline(always)]
fn output_grad_row<const I: usize>(dy: &[&[f32]; 4], dm: &mut [&mut [f32]], n: usize) {
    let [m0, m1, m2, m3] = dm else {
        return;
    };
    let (m0, m1, m2, m3) = (&mut m0[..n], &mut m1[..n], &mut m2[..n], &mut m3[..n]);
    let [a, b, c, d] = *dy;
    let (a, b, c, d) = (&a[..n], &b[..n], &c[..n], &d[..n]);
    for f in 0..n {
        let p = a_col::<I>(a[f], c[f]);
        let q = a_col::<I>(b[f], d[f]);
        m0[f] = a_col::<0>(p, q);
        m1[f] = a_col::<1>(p, q);
        m2[f] = a_col::<2>(p, q);
        m3[f] = a_col::<3>(p, q);
    }
}

per_target! {
/// The adjoint of the output transform, `dM = A dY Aᵀ`, for `n` consecutive filters: `dy` holds a tile's 2×2
/// output gradients in row order (at least `n` values each; a zero slice past the edge), `dm[t]` receives the
/// 16 values' gradients.
pub(crate) fn output_grad_tile(dy: &[&[f32]; 4], dm: &mut [&mut [f32]; TILE], n: usize) {
    let (m0, rest) = dm.split_at_mut(4);
    let (m1, rest) = rest.split_at_mut(4);
    let (m2, m3) = rest.split_at_mut(4);
    output_grad_row::<0>(dy, m0, n);
    output_grad_row::<1>(dy, m1, n);
    output_grad_row::<2>(dy, m2, n);
    output_grad_row::<3>(dy, m3, n);
}
}

/// Gᵀ applied to four values: `(w0 + (w1 + w2) / 2, (w1 − w2) / 2, (w1 + w2) / 2 + w3)`; `I` picks one.
#[inline(always)]
fn gt_col<const I: usize>(w0: f32, w1: f32, w2: f32, w3: f32) -> f32 {
    match I {
        0 => w0 + (w1 + w2) * 0.5,
        1 => (w1 - w2) * 0.5,
        _ => (w1 + w2) * 0.5 + w3,
    }
}

/// Row `I` of `dg = (Gᵀ dU) G` for `n` filters: row `I` of `Gᵀ dU` (four values, from `dU`'s columns), then
/// `Gᵀ`'s three rows.
#[inline(always)]
fn kernel_grad_row<const I: usize>(du: &[&[f32]; TILE], dg: &mut [&mut [f32]], n: usize) {
    let [g0, g1, g2] = dg else {
        return;
    };
    let (g0, g1, g2) = (&mut g0[..n], &mut g1[..n], &mut g2[..n]);
    let [
        u0,
        u1,
        u2,
        u3,
        u4,
        u5,
        u6,
        u7,
        u8,
        u9,
        u10,
        u11,
        u12,
        u13,
        u14,
        u15,
    ] = *du;
    let (u0, u1, u2, u3) = (&u0[..n], &u1[..n], &u2[..n], &u3[..n]);
    let (u4, u5, u6, u7) = (&u4[..n], &u5[..n], &u6[..n], &u7[..n]);
    let (u8, u9, u10, u11) = (&u8[..n], &u9[..n], &u10[..n], &u11[..n]);
    let (u12, u13, u14, u15) = (&u12[..n], &u13[..n], &u14[..n], &u15[..n]);
    for f in 0..n {
        let r0 = gt_col::<I>(u0[f], u4[f], u8[f], u12[f]);
        let r1 = gt_col::<I>(u1[f], u5[f], u9[f], u13[f]);
        let r2 = gt_col::<I>(u2[f], u6[f], u10[f], u14[f]);
        let r3 = gt_col::<I>(u3[f], u7[f], u11[f], u15[f]);
        g0[f] = gt_col::<0>(r0, r1, r2, r3);
        g1[f] = gt_col::<1>(r0, r1, r2, r3);
        g2[f] = gt_col::<2>(r0, r1, r2, r3);
    }
}

per_target! {
/// The adjoint of the kernel transform, `dg = Gᵀ dU G`, for `n` consecutive filters: `du[t]` holds the 16
/// transformed values' gradients (at least `n` each), `dg[ky · 3 + kx]` receives the 9 taps' gradients.
pub(crate) fn kernel_grad_tile(du: &[&[f32]; TILE], dg: &mut [&mut [f32]; 9], n: usize) {
    let (g0, rest) = dg.split_at_mut(3);
    let (g1, g2) = rest.split_at_mut(3);
    kernel_grad_row::<0>(du, g0, n);
    kernel_grad_row::<1>(du, g1, n);
    kernel_grad_row::<2>(du, g2, n);
}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adjoint transforms against the forward ones: `⟨A dY Aᵀ, M⟩ = ⟨dY, Aᵀ M A⟩` and
    /// `⟨Gᵀ dU G, g⟩ = ⟨dU, G g Gᵀ⟩`.
    #[test]
    fn the_gradient_transforms_are_the_adjoints() {
        let col = |v: &[f32]| -> Vec<Vec<f32>> { v.iter().map(|&x| vec![x]).collect() };
        let m: Vec<f32> = (0..16)
            .map(|i| ((i * 7 % 11) as f32) * 0.25 - 1.0)
            .collect();
        let dy = [0.5f32, -1.25, 2.0, 0.75];
        let (ms, mut y) = (col(&m), vec![vec![0.0f32]; 4]);
        let ms_ref: [&[f32]; TILE] = std::array::from_fn(|i| ms[i].as_slice());
        let mut ys: [&mut [f32]; 4] = {
            let mut it = y.iter_mut();
            std::array::from_fn(|_| it.next().unwrap().as_mut_slice())
        };
        output_tile(&ms_ref, &[0.0], false, &mut ys, 1);
        let mut dm = vec![vec![0.0f32]; TILE];
        let dys: [&[f32]; 4] = std::array::from_fn(|i| &dy[i..i + 1]);
        let mut dms: [&mut [f32]; TILE] = {
            let mut it = dm.iter_mut();
            std::array::from_fn(|_| it.next().unwrap().as_mut_slice())
        };
        output_grad_tile(&dys, &mut dms, 1);
        let lhs: f32 = dm.iter().zip(&m).map(|(a, b)| a[0] * b).sum();
        let rhs: f32 = y.iter().zip(&dy).map(|(a, b)| a[0] * b).sum();
        assert!((lhs - rhs).abs() < 1e-5, "{lhs} vs {rhs}");

        let k: Vec<f32> = (0..9).map(|i| ((i * 4 % 7) as f32) * 0.5 - 1.5).collect();
        let du: Vec<f32> = (0..16).map(|i| ((i * 5 % 9) as f32) * 0.25 - 1.0).collect();
        let (mut u, mut dg) = (vec![vec![0.0f32]; TILE], vec![vec![0.0f32]; 9]);
        let ks: [&[f32]; 9] = std::array::from_fn(|i| &k[i..i + 1]);
        let mut us: [&mut [f32]; TILE] = {
            let mut it = u.iter_mut();
            std::array::from_fn(|_| it.next().unwrap().as_mut_slice())
        };
        kernel_tile(&ks, &mut us, 1);
        let dus: [&[f32]; TILE] = std::array::from_fn(|i| &du[i..i + 1]);
        let mut dgs: [&mut [f32]; 9] = {
            let mut it = dg.iter_mut();
            std::array::from_fn(|_| it.next().unwrap().as_mut_slice())
        };
        kernel_grad_tile(&dus, &mut dgs, 1);
        let lhs: f32 = dg.iter().zip(&k).map(|(a, b)| a[0] * b).sum();
        let rhs: f32 = u.iter().zip(&du).map(|(a, b)| a[0] * b).sum();
        assert!((lhs - rhs).abs() < 1e-5, "{lhs} vs {rhs}");
    }

    /// A 4×4 input tile and a 3×3 kernel through the three transforms give the tile's 2×2 correlation outputs.
    #[test]
    fn one_tile_is_the_correlation() {
        let x: Vec<f32> = (0..16).map(|i| ((i * 5 % 7) as f32) - 2.5).collect();
        let k: Vec<f32> = (0..9).map(|i| ((i * 3 % 5) as f32) * 0.75 - 1.0).collect();
        let mut u = vec![vec![0.0f32; 1]; TILE];
        let g: [&[f32]; 9] = std::array::from_fn(|i| &k[i..i + 1]);
        let mut us: [&mut [f32]; TILE] = {
            let mut it = u.iter_mut();
            std::array::from_fn(|_| it.next().unwrap().as_mut_slice())
        };
        kernel_tile(&g, &mut us, 1);
        let mut v = vec![vec![0.0f32; 1]; TILE];
        let d: [&[f32]; TILE] = std::array::from_fn(|i| &x[i..i + 1]);
        let mut vs: [&mut [f32]; TILE] = {
            let mut it = v.iter_mut();
            std::array::from_fn(|_| it.next().unwrap().as_mut_slice())
        };
        input_tile(&d, &mut vs, 1);
        let prod: Vec<f32> = (0..TILE).map(|t| u[t][0] * v[t][0]).collect();
        let m: [&[f32]; TILE] = std::array::from_fn(|i| &prod[i..i + 1]);
        let mut y = [[0.0f32; 1]; 4];
        let mut ys: [&mut [f32]; 4] = {
            let mut it = y.iter_mut();
            std::array::from_fn(|_| it.next().unwrap().as_mut_slice())
        };
        output_tile(&m, &[0.5], false, &mut ys, 1);
        for (i, (oy, ox)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
            let mut want = 0.5f64;
            for ky in 0..3 {
                for kx in 0..3 {
                    want += f64::from(x[(oy + ky) * 4 + ox + kx]) * f64::from(k[ky * 3 + kx]);
                }
            }
            assert!(
                (f64::from(y[i][0]) - want).abs() < 1e-5,
                "{i}: {} vs {want}",
                y[i][0]
            );
        }
    }
}
