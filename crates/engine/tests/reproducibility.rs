//! One seed reproduces a run bit for bit: initial weights (`set_random_seed`), shuffling and dropout masks
//! (`FitConfig::seed`), whatever the number of rayon threads.

use ndarray::{Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_engine::{FitConfig, History, Model};
use rkeras_layers::{Dense, Dropout, Embedding, Input, LSTM, LayerCall, set_random_seed};

/// The exact bits of every weight.
fn weight_bits(weights: &[ArrayD<f32>]) -> Vec<Vec<u32>> {
    weights
        .iter()
        .map(|w| w.iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// The exact bits of every logged value, key by key.
fn history_bits(history: &History) -> Vec<(String, Vec<u64>)> {
    history
        .history
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

fn classification_data(
    n: usize,
    features: usize,
    classes: usize,
    seed: u64,
) -> (ArrayD<f32>, ArrayD<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, features), |_| rng.random_range(-1.0f32..1.0));
    // The class is the index of the largest of the first `classes` features: learnable, not constant.
    let y = Array2::from_shape_fn((n, 1), |(i, _)| {
        (0..classes).fold(0, |best, c| if x[[i, c]] > x[[i, best]] { c } else { best }) as f32
    });
    (x.into_dyn(), y.into_dyn())
}

/// An MLP with dropout; `init_seed` seeds the initial weights.
fn mlp(init_seed: u64, features: usize, hidden: usize, dropout: f32) -> Model {
    set_random_seed(init_seed);
    let input = Input::new(&[features]);
    let h = Dense::new(hidden)
        .with_activation("relu")
        .unwrap()
        .call(&input)
        .unwrap();
    let h = Dropout::new(dropout).call(&h).unwrap();
    let h = Dense::new(hidden)
        .with_activation("relu")
        .unwrap()
        .call(&h)
        .unwrap();
    let h = Dropout::new(dropout).call(&h).unwrap();
    let output = Dense::new(4)
        .with_activation("softmax")
        .unwrap()
        .call(&h)
        .unwrap();
    let mut model = Model::new(&[input], &output).unwrap();
    model
        .compile("adam", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
}

/// Builds and trains the small MLP: returns the initial weights, the final weights and the history.
fn small_run(
    init_seed: u64,
    fit_seed: u64,
    shuffle: bool,
    dropout: f32,
) -> (Vec<ArrayD<f32>>, Vec<ArrayD<f32>>, History) {
    let (x, y) = classification_data(200, 8, 4, 1);
    let mut model = mlp(init_seed, 8, 16, dropout);
    let initial = model.get_weights();
    let config = FitConfig::new()
        .epochs(3)
        .batch_size(16)
        .verbose(0)
        .seed(fit_seed)
        .shuffle(shuffle)
        .validation_split(0.2);
    let history = model.fit(&[x], &y, config).unwrap();
    (initial, model.get_weights(), history)
}

#[test]
fn one_seed_reproduces_weights_and_history_bit_for_bit() {
    let (init_a, final_a, history_a) = small_run(7, 7, true, 0.5);
    let (init_b, final_b, history_b) = small_run(7, 7, true, 0.5);
    assert_eq!(weight_bits(&init_a), weight_bits(&init_b));
    assert_eq!(weight_bits(&final_a), weight_bits(&final_b));
    assert_eq!(history_bits(&history_a), history_bits(&history_b));
    assert_eq!(history_a.get("loss").unwrap().len(), 3);
    // Training moved the weights, so equality above is not that of untouched initial values.
    assert_ne!(weight_bits(&init_a), weight_bits(&final_a));

    let (init_c, final_c, history_c) = small_run(8, 8, true, 0.5);
    assert_ne!(
        weight_bits(&init_a),
        weight_bits(&init_c),
        "another seed, other initial weights"
    );
    assert_ne!(weight_bits(&final_a), weight_bits(&final_c));
    assert_ne!(history_bits(&history_a), history_bits(&history_c));
}

#[test]
fn the_fit_seed_drives_shuffling_and_dropout_and_nothing_else() {
    // Same initial weights, different fit seeds.
    let (init_a, shuffled_a, _) = small_run(3, 1, true, 0.5);
    let (init_b, shuffled_b, _) = small_run(3, 2, true, 0.5);
    assert_eq!(weight_bits(&init_a), weight_bits(&init_b));
    assert_ne!(
        weight_bits(&shuffled_a),
        weight_bits(&shuffled_b),
        "shuffling and dropout follow the fit seed"
    );

    // No shuffling: dropout masks alone differ with the seed.
    let (_, dropped_a, _) = small_run(3, 1, false, 0.5);
    let (_, dropped_b, _) = small_run(3, 2, false, 0.5);
    assert_ne!(
        weight_bits(&dropped_a),
        weight_bits(&dropped_b),
        "dropout masks follow the fit seed"
    );

    // Shuffling alone (dropout 0) differs with the seed.
    let (_, order_a, _) = small_run(3, 1, true, 0.0);
    let (_, order_b, _) = small_run(3, 2, true, 0.0);
    assert_ne!(
        weight_bits(&order_a),
        weight_bits(&order_b),
        "the sample order follows the fit seed"
    );

    // Neither shuffling nor dropout: the fit seed has nothing to act on.
    let (_, plain_a, history_a) = small_run(3, 1, false, 0.0);
    let (_, plain_b, history_b) = small_run(3, 2, false, 0.0);
    assert_eq!(weight_bits(&plain_a), weight_bits(&plain_b));
    assert_eq!(history_bits(&history_a), history_bits(&history_b));
}

/// `n` sequences of `len` tokens below `vocab` (seeded by `data_seed`), labelled by whether the first token is in
/// the upper half, and an Embedding(`vocab`, `embed`) → LSTM(`units`) → Dropout(0.2) → Dense(1, sigmoid) model
/// (weights seeded by `init_seed`) compiled with RMSprop and binary cross-entropy.
fn token_lstm(
    (data_seed, init_seed): (u64, u64),
    n: usize,
    len: usize,
    (vocab, embed): (usize, usize),
    units: usize,
) -> (Model, ArrayD<f32>, ArrayD<f32>) {
    let mut rng = StdRng::seed_from_u64(data_seed);
    let tokens = Array2::from_shape_fn((n, len), |_| rng.random_range(0..vocab) as f32);
    let half = (vocab / 2) as f32;
    let labels = Array2::from_shape_fn((n, 1), |(i, _)| f32::from(tokens[[i, 0]] >= half));
    set_random_seed(init_seed);
    let input = Input::new(&[len]);
    let embedded = Embedding::new(vocab, embed).call(&input).unwrap();
    let state = LSTM::new(units).call(&embedded).unwrap();
    let state = Dropout::new(0.2).call(&state).unwrap();
    let output = Dense::new(1)
        .with_activation("sigmoid")
        .unwrap()
        .call(&state)
        .unwrap();
    let mut model = Model::new(&[input], &output).unwrap();
    model
        .compile("rmsprop", "binary_crossentropy", &["accuracy"])
        .unwrap();
    (model, tokens.into_dyn(), labels.into_dyn())
}

/// Trains models large enough for the kernels' multi-threaded paths (products above 4 MFLOP, elementwise
/// operations above 65,536 elements) inside a rayon pool of `threads` threads.
fn run_in_pool(threads: usize) -> (Vec<ArrayD<f32>>, History, Vec<ArrayD<f32>>, History) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        assert_eq!(rayon::current_num_threads(), threads);
        // MLP: [256, 64]·[64, 256] is 8.4 MFLOP; the hidden activations hold 256·256 = 65,536 values.
        let (x, y) = classification_data(512, 64, 4, 2);
        let mut model = mlp(5, 64, 256, 0.3);
        let config = FitConfig::new()
            .epochs(2)
            .batch_size(256)
            .verbose(0)
            .seed(9)
            .shards(2)
            .validation_split(0.25);
        let mlp_history = model.fit(&[x], &y, config).unwrap();
        let mlp_weights = model.get_weights();

        // Embedding + LSTM: the input projection [128·12, 16]·[16, 256] is 6.3 MFLOP, the recurrent one
        // [128, 64]·[64, 256] is 4.2 MFLOP.
        let (mut lstm, tokens, labels) = token_lstm((4, 6), 256, 12, (10, 16), 64);
        let config = FitConfig::new()
            .epochs(2)
            .batch_size(128)
            .verbose(0)
            .seed(9)
            .shards(2);
        let lstm_history = lstm.fit(&[tokens], &labels, config).unwrap();
        (mlp_weights, mlp_history, lstm.get_weights(), lstm_history)
    })
}

#[test]
fn one_and_two_threads_give_the_same_bits() {
    let (mlp_one, mlp_history_one, lstm_one, lstm_history_one) = run_in_pool(1);
    let (mlp_two, mlp_history_two, lstm_two, lstm_history_two) = run_in_pool(2);
    assert_eq!(weight_bits(&mlp_one), weight_bits(&mlp_two));
    assert_eq!(
        history_bits(&mlp_history_one),
        history_bits(&mlp_history_two)
    );
    assert_eq!(weight_bits(&lstm_one), weight_bits(&lstm_two));
    assert_eq!(
        history_bits(&lstm_history_one),
        history_bits(&lstm_history_two)
    );
    assert!(
        mlp_one
            .iter()
            .chain(&lstm_one)
            .all(|w| w.iter().all(|v| v.is_finite()))
    );
}

/// `evaluate` and `predict` run their batches in parallel: the figures and the row order must be those of one
/// batch after another, whatever the number of threads.
#[test]
fn evaluate_and_predict_do_not_depend_on_the_thread_count() {
    let (x, y) = classification_data(300, 16, 3, 5);
    let mut model = mlp(2, 16, 32, 0.0);
    model
        .fit(
            std::slice::from_ref(&x),
            &y,
            FitConfig::new().epochs(1).verbose(0).seed(1),
        )
        .unwrap();
    let in_pool = |threads: usize, model: Model| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let x = x.clone();
        let y = y.clone();
        pool.install(move || {
            let logs = model.evaluate(std::slice::from_ref(&x), &y, 32).unwrap();
            let predictions = model.predict(std::slice::from_ref(&x), 32).unwrap();
            (logs, predictions, model)
        })
    };
    let (logs_one, predictions_one, model) = in_pool(1, model);
    let (logs_two, predictions_two, model) = in_pool(2, model);
    assert_eq!(logs_one, logs_two);
    assert_eq!(predictions_one, predictions_two);
    // Row i of the prediction is sample i's: predicting rows 64..96 alone gives the same rows.
    let slice = x.slice(ndarray::s![64..96, ..]).to_owned().into_dyn();
    let alone = model.predict(&[slice], 32).unwrap();
    assert_eq!(
        alone,
        predictions_two
            .slice(ndarray::s![64..96, ..])
            .to_owned()
            .into_dyn()
    );
}

/// `fit` runs its loop on a worker of rayon's pool, so callbacks run there, not on the calling thread.
#[test]
fn fit_runs_its_loop_and_callbacks_on_a_pool_worker() {
    let (x, y) = classification_data(64, 8, 2, 3);
    let mut model = mlp(1, 8, 8, 0.0);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let mut probe = rkeras_callbacks::LambdaCallback::new().on_epoch_begin(move |_| {
        record
            .lock()
            .unwrap()
            .push(rayon::current_thread_index().is_some());
    });
    assert!(rayon::current_thread_index().is_none());
    model
        .fit(
            &[x],
            &y,
            FitConfig::new().epochs(2).verbose(0).callback(&mut probe),
        )
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![true, true]);
}

/// Trains an Embedding + LSTM + Dropout model (the gather backward, the recurrent kernels and the dropout
/// streams all per shard) with `shards` data-parallel shards (`None`: the default) inside a pool of `threads`.
fn sharded_run(shards: Option<usize>, threads: usize) -> (Vec<ArrayD<f32>>, History) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let (mut model, tokens, labels) = token_lstm((8, 2), 96, 6, (12, 8), 8);
        let mut config = FitConfig::new().epochs(2).batch_size(40).verbose(0).seed(5);
        if let Some(shards) = shards {
            config = config.shards(shards);
        }
        let history = model.fit(&[tokens], &labels, config).unwrap();
        (model.get_weights(), history)
    })
}

/// Batches of 40 (and a last one of 16) in 1, 2, 3 or 4 shards: for each shard count, 1, 2 and 3 threads give
/// the same bits; another shard count sums the gradients in other groups, so its bits differ.
#[test]
fn a_shard_count_gives_the_same_bits_whatever_the_thread_count() {
    let mut per_count = Vec::new();
    for shards in 1..=4 {
        let (weights, history) = sharded_run(Some(shards), 1);
        for threads in [2, 3] {
            let (w, h) = sharded_run(Some(shards), threads);
            assert_eq!(
                weight_bits(&w),
                weight_bits(&weights),
                "{shards} shards, {threads} threads"
            );
            assert_eq!(
                history_bits(&h),
                history_bits(&history),
                "{shards} shards, {threads} threads"
            );
        }
        per_count.push(weight_bits(&weights));
    }
    for a in 0..per_count.len() {
        for b in a + 1..per_count.len() {
            assert_ne!(per_count[a], per_count[b], "{} and {} shards", a + 1, b + 1);
        }
    }
    // Without `shards`, `fit` uses the pool's thread count.
    for threads in [1, 3] {
        let (w, _) = sharded_run(None, threads);
        assert_eq!(
            weight_bits(&w),
            per_count[threads - 1],
            "default in a pool of {threads}"
        );
    }
}
