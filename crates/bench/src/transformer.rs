//! The transformer classifier (examples/transformer_classifier): keras.io's "Text classification with
//! Transformer" model on synthetic token sequences, Adam, batch 32.

use crate::workloads::{Workload, split_rows};
use crate::{BenchResult, Cli};
use ndarray::{Array1, Array2};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::time::Instant;

#[allow(dead_code)]
#[path = "../../../examples/seq_common/transformer.rs"]
mod model;
#[allow(dead_code)]
#[path = "../../../examples/seq_common/token_position.rs"]
mod token_position;

/// 2,000 training and 200 validation sequences of 200 ids below 10,000 (Reuters's sizes in the example); the
/// label is the first id modulo the 46 topics.
pub(crate) fn classifier(cli: &Cli) -> BenchResult<Workload> {
    let started = Instant::now();
    let (train, val, maxlen, vocab, classes) = (2_000, 200, 200, 10_000, 46);
    let mut rng = SmallRng::seed_from_u64(cli.seed);
    let x =
        Array2::from_shape_simple_fn((train + val, maxlen), || rng.random_range(1..vocab) as f32);
    let y: Array1<f32> = x.column(0).mapv(|id| (id as usize % classes) as f32);
    let [x_train, x_val, y_train, y_val] = split_rows(x.into_dyn(), y, train);
    let data_ms = started.elapsed().as_secs_f64() * 1e3;
    rkeras::prelude::set_random_seed(cli.seed);
    let model = model::model(maxlen, vocab, classes)?;
    Ok(Workload {
        model,
        x_train: vec![x_train],
        y_train,
        x_val: vec![x_val],
        y_val,
        optimizer: "adam",
        setup_ms: (data_ms, 0.0, 0.0),
        data: json!({ "source": format!("synthetic ids, seed {}", cli.seed), "train_samples": train,
            "validation_samples": val, "input_shape": [maxlen], "vocab_size": vocab, "classes": classes }),
    })
}
