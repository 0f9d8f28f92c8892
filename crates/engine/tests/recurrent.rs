//! GRU and SimpleRNN models end to end: a model of recurrent layers saved by Keras 3 (`.h5`, made by
//! `scripts/keras_rnn_golden.py`) loads and predicts Keras's outputs; rkeras's own save/load round trip; seeded
//! training gives the same bits with 1 and 2 threads. The same for recurrent layers handing their states on
//! (`return_state`, `initial_state`; `scripts/keras_rnn_state_golden.py`: an encoder LSTM's states start a
//! decoder LSTM and feed a Dense layer, a GRU's state is a model output).

use ndarray::{Array2, Array3, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_engine::{FitConfig, History, Model, load_model};
use rkeras_layers::{Dense, GRU, Input, LSTM, LayerCall, SimpleRNN, set_random_seed};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn array(value: &Value) -> ArrayD<f32> {
    let numbers = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let shape: Vec<usize> = numbers(&value["shape"])
        .iter()
        .map(|&d| d as usize)
        .collect();
    let values: Vec<f32> = numbers(&value["values"])
        .iter()
        .map(|&v| v as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

#[test]
fn a_keras_model_of_recurrent_layers_loads_and_predicts_keras_outputs() {
    let model = load_model(format!("{FIXTURES}/keras_rnn.h5")).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/keras_rnn_expected.json")).unwrap(),
    )
    .unwrap();
    let x = array(&expected["x"]);
    let predictions = model.predict(std::slice::from_ref(&x), 32).unwrap();
    let keras: Vec<f32> = expected["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(predictions.shape(), &[4, 2]);
    for (a, e) in predictions.iter().zip(&keras) {
        assert!((a - e).abs() < 1e-5, "{a} vs Keras {e}");
    }

    // Saved by rkeras and loaded again: the same predictions, bit for bit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.h5");
    model.save(&path).unwrap();
    let again = load_model(&path).unwrap();
    assert_eq!(again.predict(&[x], 32).unwrap(), predictions);
}

/// The exact bits of every logged value, key by key.
type HistoryBits = Vec<(String, Vec<u64>)>;

fn history_bits(history: &History) -> HistoryBits {
    history
        .history
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

/// Trains GRU (both forms) and SimpleRNN layers large enough for the multi-threaded products inside a rayon
/// pool of `threads` threads.
fn train_in_pool(threads: usize) -> (Vec<Vec<u32>>, HistoryBits) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut rng = StdRng::seed_from_u64(3);
        let n = 256;
        let x = Array3::from_shape_fn((n, 10, 16), |_| rng.random_range(-1.0f32..1.0));
        let y = Array2::from_shape_fn((n, 1), |(i, _)| f32::from(x[[i, 0, 0]] > 0.0));
        set_random_seed(8);
        let input = Input::new(&[10, 16]);
        let h = GRU::new(64)
            .with_return_sequences(true)
            .with_reset_after(false)
            .call(&input)
            .unwrap();
        let h = GRU::new(64)
            .with_return_sequences(true)
            .with_go_backwards(true)
            .call(&h)
            .unwrap();
        let h = SimpleRNN::new(64).call(&h).unwrap();
        let output = Dense::new(1)
            .with_activation("sigmoid")
            .unwrap()
            .call(&h)
            .unwrap();
        let mut model = Model::new(&[input], &output).unwrap();
        model
            .compile("adam", "binary_crossentropy", &["accuracy"])
            .unwrap();
        let config = FitConfig::new()
            .epochs(2)
            .batch_size(128)
            .verbose(0)
            .seed(9)
            .shards(2);
        let history = model.fit(&[x.into_dyn()], &y.into_dyn(), config).unwrap();
        let weights = model
            .get_weights()
            .iter()
            .map(|w| w.iter().map(|v| v.to_bits()).collect())
            .collect();
        (weights, history_bits(&history))
    })
}

#[test]
fn one_and_two_threads_give_the_same_bits() {
    let one = train_in_pool(1);
    let two = train_in_pool(2);
    assert_eq!(one, two);
    assert!(
        one.1
            .iter()
            .all(|(_, v)| v.iter().all(|b| f64::from_bits(*b).is_finite()))
    );
}

#[test]
fn a_keras_model_passing_states_loads_predicts_and_round_trips() {
    let model = load_model(format!("{FIXTURES}/keras_rnn_state.h5")).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/keras_rnn_state_expected.json")).unwrap(),
    )
    .unwrap();
    let x: Vec<ArrayD<f32>> = expected["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(array)
        .collect();
    let predictions = model.predict_outputs(&x, 2).unwrap();
    let keras: Vec<ArrayD<f32>> = expected["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(array)
        .collect();
    assert_eq!(predictions.len(), 3);
    for (p, k) in predictions.iter().zip(&keras) {
        assert_eq!(p.shape(), k.shape());
        for (a, e) in p.iter().zip(k) {
            assert!((a - e).abs() < 1e-5, "{a} vs Keras {e}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.h5");
    model.save(&path).unwrap();
    let again = load_model(&path).unwrap();
    assert_eq!(again.predict_outputs(&x, 2).unwrap(), predictions);
}

/// An encoder/decoder trained through the encoder's states, inside a rayon pool of `threads` threads.
fn train_states_in_pool(threads: usize) -> (Vec<Vec<u32>>, Vec<u64>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut rng = StdRng::seed_from_u64(5);
        let n = 128;
        let source = Array3::from_shape_fn((n, 6, 8), |_| rng.random_range(-1.0f32..1.0));
        let target = Array3::from_shape_fn((n, 4, 8), |_| rng.random_range(-1.0f32..1.0));
        let y = Array2::from_shape_fn((n, 1), |(i, _)| f32::from(source[[i, 0, 0]] > 0.0));
        set_random_seed(4);
        let (encoder_input, decoder_input) = (Input::new(&[6, 8]), Input::new(&[4, 8]));
        let states = LSTM::new(32)
            .with_return_state(true)
            .call_outputs(std::slice::from_ref(&encoder_input))
            .unwrap();
        let decoded = LSTM::new(32)
            .call_many(&[decoder_input.clone(), states[1].clone(), states[2].clone()])
            .unwrap();
        let gru = GRU::new(16)
            .with_return_state(true)
            .with_return_sequences(true)
            .call_outputs(std::slice::from_ref(&decoder_input))
            .unwrap();
        let joined = rkeras_layers::concatenate(&[decoded, gru[1].clone()], -1).unwrap();
        let output = Dense::new(1)
            .with_activation("sigmoid")
            .unwrap()
            .call(&joined)
            .unwrap();
        let mut model = Model::new(&[encoder_input, decoder_input], &output).unwrap();
        model.compile("adam", "binary_crossentropy", &[]).unwrap();
        let config = FitConfig::new()
            .epochs(2)
            .batch_size(64)
            .verbose(0)
            .seed(2)
            .shards(2);
        let history = model
            .fit(
                &[source.into_dyn(), target.into_dyn()],
                &y.into_dyn(),
                config,
            )
            .unwrap();
        let weights = model
            .get_weights()
            .iter()
            .map(|w| w.iter().map(|v| v.to_bits()).collect())
            .collect();
        let losses = history.history["loss"]
            .iter()
            .map(|v| v.to_bits())
            .collect();
        (weights, losses)
    })
}

#[test]
fn training_through_states_gives_the_same_bits_with_one_and_two_threads() {
    let one = train_states_in_pool(1);
    let two = train_states_in_pool(2);
    assert_eq!(one, two);
    let losses: Vec<f64> = one.1.iter().map(|b| f64::from_bits(*b)).collect();
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
}

/// A Keras model of TimeDistributed Conv1D, Flatten and Dense layers around an LSTM
/// (`scripts/keras_time_distributed_golden.py`) loads, predicts Keras's outputs and round-trips.
#[test]
fn a_keras_model_of_time_distributed_layers_loads_and_predicts_keras_outputs() {
    keras_file_predicts_keras_outputs("keras_time_distributed");
}

/// A Keras model of a concatenating Bidirectional LSTM and a summing Bidirectional GRU
/// (`scripts/keras_bidirectional_golden.py`) loads, predicts Keras's outputs and round-trips; its weights are
/// named `forward_<layer>/…` and `backward_<layer>/…` as Keras named them in the file.
#[test]
fn a_keras_model_of_bidirectional_layers_loads_and_predicts_keras_outputs() {
    let model = keras_file_predicts_keras_outputs("keras_bidirectional");
    let names: Vec<String> = model
        .network()
        .layer("bi_lstm")
        .unwrap()
        .weights()
        .iter()
        .map(|w| w.name().to_string())
        .collect();
    assert_eq!(names[0], "forward_lstm_2/lstm_cell/kernel");
    assert_eq!(names[5], "backward_lstm_2/lstm_cell/bias");
}

/// Loads `<stem>.h5`, compares its predictions with `<stem>_expected.json` (1e-5), saves and reloads it.
fn keras_file_predicts_keras_outputs(stem: &str) -> Model {
    let model = load_model(format!("{FIXTURES}/{stem}.h5")).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/{stem}_expected.json")).unwrap(),
    )
    .unwrap();
    let x = array(&expected["x"]);
    let keras = array(&expected["predictions"]);
    let predictions = model.predict(std::slice::from_ref(&x), 2).unwrap();
    assert_eq!(predictions.shape(), keras.shape());
    for (a, e) in predictions.iter().zip(&keras) {
        assert!((a - e).abs() < 1e-5, "{stem}: {a} vs Keras {e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.h5");
    model.save(&path).unwrap();
    assert_eq!(
        load_model(&path).unwrap().predict(&[x], 2).unwrap(),
        predictions
    );
    model
}
