//! The cost of a training step on an Embedding of 100,000 × 64 rows (batch 32, ten ids per sample, then
//! Flatten and Dense(1)): with a row gradient the update touches only the rows looked up (plain SGD, Adagrad;
//! Adam with `lazy_rows`), while Keras's Adam updates its moments over the whole table. A second group times the
//! optimizer's update alone, the same gradient given as rows and as a dense table.
//!
//! Run with `cargo bench --bench sparse_embedding -p rkeras`; docs/performance.md has the ratios.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rkeras::engine::{FitConfig, Model};
use rkeras::layers::{Dense, Embedding, Flatten, Input, LayerCall, set_random_seed};
use rkeras::optim::{AdagradConfig, AdamConfig, GradientRef, IndexedSlices, Optimizer, SGDConfig};

const ROWS: usize = 100_000;
const DIM: usize = 64;
const BATCH: usize = 32;
const IDS_PER_SAMPLE: usize = 10;

/// Reproducible ids in `0..ROWS`.
fn ids(len: usize) -> Vec<usize> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % ROWS as u64) as usize
        })
        .collect()
}

/// Makes a fresh optimizer.
type MakeOptimizer = fn() -> Box<dyn Optimizer>;

fn model(optimizer: Box<dyn Optimizer>) -> Model {
    set_random_seed(1);
    let input = Input::new(&[IDS_PER_SAMPLE]);
    let embedded = Embedding::new(ROWS, DIM).call(&input).unwrap();
    let flat = Flatten::new().call(&embedded).unwrap();
    let output = Dense::new(1).call(&flat).unwrap();
    let mut model = Model::new(&[input], &output).unwrap();
    model.compile(optimizer, "mse", &[]).unwrap();
    model
}

fn training_step(c: &mut Criterion) {
    let x = ArrayD::from_shape_vec(
        IxDyn(&[BATCH, IDS_PER_SAMPLE]),
        ids(BATCH * IDS_PER_SAMPLE)
            .iter()
            .map(|&i| i as f32)
            .collect(),
    )
    .unwrap();
    let y = ArrayD::from_elem(IxDyn(&[BATCH, 1]), 0.5f32);
    let optimizers: [(&str, MakeOptimizer); 4] = [
        ("sgd (rows)", || {
            Box::new(SGDConfig::default().build().unwrap())
        }),
        ("adagrad (rows)", || {
            Box::new(AdagradConfig::default().build().unwrap())
        }),
        ("adam lazy_rows (rows)", || {
            Box::new(AdamConfig::default().with_lazy_rows(true).build().unwrap())
        }),
        ("adam (Keras: whole table)", || {
            Box::new(AdamConfig::default().build().unwrap())
        }),
    ];
    let mut group = c.benchmark_group("embedding 100000x64 step, batch 32");
    group.sample_size(10);
    for (name, make) in optimizers {
        let mut model = model(make());
        let config = || {
            FitConfig::new()
                .epochs(1)
                .batch_size(BATCH)
                .shuffle(false)
                .verbose(0)
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(model.fit(std::slice::from_ref(&x), &y, config()).unwrap()))
        });
    }
    group.finish();
}

fn table_update(c: &mut Criterion) {
    let lookups = ids(BATCH * IDS_PER_SAMPLE);
    let values: Vec<f32> = (0..lookups.len() * DIM)
        .map(|i| ((i % 17) as f32 - 8.0) * 1e-3)
        .collect();
    let rows = IndexedSlices::from_lookups(ROWS, DIM, &lookups, &values).unwrap();
    let dense = rows.to_dense().unwrap();
    let mut group = c.benchmark_group("table update 100000x64, 320 lookups");
    group.sample_size(10);
    for (name, make) in [
        (
            "sgd",
            (|| Box::new(SGDConfig::default().build().unwrap())) as fn() -> Box<dyn Optimizer>,
        ),
        ("adagrad", || {
            Box::new(AdagradConfig::default().build().unwrap())
        }),
    ] {
        let mut table = ArrayD::<f32>::zeros(IxDyn(&[ROWS, DIM]));
        let mut opt = make();
        group.bench_function(format!("{name} rows"), |b| {
            b.iter(|| {
                opt.apply(&mut [&mut table], &[GradientRef::Rows(&rows)])
                    .unwrap()
            })
        });
        let mut opt = make();
        group.bench_function(format!("{name} dense"), |b| {
            b.iter(|| opt.apply_gradients(&mut [&mut table], &[&dense]).unwrap())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Criterion's charts need system fonts a machine may lack; the figures go to docs/performance.md.
    config = Criterion::default().without_plots();
    targets = training_step, table_update
}
criterion_main!(benches);
