//! The MNIST workloads: Keras's classic convnet (`cnn`, as examples/mnist_cnn) and MLP (`mnist-mlp`, as
//! examples/mnist_mlp), on the first `--train-samples` training images, validated on the first
//! `--validation-samples` test images.

use crate::workloads::{Validation, Workload};
use crate::{BenchResult, Cli};
use rkeras::datasets::mnist::{load_split_head, mnist_dir};
use rkeras::engine::ByteArray;
use rkeras::prelude::*;
use serde_json::json;
use std::time::Instant;

/// Loads the two MNIST slices, images as `[n, 28, 28, 1]` or flattened to `[n, 784]`, labels as class indices;
/// the images stay bytes, which `fit` scales (`/ 255`) one batch at a time. Only the samples used are read from
/// the files (not the whole 47 MB training file).
fn load(cli: &Cli, flatten: bool, model: Model, optimizer: &'static str) -> BenchResult<Workload> {
    let started = Instant::now();
    let dir = mnist_dir(cli.data.as_deref())?;
    let (train, val) = (
        load_split_head(&dir, "train", cli.train_samples)?,
        load_split_head(&dir, "t10k", cli.validation_samples)?,
    );
    let data = json!({
        "source": dir.display().to_string(), "train_samples": train.len(), "validation_samples": val.len(),
        "input_shape": if flatten { vec![784] } else { vec![28, 28, 1] }, "classes": 10,
    });
    Ok(Workload {
        model,
        x_train: vec![ByteArray::new(train.images_u8(flatten), 255.0)?.into()],
        y_train: train.labels_f32().into_dyn(),
        validation: Validation::Mnist {
            split: val,
            flatten,
        },
        optimizer,
        data,
        setup_ms: (started.elapsed().as_secs_f64() * 1e3, 0.0, 0.0),
    })
}

/// Keras's MNIST convnet; compiled with Adadelta at learning rate 1.0 by `prepare`.
pub(crate) fn cnn(cli: &Cli) -> BenchResult<Workload> {
    set_random_seed(cli.seed);
    let model = rkeras::models::mnist_cnn()?;
    load(cli, false, model, "adadelta")
}

/// Keras's MNIST MLP with RMSprop.
pub(crate) fn mlp(cli: &Cli) -> BenchResult<Workload> {
    set_random_seed(cli.seed);
    let model = rkeras::models::mnist_mlp()?;
    load(cli, true, model, "rmsprop")
}
