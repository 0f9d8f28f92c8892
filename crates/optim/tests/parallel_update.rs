//! A large update step spreads its parameters over threads; the result must not depend on how many.

use ndarray::{ArrayD, IxDyn};
use rkeras_optim::{AdamConfig, Optimizer, RMSpropConfig};

/// An array of `shape` with deterministic values in [−scale, scale), different for each `seed`.
fn filled(shape: &[usize], seed: usize, scale: f32) -> ArrayD<f32> {
    let mut n = 0;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        n += 1;
        scale * ((((seed * 7919 + n * 104_729) % 2003) as f32 / 1001.5) - 1.0)
    })
}

/// Parameters and gradients with more elements than the parallel threshold, in several parameters of
/// different sizes.
fn problem() -> (Vec<ArrayD<f32>>, Vec<Vec<ArrayD<f32>>>) {
    let shapes: [&[usize]; 4] = [&[132, 128], &[32, 128], &[128], &[22, 64]];
    let params = shapes
        .iter()
        .enumerate()
        .map(|(k, s)| filled(s, k, 1.0))
        .collect();
    let steps = (0..3)
        .map(|step| {
            shapes
                .iter()
                .enumerate()
                .map(|(k, s)| filled(s, 100 * step + k + 1, 0.1))
                .collect()
        })
        .collect();
    (params, steps)
}

fn train(mut optimizer: Box<dyn Optimizer>, threads: usize) -> Vec<ArrayD<f32>> {
    let (mut params, steps) = problem();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        for grads in &steps {
            let mut refs: Vec<&mut ArrayD<f32>> = params.iter_mut().collect();
            let grad_refs: Vec<&ArrayD<f32>> = grads.iter().collect();
            optimizer.apply_gradients(&mut refs, &grad_refs).unwrap();
        }
    });
    assert_eq!(optimizer.iterations(), 3);
    params
}

fn bits(params: &[ArrayD<f32>]) -> Vec<u32> {
    params
        .iter()
        .flat_map(|p| p.iter().map(|v| v.to_bits()))
        .collect()
}

#[test]
fn rmsprop_and_adam_give_the_same_bits_on_one_or_two_threads() {
    let optimizers: Vec<fn() -> Box<dyn Optimizer>> = vec![
        || Box::new(RMSpropConfig::default().build().unwrap()),
        || {
            Box::new(
                RMSpropConfig::default()
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            )
        },
        || {
            Box::new(
                AdamConfig::default()
                    .with_learning_rate(0.01)
                    .build()
                    .unwrap(),
            )
        },
    ];
    for make in optimizers {
        let (start, _) = problem();
        let one = train(make(), 1);
        let two = train(make(), 2);
        assert_eq!(bits(&one), bits(&two));
        // The parameters did move.
        assert_ne!(bits(&one), bits(&start));
    }
}
