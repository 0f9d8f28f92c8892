//! The memory network (`models::memory_network`: embedding gathers and their row gradients, the match's
//! batched products and their tiny gradient products, softmax over lanes of 4, dropout, LSTM(32), RMSprop)
//! trains to the same bits with 1 and 2 rayon threads, with one shard per batch and with two.

use ndarray::{Array1, Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_engine::{FitConfig, History, models};
use rkeras_layers::set_random_seed;

/// Random stories `[n, 68]` and questions `[n, 4]` of word ids `1..22` (0 pads), and an answer id per question
/// that depends on both (the story's id at the position the question's first word names), so the run learns.
fn qa_data(n: usize) -> (Vec<ArrayD<f32>>, ArrayD<f32>) {
    let mut rng = StdRng::seed_from_u64(3);
    let stories = Array2::from_shape_fn((n, 68), |(_, j)| {
        if j < 8 {
            0.0
        } else {
            rng.random_range(1..22) as f32
        }
    });
    let questions = Array2::from_shape_fn((n, 4), |_| rng.random_range(1..22) as f32);
    let answers = Array1::from_shape_fn(n, |i| stories[[i, 8 + questions[[i, 0]] as usize]]);
    (
        vec![stories.into_dyn(), questions.into_dyn()],
        answers.into_dyn(),
    )
}

/// A run's outcome as bits: every weight's, and every logged value's, key by key.
type RunBits = (Vec<Vec<u32>>, Vec<(String, Vec<u64>)>);

fn train(threads: usize, shards: usize) -> RunBits {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let (x, y) = qa_data(320);
        set_random_seed(7);
        let mut model = models::memory_network(22, 68, 4).unwrap();
        model
            .compile("rmsprop", "sparse_categorical_crossentropy", &["accuracy"])
            .unwrap();
        let config = FitConfig::new()
            .epochs(2)
            .batch_size(32)
            .verbose(0)
            .seed(11)
            .validation_split(0.1)
            .shards(shards);
        let history: History = model.fit(&x, &y, config).unwrap();
        let weights = model
            .get_weights()
            .iter()
            .map(|w| {
                assert!(w.iter().all(|v| v.is_finite()));
                w.iter().map(|v| v.to_bits()).collect()
            })
            .collect();
        let logs = history
            .history
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().map(|x| x.to_bits()).collect()))
            .collect();
        (weights, logs)
    })
}

#[test]
fn one_and_two_threads_give_the_same_bits() {
    for shards in [1, 2] {
        let one = train(1, shards);
        let two = train(2, shards);
        assert_eq!(one.0, two.0, "weights, {shards} shards");
        assert_eq!(one.1, two.1, "history, {shards} shards");
    }
}
