//! The fused batch-normalization kernel against a naive `f64` reference (statistics, training and inference
//! outputs, gradients), against central finite differences of its own forward pass, and bit-identical on one
//! and two threads.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::Initializer;
use rkeras_tensor::kernels::Parallelism;
use rkeras_tensor::kernels::batch_norm::{
    BatchNormGrads, ROWS_PER_BLOCK, batch_norm_backward, batch_norm_forward, batch_norm_statistics,
};

mod support;
use support::two_threads;

fn values(len: usize, seed: u64, min: f32, max: f32) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    Initializer::RandomUniform { min, max }
        .sample(&[len], &mut rng)
        .unwrap()
        .into_raw_vec_and_offset()
        .0
}

/// (rows, channels): one block, a partial block, several blocks with a partial last one.
const SHAPES: [(usize, usize); 4] = [(4, 3), (37, 5), (3 * ROWS_PER_BLOCK + 17, 8), (700, 64)];
const EPS: f32 = 1e-3;

struct Reference {
    mean: Vec<f64>,
    var: Vec<f64>,
}

fn reference_stats(x: &[f32], channels: usize) -> Reference {
    let rows = x.len() / channels;
    let mut mean = vec![0.0; channels];
    let mut var = vec![0.0; channels];
    for c in 0..channels {
        let col: Vec<f64> = (0..rows).map(|r| f64::from(x[r * channels + c])).collect();
        mean[c] = col.iter().sum::<f64>() / rows as f64;
        var[c] = col.iter().map(|v| (v - mean[c]).powi(2)).sum::<f64>() / rows as f64;
    }
    Reference { mean, var }
}

/// `y = (x − mean)/sqrt(var + eps)·gamma + beta` in `f64`.
fn reference_forward(
    x: &[f32],
    mean: &[f64],
    var: &[f64],
    gamma: &[f32],
    beta: &[f32],
) -> Vec<f64> {
    let channels = mean.len();
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = i % channels;
            (f64::from(v) - mean[c]) / (var[c] + f64::from(EPS)).sqrt() * f64::from(gamma[c])
                + f64::from(beta[c])
        })
        .collect()
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

struct Case {
    x: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    dy: Vec<f32>,
    channels: usize,
}

fn case(n: usize) -> Case {
    let (rows, channels) = SHAPES[n];
    let seed = 10 * n as u64;
    // An offset and spread per channel, as real activations have.
    let x = values(rows * channels, seed, -1.0, 1.0)
        .iter()
        .enumerate()
        .map(|(i, v)| v * (1.0 + (i % channels) as f32) + 3.0 - (i % channels) as f32)
        .collect();
    Case {
        x,
        gamma: values(channels, seed + 1, 0.5, 1.5),
        beta: values(channels, seed + 2, -0.5, 0.5),
        dy: values(rows * channels, seed + 3, -1.0, 1.0),
        channels,
    }
}

fn forward(c: &Case, par: Parallelism) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (mean, var) = batch_norm_statistics(&c.x, c.channels, par).unwrap();
    let mut y = vec![f32::NAN; c.x.len()];
    batch_norm_forward(
        &c.x,
        &mut y,
        &mean,
        &var,
        Some(&c.gamma),
        Some(&c.beta),
        EPS,
        par,
    )
    .unwrap();
    (mean, var, y)
}

fn backward(c: &Case, par: Parallelism) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (mean, var, _) = forward(c, par);
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
    batch_norm_backward(&c.x, &c.dy, &mean, &var, Some(&c.gamma), EPS, grads, par).unwrap();
    (dx, dg, db)
}

#[test]
fn statistics_and_outputs_match_the_f64_reference() {
    for n in 0..SHAPES.len() {
        let c = case(n);
        let r = reference_stats(&c.x, c.channels);
        let (mean, var, y) = forward(&c, Parallelism::None);
        assert_close(&mean, &r.mean, 1e-6, "mean");
        assert_close(&var, &r.var, 1e-6, "var");
        assert_close(
            &y,
            &reference_forward(&c.x, &r.mean, &r.var, &c.gamma, &c.beta),
            1e-5,
            "y",
        );
        // Inference: the moving statistics given, not the batch's.
        let (moving_mean, moving_var) = (
            values(c.channels, 5, -1.0, 1.0),
            values(c.channels, 6, 0.5, 2.0),
        );
        let mut y = vec![f32::NAN; c.x.len()];
        batch_norm_forward(
            &c.x,
            &mut y,
            &moving_mean,
            &moving_var,
            Some(&c.gamma),
            Some(&c.beta),
            EPS,
            Parallelism::Rayon(0),
        )
        .unwrap();
        let widen = |v: &[f32]| v.iter().map(|&v| f64::from(v)).collect::<Vec<_>>();
        let want = reference_forward(
            &c.x,
            &widen(&moving_mean),
            &widen(&moving_var),
            &c.gamma,
            &c.beta,
        );
        assert_close(&y, &want, 1e-5, "inference y");
    }
}

#[test]
fn without_gamma_and_beta_the_output_is_standardized() {
    let c = case(1);
    let (mean, var) = batch_norm_statistics(&c.x, c.channels, Parallelism::None).unwrap();
    let mut y = vec![0.0; c.x.len()];
    batch_norm_forward(
        &c.x,
        &mut y,
        &mean,
        &var,
        None,
        None,
        0.0,
        Parallelism::None,
    )
    .unwrap();
    let r = reference_stats(&y, c.channels);
    assert_close(
        &mean_f32(&r.mean),
        &vec![0.0; c.channels],
        1e-5,
        "mean of y",
    );
    assert_close(&mean_f32(&r.var), &vec![1.0; c.channels], 1e-5, "var of y");
}

fn mean_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&v| v as f32).collect()
}

#[test]
fn gradients_match_the_reference_formula_and_finite_differences() {
    for n in 0..SHAPES.len() {
        let c = case(n);
        let (dx, dg, db) = backward(&c, Parallelism::None);
        // Reference in f64: dbeta = Σdy, dgamma = Σdy·x̂, dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)).
        let r = reference_stats(&c.x, c.channels);
        let rows = c.x.len() / c.channels;
        let xhat: Vec<f64> =
            c.x.iter()
                .enumerate()
                .map(|(i, &v)| {
                    let ch = i % c.channels;
                    (f64::from(v) - r.mean[ch]) / (r.var[ch] + f64::from(EPS)).sqrt()
                })
                .collect();
        let mut sdy = vec![0.0; c.channels];
        let mut sdyx = vec![0.0; c.channels];
        for (i, &d) in c.dy.iter().enumerate() {
            sdy[i % c.channels] += f64::from(d);
            sdyx[i % c.channels] += f64::from(d) * xhat[i];
        }
        assert_close(&db, &sdy, 1e-5, "dbeta");
        assert_close(&dg, &sdyx, 1e-4, "dgamma");
        let want: Vec<f64> = (0..c.x.len())
            .map(|i| {
                let ch = i % c.channels;
                f64::from(c.gamma[ch]) / (r.var[ch] + f64::from(EPS)).sqrt()
                    * (f64::from(c.dy[i])
                        - sdy[ch] / rows as f64
                        - xhat[i] * sdyx[ch] / rows as f64)
            })
            .collect();
        assert_close(&dx, &want, 1e-4, "dx");
    }
    // Central differences of L = Σ dy·y through the kernel's own forward pass (statistics included).
    let mut c = case(1);
    let loss = |c: &Case| -> f64 {
        let (_, _, y) = forward(c, Parallelism::None);
        y.iter()
            .zip(&c.dy)
            .map(|(&y, &d)| f64::from(y) * f64::from(d))
            .sum()
    };
    let (dx, dg, db) = backward(&c, Parallelism::None);
    let h = 1e-2f32;
    let numeric = |c: &mut Case, which: usize, i: usize| -> f64 {
        fn get(c: &mut Case, which: usize, i: usize) -> &mut f32 {
            match which {
                0 => &mut c.x[i],
                1 => &mut c.gamma[i],
                _ => &mut c.beta[i],
            }
        }
        let v = *get(c, which, i);
        *get(c, which, i) = v + h;
        let up = loss(c);
        *get(c, which, i) = v - h;
        let down = loss(c);
        *get(c, which, i) = v;
        (up - down) / (2.0 * f64::from(h))
    };
    for i in (0..c.x.len()).step_by(7) {
        let num = numeric(&mut c, 0, i);
        assert!(
            (f64::from(dx[i]) - num).abs() < 2e-2 * (1.0 + num.abs()),
            "dx[{i}]: {} vs {num}",
            dx[i]
        );
    }
    for i in 0..c.channels {
        let num = numeric(&mut c, 1, i);
        assert!(
            (f64::from(dg[i]) - num).abs() < 2e-2 * (1.0 + num.abs()),
            "dgamma[{i}]"
        );
        let num = numeric(&mut c, 2, i);
        assert!(
            (f64::from(db[i]) - num).abs() < 2e-2 * (1.0 + num.abs()),
            "dbeta[{i}]"
        );
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn one_and_two_threads_are_bit_identical() {
    for (n, shape) in SHAPES.iter().enumerate() {
        let c = case(n);
        let run = |par| {
            let (mean, var, y) = forward(&c, par);
            let (dx, dg, db) = backward(&c, par);
            [mean, var, y, dx, dg, db].map(|v| bits(&v))
        };
        let serial = run(Parallelism::None);
        assert_eq!(
            two_threads(|| run(Parallelism::Rayon(0))),
            serial,
            "shape {shape:?}"
        );
    }
}

#[test]
fn mismatched_lengths_are_typed_errors() {
    let x = [0.0f32; 6];
    assert!(batch_norm_statistics(&x, 4, Parallelism::None).is_err());
    assert!(batch_norm_statistics(&x, 0, Parallelism::None).is_err());
    let mut y = [0.0f32; 5];
    let err = batch_norm_forward(
        &x,
        &mut y,
        &[0.0; 3],
        &[1.0; 3],
        None,
        None,
        EPS,
        Parallelism::None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("out"), "{err}");
    let mut y = [0.0f32; 6];
    assert!(
        batch_norm_forward(
            &x,
            &mut y,
            &[0.0; 3],
            &[1.0; 2],
            None,
            None,
            EPS,
            Parallelism::None
        )
        .is_err()
    );
}
