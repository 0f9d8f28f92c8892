//! Weight and activity regularizers against Keras: rkeras loads the untrained models Keras saved with L1, L2,
//! L1L2 and orthogonal kernel/bias regularizers, models of every layer that takes weight regularizers and
//! constraints, and models with activity regularizers on Dense, Conv2D, SeparableConv2D, Embedding, LSTM,
//! Bidirectional(SimpleRNN) and GRU (scripts/keras_regularizers_golden.py), trains them as Keras did and
//! matches Keras's logged loss per epoch, `evaluate`'s loss and the trained weights within 1e-5; the model
//! rkeras saves carries the same regularizer configs when Keras loads it (through the Python of
//! `rkeras_testkit::keras_python`: a failure with CI=true when it is missing, a loud notice otherwise).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, load_model};
use rkeras_optim::SGDConfig;
use std::path::{Path, PathBuf};

mod golden_json;
use golden_json::{assert_close, floats};

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_regularizers"
    ))
}

/// A case's Keras fixture with its inputs and targets (`x_shape` in the fixture, `[16, 4]` when absent).
fn case_data(case: &str) -> (serde_json::Value, ArrayD<f32>, ArrayD<f32>) {
    let golden = golden_json::read(&fixture_dir().join(format!("{case}.json")));
    let x_shape: Vec<usize> = golden.get("x_shape").map_or(vec![16, 4], |s| {
        floats(s).iter().map(|&d| d as usize).collect()
    });
    let x = ArrayD::from_shape_vec(IxDyn(&x_shape), floats(&golden["x"])).unwrap();
    let y = ArrayD::from_shape_vec(IxDyn(&[16, 2]), floats(&golden["y"])).unwrap();
    (golden, x, y)
}

fn train_like_keras(case: &str) {
    let (golden, x, y) = case_data(case);
    let mut model = load_model(fixture_dir().join(format!("{case}.h5"))).unwrap();
    let sgd = SGDConfig::default()
        .with_learning_rate(0.1)
        .build()
        .unwrap();
    model.compile(sgd, "mse", &[]).unwrap();
    let config = FitConfig::new()
        .epochs(3)
        .batch_size(8)
        .verbose(0)
        .shuffle(false);
    let history = model.fit(std::slice::from_ref(&x), &y, config).unwrap();
    let losses: Vec<f32> = history
        .get("loss")
        .unwrap()
        .iter()
        .map(|v| *v as f32)
        .collect();
    assert_close(&losses, &floats(&golden["loss"]), &format!("{case} loss"));
    let weights: Vec<f32> = model.get_weights().iter().flatten().copied().collect();
    let want: Vec<f32> = golden["weights"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    assert_close(&weights, &want, &format!("{case} weights"));
    let evaluated = model.evaluate(std::slice::from_ref(&x), &y, 16).unwrap();
    assert_close(
        &[evaluated["loss"] as f32],
        &[golden["evaluate_loss"].as_f64().unwrap() as f32],
        &format!("{case} evaluate"),
    );

    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join(format!("{case}.h5"));
    model.save(&saved).unwrap();
    rkeras_testkit::run_keras_check(
        &format!("Keras's load of the rkeras-saved {case} regularizers"),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras_regularizers_golden.py"
        ),
        [Path::new("check"), &fixture_dir(), Path::new(case), &saved],
        "keras regularizers ok",
    );
}

#[test]
fn l1_matches_keras() {
    train_like_keras("l1");
}

#[test]
fn l2_matches_keras() {
    train_like_keras("l2");
}

#[test]
fn l1l2_matches_keras() {
    train_like_keras("l1l2");
}

#[test]
fn orthogonal_rows_matches_keras() {
    train_like_keras("orthogonal_rows");
}

#[test]
fn orthogonal_columns_matches_keras() {
    train_like_keras("orthogonal_columns");
}

#[test]
fn string_names_match_keras() {
    train_like_keras("names");
}

#[test]
fn max_norm_and_non_neg_match_keras() {
    train_like_keras("max_norm");
}

#[test]
fn min_max_norm_matches_keras() {
    train_like_keras("min_max_norm");
}

#[test]
fn unit_norm_and_max_norm_by_name_match_keras() {
    train_like_keras("unit_norm");
}

#[test]
fn non_neg_and_unit_norm_by_name_match_keras() {
    train_like_keras("non_neg");
}

#[test]
fn conv2d_and_separable_conv2d_match_keras() {
    train_like_keras("conv");
}

#[test]
fn depthwise_transpose_and_conv1d_match_keras() {
    train_like_keras("conv1d_depthwise");
}

#[test]
fn embedding_and_lstm_match_keras() {
    train_like_keras("embedding_lstm");
}

#[test]
fn bidirectional_gru_time_distributed_and_simple_rnn_match_keras() {
    train_like_keras("recurrent");
}

#[test]
fn batch_normalization_matches_keras() {
    train_like_keras("batch_norm");
}

#[test]
fn einsum_dense_layer_normalization_and_prelu_match_keras() {
    train_like_keras("norm_prelu");
}

#[test]
fn dense_activity_regularizers_match_keras() {
    train_like_keras("activity_dense");
}

#[test]
fn conv_activity_regularizers_match_keras() {
    train_like_keras("activity_conv");
}

#[test]
fn embedding_and_recurrent_activity_regularizers_match_keras() {
    train_like_keras("activity_sequence");
}

/// A fixture's untrained activity penalty on its whole data (Keras divides it by the batch size).
fn activity_penalty(case: &str) -> f32 {
    let (_, x, _) = case_data(case);
    let model = load_model(fixture_dir().join(format!("{case}.h5"))).unwrap();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
    let mut ctx = rkeras_layers::CallContext {
        training: false,
        rng: &mut rng,
    };
    let x = rkeras_tensor::Tensor::new(x);
    let (_, penalty) = model
        .network()
        .forward_outputs_regularized(&[x], &mut ctx, false, 16)
        .unwrap();
    penalty.unwrap().to_scalar().unwrap()
}

#[test]
fn a_batch_in_two_shards_gives_the_activity_penalty_of_the_whole_batch() {
    for case in ["activity_dense", "activity_sequence"] {
        assert_two_shards_match_the_whole_batch(case, activity_penalty(case));
    }
}

/// Trains a Keras fixture's model (batches of 16, SGD) with the batch in `shards` pieces: the logged losses
/// and the trained weights.
fn train_in_shards(case: &str, shards: usize) -> (Vec<f64>, Vec<f32>) {
    let (_, x, y) = case_data(case);
    let mut model = load_model(fixture_dir().join(format!("{case}.h5"))).unwrap();
    let sgd = SGDConfig::default()
        .with_learning_rate(0.1)
        .build()
        .unwrap();
    model.compile(sgd, "mse", &[]).unwrap();
    let config = FitConfig::new()
        .epochs(2)
        .batch_size(16)
        .shards(shards)
        .verbose(0)
        .shuffle(false);
    let history = model.fit(std::slice::from_ref(&x), &y, config).unwrap();
    let weights = model.get_weights().iter().flatten().copied().collect();
    (history.get("loss").unwrap().to_vec(), weights)
}

/// Trains `case` with its batch whole and in two shards: the same losses and weights; the first epoch is one
/// step from the untrained weights, so its loss is the data loss plus the untrained model's `penalty` (large
/// enough to be seen) once, which is `evaluate`'s loss on the untrained model.
fn assert_two_shards_match_the_whole_batch(case: &str, penalty: f32) {
    let (whole_loss, whole_weights) = train_in_shards(case, 1);
    let (split_loss, split_weights) = train_in_shards(case, 2);
    let as_f32 = |v: &[f64]| v.iter().map(|&l| l as f32).collect::<Vec<_>>();
    assert_close(
        &as_f32(&split_loss),
        &as_f32(&whole_loss),
        &format!("{case} loss in two shards"),
    );
    assert_close(
        &split_weights,
        &whole_weights,
        &format!("{case} weights in two shards"),
    );
    assert!(penalty > 1e-3, "{case}: penalty {penalty}");
    let mut model = load_model(fixture_dir().join(format!("{case}.h5"))).unwrap();
    model
        .compile(SGDConfig::default().build().unwrap(), "mse", &[])
        .unwrap();
    let (_, x, y) = case_data(case);
    let evaluated = model.evaluate(std::slice::from_ref(&x), &y, 16).unwrap()["loss"];
    assert_close(
        &[split_loss[0] as f32],
        &[evaluated as f32],
        &format!("{case} first loss in two shards"),
    );
}

#[test]
fn a_batch_in_two_shards_counts_the_penalty_once() {
    for case in ["embedding_lstm", "conv"] {
        let model = load_model(fixture_dir().join(format!("{case}.h5"))).unwrap();
        let penalty = model
            .network()
            .regularization_loss()
            .unwrap()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert_two_shards_match_the_whole_batch(case, penalty);
    }
}
