//! Adadelta's update over contiguous slices, compiled per x86-64 level (chosen at run time): the loop's
//! square roots and divisions run on 16 or 8 lanes instead of SSE2's 4. The coefficients are plain parameters,
//! not a closure's captures, so the compiled loop keeps them in registers. Each element gets the same
//! operations in the same order as [`update_one`] (no fused multiply-adds), so every target gives the same bits.

use multiversion::multiversion;

/// Adadelta's coefficients for one step, as `f32`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Coefficients {
    pub(crate) learning_rate: f32,
    pub(crate) rho: f32,
    pub(crate) one_minus_rho: f32,
    pub(crate) epsilon: f32,
}

/// One element: `ag ← rho·ag + (1 − rho)·g²`, `delta = −sqrt(ad + ε)·g / sqrt(ag + ε)`,
/// `ad ← rho·ad + (1 − rho)·delta²`, `w ← w + lr·delta`.
#[inline(always)]
pub(crate) fn update_one(w: &mut f32, g: f32, ag: &mut f32, ad: &mut f32, c: Coefficients) {
    *ag = c.rho * *ag + c.one_minus_rho * (g * g);
    let delta = -((*ad + c.epsilon).sqrt() * g) / (*ag + c.epsilon).sqrt();
    *ad = c.rho * *ad + c.one_minus_rho * (delta * delta);
    *w += c.learning_rate * delta;
}

/// [`update_one`] for every element of equally long slices.
#[multiversion(targets = "simd")]
pub(crate) fn update(w: &mut [f32], g: &[f32], ag: &mut [f32], ad: &mut [f32], c: Coefficients) {
    let n = w.len().min(g.len()).min(ag.len()).min(ad.len());
    let (w, g, ag, ad) = (&mut w[..n], &g[..n], &mut ag[..n], &mut ad[..n]);
    for i in 0..n {
        update_one(&mut w[i], g[i], &mut ag[i], &mut ad[i], c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorised loop gives, bit for bit, the element-by-element update (odd lengths leave a tail).
    #[test]
    fn the_compiled_loop_is_the_element_update_bit_for_bit() {
        let c = Coefficients {
            learning_rate: 1.0,
            rho: 0.95,
            one_minus_rho: (1.0 - 0.95f64) as f32,
            epsilon: 1e-7,
        };
        let n = 1037;
        let v = |seed: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7 + seed * 13) as f32 * 0.37).sin() * scale)
                .collect()
        };
        let (mut w, g) = (v(1, 0.5), v(2, 0.01));
        let (mut ag, mut ad) = (v(3, 1e-4), v(4, 1e-6));
        ag.iter_mut()
            .chain(ad.iter_mut())
            .for_each(|x| *x = x.abs());
        let (mut w1, mut ag1, mut ad1) = (w.clone(), ag.clone(), ad.clone());
        for i in 0..n {
            update_one(&mut w1[i], g[i], &mut ag1[i], &mut ad1[i], c);
        }
        update(&mut w, &g, &mut ag, &mut ad, c);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&w), bits(&w1));
        assert_eq!(bits(&ag), bits(&ag1));
        assert_eq!(bits(&ad), bits(&ad1));
        // And the formula by hand for one element: ag = 0.05·4, delta = −sqrt(ε)·2/sqrt(ag + ε).
        let (mut w, mut ag, mut ad) = ([1.0f32], [0.0f32], [0.0f32]);
        update(&mut w, &[2.0], &mut ag, &mut ad, c);
        let delta = -(1e-7f64).sqrt() * 2.0 / (0.2f64 + 1e-7).sqrt();
        assert!((f64::from(w[0]) - (1.0 + delta)).abs() < 1e-6);
        assert!((f64::from(ag[0]) - 0.2).abs() < 1e-7);
    }
}
