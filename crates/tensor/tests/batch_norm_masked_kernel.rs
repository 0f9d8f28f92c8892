//! The masked-statistics and inference batch-normalization kernels against a naive `f64` reference: the
//! statistics directly, the gradients as central differences of the reference's own `f64` loss; and
//! bit-identical on one and two threads.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::Initializer;
use rkeras_tensor::kernels::Parallelism;
use rkeras_tensor::kernels::batch_norm::{
    BatchNormGrads, MASK_EPSILON, ROWS_PER_BLOCK, batch_norm_forward,
    batch_norm_inference_backward, batch_norm_masked_backward, batch_norm_masked_statistics,
};

const EPS: f32 = 1e-3;

fn values(len: usize, seed: u64, min: f32, max: f32) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    Initializer::RandomUniform { min, max }
        .sample(&[len], &mut rng)
        .unwrap()
        .into_raw_vec_and_offset()
        .0
}

struct Case {
    x: Vec<f32>,
    mask: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    dy: Vec<f32>,
    channels: usize,
}

/// `rows × channels` values with an offset per channel; every third row (and the first) masked.
fn case(rows: usize, channels: usize, seed: u64) -> Case {
    let x = values(rows * channels, seed, -1.0, 1.0)
        .iter()
        .enumerate()
        .map(|(i, v)| v * (1.0 + (i % channels) as f32) + 2.0 - (i % channels) as f32)
        .collect();
    Case {
        x,
        mask: (0..rows)
            .map(|r| if r % 3 == 0 { 0.0 } else { 1.0 })
            .collect(),
        gamma: values(channels, seed + 1, 0.5, 1.5),
        beta: values(channels, seed + 2, -0.5, 0.5),
        dy: values(rows * channels, seed + 3, -1.0, 1.0),
        channels,
    }
}

/// Keras's masked moments in `f64`: `Σ kept x / (kept + 1e-7)`, `Σ kept (x − mean)² / (kept + 1e-7)`.
fn reference_stats(x: &[f64], mask: &[f32], channels: usize) -> (Vec<f64>, Vec<f64>) {
    let kept: Vec<usize> = (0..mask.len()).filter(|&r| mask[r] != 0.0).collect();
    let n = kept.len() as f64 + MASK_EPSILON;
    let mean: Vec<f64> = (0..channels)
        .map(|c| kept.iter().map(|r| x[r * channels + c]).sum::<f64>() / n)
        .collect();
    let var = (0..channels)
        .map(|c| {
            kept.iter()
                .map(|r| (x[r * channels + c] - mean[c]).powi(2))
                .sum::<f64>()
                / n
        })
        .collect();
    (mean, var)
}

/// `L = Σ dy·y` in `f64`, with the masked batch statistics or `fixed` ones.
fn reference_loss(
    c: &Case,
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    fixed: Option<(&[f64], &[f64])>,
) -> f64 {
    let (mean, var) = match fixed {
        Some((m, v)) => (m.to_vec(), v.to_vec()),
        None => reference_stats(x, &c.mask, c.channels),
    };
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let ch = i % c.channels;
            let y = (v - mean[ch]) / (var[ch] + f64::from(EPS)).sqrt() * gamma[ch] + beta[ch];
            y * f64::from(c.dy[i])
        })
        .sum()
}

/// Central differences of [`reference_loss`] for x, gamma and beta.
fn reference_grads(c: &Case, fixed: Option<(&[f64], &[f64])>) -> [Vec<f64>; 3] {
    let widen = |v: &[f32]| v.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
    let mut params = [widen(&c.x), widen(&c.gamma), widen(&c.beta)];
    let h = 1e-5;
    let mut grads = [vec![], vec![], vec![]];
    for which in 0..3 {
        for i in 0..params[which].len() {
            let v = params[which][i];
            let mut at = |delta: f64| {
                params[which][i] = v + delta;
                let l = reference_loss(c, &params[0], &params[1], &params[2], fixed);
                params[which][i] = v;
                l
            };
            let g = (at(h) - at(-h)) / (2.0 * h);
            grads[which].push(g);
        }
    }
    grads
}

fn assert_close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(g) - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

type Grads = [Vec<f32>; 3];

fn kernel_grads(c: &Case, fixed: Option<(&[f32], &[f32])>, par: Parallelism) -> (Grads, Grads) {
    let (mean, var) = match fixed {
        Some((m, v)) => (m.to_vec(), v.to_vec()),
        None => batch_norm_masked_statistics(&c.x, &c.mask, c.channels, par).unwrap(),
    };
    let mut y = vec![f32::NAN; c.x.len()];
    let (g, b) = (Some(&c.gamma[..]), Some(&c.beta[..]));
    batch_norm_forward(&c.x, &mut y, &mean, &var, g, b, EPS, par).unwrap();
    let (mut dx, mut dg, mut db) = (
        vec![f32::NAN; c.x.len()],
        vec![f32::NAN; c.channels],
        vec![f32::NAN; c.channels],
    );
    let grads = BatchNormGrads {
        input: Some(&mut dx),
        gamma: Some(&mut dg),
        beta: Some(&mut db),
    };
    if fixed.is_some() {
        batch_norm_inference_backward(&c.x, &c.dy, &mean, &var, g, EPS, grads, par).unwrap();
    } else {
        batch_norm_masked_backward(&c.x, &c.dy, &mean, &var, g, EPS, &c.mask, grads, par).unwrap();
    }
    ([mean, var, y], [dx, dg, db])
}

#[test]
fn masked_statistics_cover_the_kept_rows_only() {
    for (rows, channels) in [(7, 3), (40, 5)] {
        let c = case(rows, channels, rows as u64);
        let (mean, var) =
            batch_norm_masked_statistics(&c.x, &c.mask, channels, Parallelism::None).unwrap();
        let x: Vec<f64> = c.x.iter().map(|&v| f64::from(v)).collect();
        let (want_mean, want_var) = reference_stats(&x, &c.mask, channels);
        assert_close(&mean, &want_mean, 1e-6, "mean");
        assert_close(&var, &want_var, 1e-6, "var");
    }
    // A masked row's values do not matter; all rows masked gives zeros.
    let x = [1.0f32, 2.0, 1e6, 3.0];
    let (mean, var) =
        batch_norm_masked_statistics(&x, &[1.0, 1.0, 0.0, 1.0], 1, Parallelism::None).unwrap();
    assert!((mean[0] - 2.0).abs() < 1e-6 && (var[0] - 2.0 / 3.0).abs() < 1e-6);
    assert_eq!(
        batch_norm_masked_statistics(&x, &[0.0; 4], 1, Parallelism::None).unwrap(),
        (vec![0.0], vec![0.0])
    );
    assert!(batch_norm_masked_statistics(&x, &[1.0; 3], 1, Parallelism::None).is_err());
}

#[test]
fn masked_and_inference_gradients_match_the_reference() {
    for (rows, channels) in [(7, 3), (40, 5)] {
        let c = case(rows, channels, 3 * rows as u64);
        let (_, [dx, dg, db]) = kernel_grads(&c, None, Parallelism::None);
        let [wx, wg, wb] = reference_grads(&c, None);
        assert_close(&dx, &wx, 1e-4, "masked dx");
        assert_close(&dg, &wg, 1e-4, "masked dgamma");
        assert_close(&db, &wb, 1e-4, "masked dbeta");
        let (mean, var) = (
            values(channels, 5, -1.0, 1.0),
            values(channels, 6, 0.5, 2.0),
        );
        let (_, [dx, dg, db]) = kernel_grads(&c, Some((&mean, &var)), Parallelism::None);
        let widen = |v: &[f32]| v.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
        let [wx, wg, wb] = reference_grads(&c, Some((&widen(&mean), &widen(&var))));
        assert_close(&dx, &wx, 1e-4, "inference dx");
        assert_close(&dg, &wg, 1e-4, "inference dgamma");
        assert_close(&db, &wb, 1e-4, "inference dbeta");
    }
}

#[test]
fn masked_and_inference_kernels_are_bit_identical_on_one_and_two_threads() {
    let c = case(3 * ROWS_PER_BLOCK + 17, 8, 9);
    let (mean, var) = (values(8, 5, -1.0, 1.0), values(8, 6, 0.5, 2.0));
    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    for fixed in [None, Some((&mean[..], &var[..]))] {
        let run = |par| {
            let (out, grads) = kernel_grads(&c, fixed, par);
            out.iter()
                .chain(&grads)
                .map(|v| bits(v))
                .collect::<Vec<_>>()
        };
        let serial = run(Parallelism::None);
        let parallel = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(|| run(Parallelism::Rayon(0)));
        assert_eq!(parallel, serial);
    }
}
