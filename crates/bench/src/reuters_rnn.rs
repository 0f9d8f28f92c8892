//! The Reuters recurrent classifier (examples/reuters_rnn): Embedding(10000, 64, mask_zero=True),
//! Bidirectional(GRU(32)), Dense softmax over 46 classes, on synthetic id sequences padded with zeros in front,
//! Adam, batch 32.

use crate::workloads::{Workload, split_rows};
use crate::{BenchResult, Cli};
use ndarray::{Array1, Array2};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::time::Instant;

#[allow(dead_code)]
#[path = "../../../examples/seq_common/reuters.rs"]
mod model;

/// 2,000 training and 200 validation sequences of 200 steps, each of 20 to 200 ids below 10,000 after zeros
/// (as `pad_sequences` pads Reuters's newswires); the label is the last id modulo the 46 topics.
pub(crate) fn classifier(cli: &Cli) -> BenchResult<Workload> {
    let started = Instant::now();
    let (train, val, maxlen, vocab, classes) = (2_000, 200, 200, 10_000, 46);
    let mut rng = SmallRng::seed_from_u64(cli.seed);
    let mut x = Array2::<f32>::zeros((train + val, maxlen));
    for mut row in x.rows_mut() {
        let length = rng.random_range(20..=maxlen);
        for id in row.iter_mut().skip(maxlen - length) {
            *id = rng.random_range(1..vocab) as f32;
        }
    }
    let y: Array1<f32> = x
        .column(maxlen - 1)
        .mapv(|id| (id as usize % classes) as f32);
    let [x_train, x_val, y_train, y_val] = split_rows(x.into_dyn(), y, train);
    let data_ms = started.elapsed().as_secs_f64() * 1e3;
    rkeras::prelude::set_random_seed(cli.seed);
    let model = model::rnn_model(maxlen, vocab, 64, 32, classes)?;
    Ok(Workload {
        model,
        x_train: vec![x_train],
        y_train,
        x_val: vec![x_val],
        y_val,
        optimizer: "adam",
        setup_ms: (data_ms, 0.0, 0.0),
        data: json!({ "source": format!("synthetic ids padded in front (20 to 200 kept), seed {}", cli.seed),
            "train_samples": train, "validation_samples": val, "input_shape": [maxlen], "vocab_size": vocab,
            "classes": classes }),
    })
}
