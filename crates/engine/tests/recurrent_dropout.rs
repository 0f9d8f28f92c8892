//! Training with `dropout` / `recurrent_dropout` in LSTM, GRU and SimpleRNN: seeded runs give the same bits with
//! 1 and 2 threads, the dropout changes the training, and prediction ignores it.

use ndarray::{Array3, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_engine::{FitConfig, History, Model};
use rkeras_layers::{Dense, GRU, Input, LSTM, LayerCall, SimpleRNN, set_random_seed};

fn data() -> (ArrayD<f32>, ArrayD<f32>) {
    let mut rng = StdRng::seed_from_u64(11);
    let x = Array3::from_shape_fn((48, 6, 4), |_| rng.random_range(-1.0f32..1.0));
    let y = ArrayD::from_shape_fn(vec![48, 1], |i| x[[i[0], 0, 0]] * 0.5 - x[[i[0], 5, 1]]);
    (x.into_dyn(), y)
}

fn model(rates: (f32, f32)) -> Model {
    set_random_seed(3);
    let input = Input::new(&[6, 4]);
    let h = LSTM::new(8)
        .with_return_sequences(true)
        .with_dropout(rates.0)
        .with_recurrent_dropout(rates.1)
        .call(&input)
        .unwrap();
    let h = GRU::new(6)
        .with_return_sequences(true)
        .with_recurrent_dropout(rates.1)
        .call(&h)
        .unwrap();
    let h = SimpleRNN::new(4).with_dropout(rates.0).call(&h).unwrap();
    let output = Dense::new(1).call(&h).unwrap();
    let mut model = Model::new(&[input], &output).unwrap();
    model.compile("adam", "mse", &[]).unwrap();
    model
}

fn train(rates: (f32, f32), threads: usize) -> (Vec<ArrayD<f32>>, History, ArrayD<f32>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let (x, y) = data();
        let mut model = model(rates);
        let config = FitConfig::new()
            .epochs(2)
            .batch_size(16)
            .shards(2)
            .verbose(0)
            .seed(5);
        let history = model.fit(std::slice::from_ref(&x), &y, config).unwrap();
        let predictions = model.predict(&[x], 16).unwrap();
        (model.get_weights(), history, predictions)
    })
}

fn bits(arrays: &[ArrayD<f32>]) -> Vec<u32> {
    arrays.iter().flatten().map(|v| v.to_bits()).collect()
}

#[test]
fn seeded_training_gives_the_same_bits_with_one_and_two_threads() {
    let (weights, history, predictions) = train((0.3, 0.4), 1);
    let (weights2, history2, predictions2) = train((0.3, 0.4), 2);
    assert_eq!(bits(&weights), bits(&weights2));
    assert_eq!(
        bits(std::slice::from_ref(&predictions)),
        bits(&[predictions2])
    );
    let losses = |h: &History| {
        h.history["loss"]
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&history), losses(&history2));
    let (plain, plain_history, _) = train((0.0, 0.0), 1);
    assert_ne!(bits(&weights), bits(&plain));
    assert_ne!(losses(&history), losses(&plain_history));
    assert!(history.history["loss"].iter().all(|v| v.is_finite()));
}

#[test]
fn prediction_does_not_drop() {
    let (x, _) = data();
    let dropping = model((0.5, 0.5));
    let plain = model((0.0, 0.0));
    for (a, b) in dropping.weights().iter().zip(plain.weights()) {
        a.set_value(b.value().as_ref().clone()).unwrap();
    }
    let a = dropping.predict(std::slice::from_ref(&x), 16).unwrap();
    assert_eq!(
        bits(std::slice::from_ref(&a)),
        bits(&[plain.predict(std::slice::from_ref(&x), 16).unwrap()])
    );
    assert_eq!(bits(&[a]), bits(&[dropping.predict(&[x], 16).unwrap()]));
}
