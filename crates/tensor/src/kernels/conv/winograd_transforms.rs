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
//! coefficient is 0, ±1 or ±1/2, so the transforms are additions (and halvings, exact in floating point).

use crate::kernels::per_target::per_target;

/// Elements of a transformed tile.
pub(crate) const TILE: usize = 16;

per_target! {
/// `U = G g Gᵀ` for `n` consecutive filters: `g[ky · 3 + kx]` holds the 9 taps' rows (at least `n` values
/// each), `u[t]` receives the 16 transformed values (`t = 4 · row + column`).
pub(crate) fn kernel_tile(g: &[&[f32]; 9], u: &mut [&mut [f32]; TILE], n: usize) {
    // One loop over the filters on named slices, so that it vectorises.
    let [g0, g1, g2, g3, g4, g5, g6, g7, g8] = *g;
    let (g0, g1, g2) = (&g0[..n], &g1[..n], &g2[..n]);
    let (g3, g4, g5) = (&g3[..n], &g4[..n], &g5[..n]);
    let (g6, g7, g8) = (&g6[..n], &g7[..n], &g8[..n]);
    let [u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15] = u;
    let (u0, u1, u2, u3) = (&mut u0[..n], &mut u1[..n], &mut u2[..n], &mut u3[..n]);
    let (u4, u5, u6, u7) = (&mut u4[..n], &mut u5[..n], &mut u6[..n], &mut u7[..n]);
    let (u8, u9, u10, u11) = (&mut u8[..n], &mut u9[..n], &mut u10[..n], &mut u11[..n]);
    let (u12, u13, u14, u15) = (&mut u12[..n], &mut u13[..n], &mut u14[..n], &mut u15[..n]);
    // G applied to three values: (a, (a + b + c) / 2, (a − b + c) / 2, c).
    let g_col = |a: f32, b: f32, c: f32| (a, (a + b + c) * 0.5, (a - b + c) * 0.5, c);
    for f in 0..n {
        // Columns of G g (4 × 3), then the rows of (G g) Gᵀ (4 × 4).
        let (r00, r10, r20, r30) = g_col(g0[f], g3[f], g6[f]);
        let (r01, r11, r21, r31) = g_col(g1[f], g4[f], g7[f]);
        let (r02, r12, r22, r32) = g_col(g2[f], g5[f], g8[f]);
        (u0[f], u1[f], u2[f], u3[f]) = g_col(r00, r01, r02);
        (u4[f], u5[f], u6[f], u7[f]) = g_col(r10, r11, r12);
        (u8[f], u9[f], u10[f], u11[f]) = g_col(r20, r21, r22);
        (u12[f], u13[f], u14[f], u15[f]) = g_col(r30, r31, r32);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
