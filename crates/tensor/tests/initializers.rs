//! Every Keras 3 initializer checked by its moments on large draws (mean and variance within statistical
//! tolerance, bounds), its shape, orthogonality, the conv-kernel fans, seeding and Keras's argument errors.

use ndarray::{ArrayD, Ix2};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::Initializer;
use rkeras_tensor::init::{FanMode, ScalingDistribution, TRUNCATED_NORMAL_STDDEV, compute_fans};

fn draw(init: Initializer, shape: &[usize], seed: u64) -> ArrayD<f32> {
    let w = init
        .sample(shape, &mut StdRng::seed_from_u64(seed))
        .unwrap();
    assert_eq!(w.shape(), shape, "{init:?}");
    w
}

fn moments(w: &ArrayD<f32>) -> (f64, f64) {
    let n = w.len() as f64;
    let mean = w.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = w
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var)
}

/// Mean within 5 standard errors of `mean`, variance within 3% of `var`, all values within `bound` of the
/// mean when given.
fn assert_moments(init: Initializer, shape: &[usize], mean: f64, var: f64, bound: Option<f64>) {
    let w = draw(init, shape, 17);
    let (m, v) = moments(&w);
    let n = w.len() as f64;
    assert!(
        (m - mean).abs() < 5.0 * (var / n).sqrt(),
        "{init:?}: mean {m}, expected {mean}"
    );
    assert!(
        (v / var - 1.0).abs() < 0.03,
        "{init:?}: variance {v}, expected {var}"
    );
    if let Some(bound) = bound {
        let worst = w
            .iter()
            .map(|&x| (f64::from(x) - mean).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= bound * (1.0 + 1e-6),
            "{init:?}: |x| {worst} > {bound}"
        );
        // The bound is reached: the draws fill the interval.
        assert!(worst > 0.95 * bound, "{init:?}: |x| {worst} ≪ {bound}");
    }
}

#[test]
fn variance_scaling_family_has_keras_moments_and_bounds() {
    // A dense kernel 300 → 500: fan_in 300, fan_out 500, fan_avg 400; 150 000 draws.
    let shape = [300usize, 500];
    let (fan_in, fan_out, fan_avg) = (300.0f64, 500.0, 400.0);
    let cases = [
        (Initializer::GlorotUniform, 1.0 / fan_avg, true),
        (Initializer::GlorotNormal, 1.0 / fan_avg, false),
        (Initializer::HeUniform, 2.0 / fan_in, true),
        (Initializer::HeNormal, 2.0 / fan_in, false),
        (Initializer::LecunUniform, 1.0 / fan_in, true),
        (Initializer::LecunNormal, 1.0 / fan_in, false),
    ];
    for (init, var, is_uniform) in cases {
        // Uniform on ±sqrt(3·var); truncated normal at 2σ with σ = sqrt(var)/0.8796…
        let bound = if is_uniform {
            (3.0 * var).sqrt()
        } else {
            2.0 * var.sqrt() / TRUNCATED_NORMAL_STDDEV
        };
        assert_moments(init, &shape, 0.0, var, Some(bound));
    }
    for mode in [FanMode::FanIn, FanMode::FanOut, FanMode::FanAvg] {
        let fan = match mode {
            FanMode::FanIn => fan_in,
            FanMode::FanOut => fan_out,
            FanMode::FanAvg => fan_avg,
        };
        for distribution in [
            ScalingDistribution::TruncatedNormal,
            ScalingDistribution::Uniform,
            ScalingDistribution::UntruncatedNormal,
        ] {
            let init = Initializer::VarianceScaling {
                scale: 3.0,
                mode,
                distribution,
            };
            let var = 3.0 / fan;
            let bound = match distribution {
                ScalingDistribution::TruncatedNormal => {
                    Some(2.0 * var.sqrt() / TRUNCATED_NORMAL_STDDEV)
                }
                ScalingDistribution::Uniform => Some((3.0 * var).sqrt()),
                ScalingDistribution::UntruncatedNormal => None,
            };
            assert_moments(init, &shape, 0.0, var, bound);
        }
    }
    // The untruncated normal does go beyond 2σ (about 4.6% of draws), the truncated one never does.
    let var = 3.0 / fan_in;
    let w = draw(
        Initializer::VarianceScaling {
            scale: 3.0,
            mode: FanMode::FanIn,
            distribution: ScalingDistribution::UntruncatedNormal,
        },
        &shape,
        3,
    );
    let beyond = w
        .iter()
        .filter(|&&x| f64::from(x).abs() > 2.0 * var.sqrt())
        .count();
    let share = beyond as f64 / w.len() as f64;
    assert!((share - 0.0455).abs() < 0.003, "share beyond 2σ {share}");
}

#[test]
fn random_and_truncated_normal_and_uniform_moments() {
    let shape = [200_000usize];
    assert_moments(
        Initializer::RandomNormal {
            mean: 1.0,
            stddev: 0.5,
        },
        &shape,
        1.0,
        0.25,
        None,
    );
    // Keras's TruncatedNormal: σ is the normal's before truncation, so the variance is (0.8796·σ)².
    let truncated_var = (0.5 * TRUNCATED_NORMAL_STDDEV).powi(2);
    assert_moments(
        Initializer::TruncatedNormal {
            mean: -1.0,
            stddev: 0.5,
        },
        &shape,
        -1.0,
        truncated_var,
        Some(1.0),
    );
    // Uniform on [-0.2, 0.6): mean 0.2, variance 0.8²/12.
    assert_moments(
        Initializer::RandomUniform {
            min: -0.2,
            max: 0.6,
        },
        &shape,
        0.2,
        0.64 / 12.0,
        Some(0.4),
    );
}

#[test]
fn conv_kernel_fans_count_the_receptive_field() {
    // A Conv2D kernel 3×3, 16 → 32 channels: fan_in 144, fan_out 288.
    assert_eq!(compute_fans(&[3, 3, 16, 32]), (144, 288));
    assert_moments(
        Initializer::HeNormal,
        &[3, 3, 16, 32 * 20],
        0.0,
        2.0 / 144.0,
        None,
    );
    assert_moments(
        Initializer::VarianceScaling {
            scale: 1.0,
            mode: FanMode::FanOut,
            distribution: ScalingDistribution::Uniform,
        },
        &[5, 40, 400],
        0.0,
        1.0 / (5.0 * 400.0),
        Some((3.0f64 / 2000.0).sqrt()),
    );
}

#[test]
fn orthogonal_with_gain_and_identity() {
    for shape in [vec![64usize, 16], vec![16, 64], vec![3, 4, 12]] {
        let w = draw(Initializer::Orthogonal { gain: 2.0 }, &shape, 5);
        let cols = *shape.last().unwrap();
        let rows = w.len() / cols;
        let w = w
            .into_shape_with_order((rows, cols))
            .unwrap()
            .into_dimensionality::<Ix2>()
            .unwrap()
            .mapv(f64::from);
        let gram = if w.nrows() >= w.ncols() {
            w.t().dot(&w)
        } else {
            w.dot(&w.t())
        };
        for ((i, j), v) in gram.indexed_iter() {
            let expected = if i == j { 4.0 } else { 0.0 };
            assert!((v - expected).abs() < 1e-4, "{shape:?} gram[{i},{j}] = {v}");
        }
    }
    let eye = draw(Initializer::Identity { gain: 0.5 }, &[2, 3], 0);
    assert_eq!(
        eye.iter().copied().collect::<Vec<_>>(),
        [0.5, 0.0, 0.0, 0.0, 0.5, 0.0]
    );
}

#[test]
fn seeded_draws_repeat_and_differ_across_seeds() {
    for init in [
        Initializer::HeNormal,
        Initializer::LecunUniform,
        Initializer::TruncatedNormal {
            mean: 0.0,
            stddev: 0.05,
        },
        Initializer::Orthogonal { gain: 1.0 },
    ] {
        assert_eq!(draw(init, &[7, 9], 1), draw(init, &[7, 9], 1), "{init:?}");
        assert_ne!(draw(init, &[7, 9], 1), draw(init, &[7, 9], 2), "{init:?}");
    }
}

#[test]
fn bad_arguments_are_keras_errors_echoing_the_value() {
    let mut rng = StdRng::seed_from_u64(0);
    let cases = [
        (
            Initializer::VarianceScaling {
                scale: -1.0,
                mode: FanMode::FanIn,
                distribution: ScalingDistribution::Uniform,
            },
            vec![2usize, 2],
            "Argument `scale` must be positive float. Received: scale=-1",
        ),
        (
            Initializer::Identity { gain: 1.0 },
            vec![2, 2, 2],
            "Received: shape=[2, 2, 2] of rank 3",
        ),
        (
            Initializer::Orthogonal { gain: 1.0 },
            vec![4],
            "must be at least two-dimensional",
        ),
        (
            Initializer::RandomNormal {
                mean: 0.0,
                stddev: -1.0,
            },
            vec![2],
            "stddev=-1",
        ),
        (
            Initializer::TruncatedNormal {
                mean: 0.0,
                stddev: f32::NAN,
            },
            vec![2],
            "stddev=NaN",
        ),
    ];
    for (init, shape, words) in cases {
        let err = init.sample(&shape, &mut rng).unwrap_err().to_string();
        assert!(err.contains(words), "{init:?}: {err}");
    }
    assert!(
        ScalingDistribution::from_name("gaussian")
            .unwrap_err()
            .to_string()
            .contains("Received: distribution=gaussian")
    );
    assert_eq!(
        ScalingDistribution::from_name("Normal").unwrap(),
        ScalingDistribution::TruncatedNormal
    );
}
