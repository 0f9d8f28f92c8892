//! `fit` hands the optimizer each embedding's row gradient, which it squares per lookup (Keras's TensorFlow
//! backend) unless told to square the summed rows (Keras's JAX backend).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{Dense, Embedding, Flatten, Input, LayerCall, set_random_seed};
use rkeras_optim::{GradientRef, Optimizer, RMSpropConfig};
use rkeras_tensor::{Tensor, Variable};

/// Token ids where rows repeat within and across samples, so that per-lookup squares differ from squared sums.
fn data() -> (ArrayD<f32>, ArrayD<f32>) {
    let x = ArrayD::from_shape_vec(
        IxDyn(&[4, 3]),
        vec![1.0, 1.0, 2.0, 1.0, 2.0, 2.0, 3.0, 1.0, 3.0, 0.0, 2.0, 1.0],
    )
    .unwrap();
    let y = ArrayD::from_shape_vec(IxDyn(&[4, 1]), vec![1.0, -1.0, 0.5, 2.0]).unwrap();
    (x, y)
}

fn model(per_lookup_squares: bool) -> Model {
    set_random_seed(3);
    let input = Input::new(&[3]);
    let embedded = Embedding::new(4, 2).call(&input).unwrap();
    let flat = Flatten::new().call(&embedded).unwrap();
    let output = Dense::new(1).call(&flat).unwrap();
    let mut model = Model::new(&[input], &output).unwrap();
    let optimizer = RMSpropConfig::default()
        .with_learning_rate(0.01)
        .with_per_lookup_squares(per_lookup_squares)
        .build()
        .unwrap();
    model.compile(optimizer, "mse", &[]).unwrap();
    model
}

/// One RMSprop step computed outside `fit`: the gradients of the mean squared error over the batch, the
/// embedding's as rows, squared per lookup or summed.
fn manual_step(per_lookup_squares: bool) -> Vec<ArrayD<f32>> {
    let model = model(per_lookup_squares);
    let (x, y) = data();
    let variables: Vec<Variable> = model.network().trainable_weights();
    let mut ctx_rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
    let mut ctx = rkeras_layers::CallContext {
        training: true,
        rng: &mut ctx_rng,
    };
    let prediction = model
        .network()
        .forward(&[Tensor::new(x)], &mut ctx)
        .unwrap()
        .remove(0);
    let diff = prediction.sub(&Tensor::new(y)).unwrap();
    let loss = diff
        .mul(&diff)
        .unwrap()
        .sum_all()
        .unwrap()
        .mul_scalar(0.25)
        .unwrap();
    let grads = loss.backward().unwrap();
    let mut values: Vec<ArrayD<f32>> = variables
        .iter()
        .map(|v| v.value().as_ref().clone())
        .collect();
    let grad_refs: Vec<GradientRef<'_>> = variables
        .iter()
        .map(|v| grads.gradient_var(v).unwrap().as_ref())
        .collect();
    assert!(
        matches!(grad_refs[0], GradientRef::Rows(_)),
        "the embedding's gradient holds rows"
    );
    let mut optimizer = RMSpropConfig::default()
        .with_learning_rate(0.01)
        .with_per_lookup_squares(per_lookup_squares)
        .build()
        .unwrap();
    let mut refs: Vec<&mut ArrayD<f32>> = values.iter_mut().collect();
    optimizer.apply(&mut refs, &grad_refs).unwrap();
    values
}

fn fit_one_step(per_lookup_squares: bool) -> Vec<ArrayD<f32>> {
    let mut model = model(per_lookup_squares);
    let (x, y) = data();
    model
        .fit(
            &[x],
            &y,
            FitConfig::new()
                .epochs(1)
                .batch_size(4)
                .shuffle(false)
                .verbose(0),
        )
        .unwrap();
    model.get_weights()
}

#[test]
fn fit_updates_embeddings_with_per_lookup_squares_by_default() {
    let per_lookup = fit_one_step(true);
    assert_eq!(per_lookup, manual_step(true));
    let summed = fit_one_step(false);
    assert_eq!(summed, manual_step(false));
    // The embedding table moves differently; the dense layer, looked up by no one, identically.
    assert_ne!(per_lookup[0], summed[0]);
    assert_eq!(per_lookup[1..], summed[1..]);
}
