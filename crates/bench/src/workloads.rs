//! The synthetic and bAbI workloads, and how every workload is compiled and trained.

use crate::timer::{BenchTimer, Run};
use crate::{BenchResult, Cli, WorkloadKind};
use ndarray::{Array1, Array2, Array3, ArrayD, Axis};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rkeras::datasets::mnist::MnistSplit;
use rkeras::datasets::{BabiSource, Task, Vectorizer};
use rkeras::engine::{ByteArray, InputArray, IntoOptimizer};
use rkeras::layers::GRU;
use rkeras::optim::AdadeltaConfig;
use rkeras::prelude::*;
use serde_json::{Value, json};
use std::time::Instant;

/// A model with its data, ready to train.
pub(crate) struct Workload {
    pub(crate) model: Model,
    pub(crate) x_train: Vec<InputArray>,
    pub(crate) y_train: ArrayD<f32>,
    pub(crate) validation: Validation,
    pub(crate) optimizer: &'static str,
    pub(crate) data: Value,
    /// Milliseconds spent loading or generating the data, building the model and compiling it.
    pub(crate) setup_ms: (f64, f64, f64),
}

/// The validation inputs and targets, made for each `fit` call (which takes them by value).
pub(crate) enum Validation {
    /// Arrays kept whole and copied for each call.
    Arrays(Vec<ArrayD<f32>>, ArrayD<f32>),
    /// MNIST test images kept as bytes, given to each call as bytes that `fit` scales per batch.
    Mnist { split: MnistSplit, flatten: bool },
}

impl Validation {
    /// The inputs and targets for one `fit` call.
    fn data(&self) -> BenchResult<(Vec<InputArray>, ArrayD<f32>)> {
        Ok(match self {
            Validation::Arrays(x, y) => (x.iter().cloned().map(Into::into).collect(), y.clone()),
            Validation::Mnist { split, flatten } => (
                vec![ByteArray::new(split.images_u8(*flatten), 255.0)?.into()],
                split.labels_f32().into_dyn(),
            ),
        })
    }
}

impl Workload {
    pub(crate) fn train_samples(&self) -> usize {
        self.y_train.len_of(Axis(0))
    }
}

/// The bAbI memory network on qa1, from files or generated stories.
fn memnn(cli: &Cli) -> BenchResult<Workload> {
    let started = Instant::now();
    let task: Task = cli.task.parse()?;
    let source = match &cli.data {
        Some(dir) => BabiSource::Dir(dir.clone()),
        None => BabiSource::Generated {
            train_stories: cli.generate,
            test_stories: (cli.generate / 10).max(1),
            seed: cli.seed,
        },
    };
    let splits = source.load(task, false)?;
    let vectorizer = Vectorizer::fit(&splits.train, &splits.test)?;
    let (train, test) = (
        vectorizer.vectorize(&splits.train)?,
        vectorizer.vectorize(&splits.test)?,
    );
    let (vocab, story, query) = (
        vectorizer.vocab_size(),
        vectorizer.story_maxlen(),
        vectorizer.query_maxlen(),
    );
    drop(splits);
    let data_ms = started.elapsed().as_secs_f64() * 1e3;
    set_random_seed(cli.seed);
    let model = rkeras::models::memory_network(vocab, story, query)?;
    Ok(Workload {
        data: json!({
            "source": source.to_string(), "task": cli.task, "train_samples": train.len(),
            "validation_samples": test.len(), "vocab_size": vocab, "story_maxlen": story, "query_maxlen": query,
        }),
        x_train: vec![
            train.stories.into_dyn().into(),
            train.queries.into_dyn().into(),
        ],
        y_train: train.answers.into_dyn(),
        validation: Validation::Arrays(
            vec![test.stories.into_dyn(), test.queries.into_dyn()],
            test.answers.into_dyn(),
        ),
        model,
        optimizer: "rmsprop",
        setup_ms: (data_ms, 0.0, 0.0),
    })
}

/// Labels from a fixed random linear "teacher", so that the synthetic task is learnable.
fn teacher_labels(features: &Array2<f32>, classes: usize, rng: &mut SmallRng) -> Array1<f32> {
    let teacher = Array2::from_shape_simple_fn((features.ncols(), classes), || {
        rng.random_range(-1.0f32..1.0)
    });
    let scores = features.dot(&teacher);
    scores
        .rows()
        .into_iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold(
                    (0, f32::MIN),
                    |best, (i, &v)| {
                        if v > best.1 { (i, v) } else { best }
                    },
                )
                .0 as f32
        })
        .collect()
}

/// Splits the first `train` rows from the rest.
pub(crate) fn split_rows(x: ArrayD<f32>, y: Array1<f32>, train: usize) -> [ArrayD<f32>; 4] {
    let (xt, xv) = x.view().split_at(Axis(0), train);
    let (yt, yv) = y.view().split_at(Axis(0), train);
    [
        xt.to_owned(),
        xv.to_owned(),
        yt.to_owned().into_dyn(),
        yv.to_owned().into_dyn(),
    ]
}

/// Dense 784→256 (relu)→10 (softmax) on 10,000 uniform samples (1,000 more for validation).
fn mlp(cli: &Cli) -> BenchResult<Workload> {
    let started = Instant::now();
    let (train, val, features, classes) = (10_000, 1_000, 784, 10);
    let mut rng = SmallRng::seed_from_u64(cli.seed);
    let x = Array2::from_shape_simple_fn((train + val, features), || rng.random::<f32>());
    let y = teacher_labels(&x, classes, &mut rng);
    let [x_train, x_val, y_train, y_val] = split_rows(x.into_dyn(), y, train);
    let data_ms = started.elapsed().as_secs_f64() * 1e3;
    set_random_seed(cli.seed);
    let model = Sequential::new(&[features])
        .add(Dense::new(256).with_activation("relu")?)?
        .add(Dense::new(classes).with_activation("softmax")?)?
        .build()?;
    Ok(Workload {
        model,
        x_train: vec![x_train.into()],
        y_train,
        validation: Validation::Arrays(vec![x_val], y_val),
        optimizer: "adam",
        setup_ms: (data_ms, 0.0, 0.0),
        data: json!({ "source": format!("synthetic uniform, seed {}", cli.seed), "train_samples": train,
            "validation_samples": val, "input_shape": [features], "classes": classes }),
    })
}

/// LSTM(64) or GRU(64) over 20 steps of 32 features, then Dense(10, softmax), on 5,000 samples (500 for
/// validation); the same data for both layers.
fn recurrent(cli: &Cli, gru: bool) -> BenchResult<Workload> {
    let started = Instant::now();
    let (train, val, steps, features, classes) = (5_000, 500, 20, 32, 10);
    let mut rng = SmallRng::seed_from_u64(cli.seed);
    let x = Array3::from_shape_simple_fn((train + val, steps, features), || {
        rng.random_range(-1.0f32..1.0)
    });
    let summary = x.sum_axis(Axis(1));
    let y = teacher_labels(&summary, classes, &mut rng);
    let [x_train, x_val, y_train, y_val] = split_rows(x.into_dyn(), y, train);
    let data_ms = started.elapsed().as_secs_f64() * 1e3;
    set_random_seed(cli.seed);
    let model = Sequential::new(&[steps, features]);
    let model = if gru {
        model.add(GRU::new(64))?
    } else {
        model.add(LSTM::new(64))?
    };
    let model = model
        .add(Dense::new(classes).with_activation("softmax")?)?
        .build()?;
    Ok(Workload {
        model,
        x_train: vec![x_train.into()],
        y_train,
        validation: Validation::Arrays(vec![x_val], y_val),
        optimizer: "adam",
        setup_ms: (data_ms, 0.0, 0.0),
        data: json!({ "source": format!("synthetic uniform, seed {}", cli.seed), "train_samples": train,
            "validation_samples": val, "input_shape": [steps, features], "classes": classes }),
    })
}

pub(crate) fn prepare(kind: WorkloadKind, cli: &Cli) -> BenchResult<Workload> {
    let started = Instant::now();
    let mut workload = match kind {
        WorkloadKind::Memnn => memnn(cli)?,
        WorkloadKind::Mlp => mlp(cli)?,
        WorkloadKind::Lstm => recurrent(cli, false)?,
        WorkloadKind::Gru => recurrent(cli, true)?,
        WorkloadKind::Cnn => crate::mnist::cnn(cli)?,
        WorkloadKind::MnistMlp => crate::mnist::mlp(cli)?,
        WorkloadKind::Transformer => crate::transformer::classifier(cli)?,
        WorkloadKind::ReutersRnn => crate::reuters_rnn::classifier(cli)?,
        WorkloadKind::All => return Err("`all` is not a single workload".into()),
    };
    let built = started.elapsed().as_secs_f64() * 1e3;
    let optimizer: Box<dyn Optimizer> = match kind {
        // Keras 2's Adadelta learning rate, as the classic script and examples/mnist_cnn.
        WorkloadKind::Cnn => Box::new(AdadeltaConfig::default().with_learning_rate(1.0).build()?),
        _ => workload.optimizer.into_optimizer()?,
    };
    workload
        .model
        .compile(optimizer, "sparse_categorical_crossentropy", &["accuracy"])?;
    let total = started.elapsed().as_secs_f64() * 1e3;
    workload.setup_ms.1 = built - workload.setup_ms.0;
    workload.setup_ms.2 = total - built;
    Ok(workload)
}

/// Trains the first epoch, then the others with a fresh step profile, so that the profile is steady-state.
/// The epochs run exactly as one `fit` of `epochs` epochs (shuffling and dropout are seeded per epoch).
pub(crate) fn train(workload: &mut Workload, cli: &Cli) -> BenchResult<Run> {
    let mut timer = BenchTimer::new();
    let epochs = usize::try_from(cli.epochs)?;
    for (from, to) in [(0, 1), (1, epochs)] {
        if from >= to {
            continue;
        }
        if from == 1 {
            workload.model.reset_step_profile();
            rkeras::engine::collective::reset_profile();
        }
        let (x_val, y_val) = workload.validation.data()?;
        let mut config = FitConfig::new()
            .epochs(to)
            .initial_epoch(from)
            .batch_size(cli.batch_size())
            .verbose(0)
            .seed(cli.seed)
            .validation_data(x_val, y_val)
            .callback(&mut timer)
            .shards(cli.shards());
        if let Some(collective) = crate::distributed::collective() {
            config = config
                .collective(collective)
                .shard_optimizer(!cli.whole_optimizer);
        }
        workload
            .model
            .fit(&workload.x_train, &workload.y_train, config)?;
    }
    Ok(Run {
        profile: workload.model.step_profile().unwrap_or_default(),
        timer,
        threads: rayon::current_num_threads(),
    })
}
