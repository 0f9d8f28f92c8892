//! Training steps reuse array buffers through `buffer_pool` without changing a single bit of the gradients,
//! and neither the pool nor the number of live tensors grows from step to step.
//! (A file with one test: it switches the process-wide pool limit and reads the process-wide live count.)

use ndarray::ArrayD;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::kernels::lstm::GateActivation;
use rkeras_tensor::ops::LstmConfig;
use rkeras_tensor::{Initializer, Result, Tensor, Variable, buffer_pool};

const BATCH: usize = 4;
const STORY: usize = 6;
const QUERY: usize = 3;
const VOCAB: usize = 7;
const DIM: usize = 8;
const UNITS: usize = 5;
const CLASSES: usize = 4;
/// No array in the step below holds more elements than this.
const LARGEST_ARRAY: usize = 256;

fn random(shape: &[usize], seed: u64) -> ArrayD<f32> {
    Initializer::RandomUniform {
        min: -0.5,
        max: 0.5,
    }
    .sample(shape, &mut StdRng::seed_from_u64(seed))
    .unwrap()
}

fn ids(shape: &[usize], seed: u64) -> Tensor {
    let values = random(shape, seed).mapv(|v| ((v + 0.5) * VOCAB as f32).floor().min(6.0));
    Tensor::new(values)
}

struct Model {
    embedding: Variable,
    kernel: Variable,
    recurrent_kernel: Variable,
    bias: Variable,
    dense: Variable,
    dense_bias: Variable,
}

impl Model {
    fn new() -> Model {
        Model {
            embedding: Variable::new("embedding", random(&[VOCAB, DIM], 1)),
            kernel: Variable::new("kernel", random(&[STORY + DIM, 4 * UNITS], 2)),
            recurrent_kernel: Variable::new("recurrent", random(&[UNITS, 4 * UNITS], 3)),
            bias: Variable::new("bias", random(&[4 * UNITS], 4)),
            dense: Variable::new("dense", random(&[2 * UNITS, CLASSES], 5)),
            dense_bias: Variable::new("dense_bias", random(&[CLASSES], 6)),
        }
    }

    fn variables(&self) -> [&Variable; 6] {
        [
            &self.embedding,
            &self.kernel,
            &self.recurrent_kernel,
            &self.bias,
            &self.dense,
            &self.dense_bias,
        ]
    }
}

/// One forward and backward pass of a small memory network (most ops of the crate on the way); returns the
/// bits of every variable's gradient.
fn step(model: &Model) -> Result<Vec<Vec<u32>>> {
    let story = ids(&[BATCH, STORY], 10);
    let question = ids(&[BATCH, QUERY], 11);
    let mask = random(&[BATCH, STORY, DIM], 12).mapv(|v| if v > -0.2 { 1.4 } else { 0.0 });
    let embedding = model.embedding.tensor();
    let memory = embedding.gather_rows(&story)?.apply_mask(mask)?;
    let query = embedding.gather_rows(&question)?;
    let matched = memory.batch_matmul(&query, false, true)?.softmax(-1)?;
    let response = matched
        .add(&Tensor::new(random(&[BATCH, STORY, QUERY], 13)))?
        .permute(&[0, 2, 1])?;
    let answer = Tensor::concat(&[response, query.clone()], -1)?;
    let config = LstmConfig {
        return_sequences: true,
        recurrent_activation: GateActivation::HardSigmoidKeras2,
    };
    let hidden = answer.lstm(
        &model.kernel.tensor(),
        &model.recurrent_kernel.tensor(),
        &model.bias.tensor(),
        config,
    )?;
    let features = hidden.narrow(1, 1, 2)?.reshape(&[BATCH, 2 * UNITS])?;
    let logits = features
        .matmul(&model.dense.tensor())?
        .add(&model.dense_bias.tensor())?;
    let labels = Tensor::from_vec(&[BATCH], vec![0.0, 3.0, 1.0, 2.0])?;
    let sparse = logits.sparse_softmax_cross_entropy(&labels)?.mean_all()?;
    let targets = Tensor::new(random(&[BATCH, CLASSES], 14).mapv(f32::abs));
    let dense_loss = logits.softmax_cross_entropy(&targets)?.sum_all()?;
    let log_probs = logits.log_softmax(-1)?.mul(&targets)?.sum(&[1], true)?;
    let shaped = logits
        .tanh()?
        .maximum(&Tensor::new(random(&[1, CLASSES], 15)))?
        .sub(&Tensor::scalar(0.25))?
        .div(&logits.square()?.add_scalar(1.0)?)?
        .max(-1, false)?
        .exp()?;
    let pooled = query.mean(&[1], false)?.sigmoid()?.sum_all()?;
    let loss = sparse
        .add(&dense_loss.mul_scalar(0.5)?)?
        .sub(&log_probs.mean_all()?)?
        .add(&shaped.sum_all()?.mul_scalar(0.1)?)?
        .add(&pooled.mul_scalar(0.01)?)?;
    let grads = loss.backward()?;
    Ok(model
        .variables()
        .iter()
        .map(|v| {
            // The embedding table's row gradient is read in dense form, a copy handed back to the pool.
            let grad = grads
                .dense_var(v)
                .unwrap()
                .expect("every variable gets a gradient");
            let bits = grad.iter().map(|g| g.to_bits()).collect();
            buffer_pool::give_array(grad);
            bits
        })
        .collect())
}

/// Fills the pool with one NaN buffer of every length an array of the step can have: any op that read an
/// output buffer before writing it would turn its result to NaN.
fn poison_pool() {
    buffer_pool::clear();
    for len in 1..=LARGEST_ARRAY {
        let mut buffer = buffer_pool::take(len);
        buffer.fill(f32::NAN);
        buffer_pool::give(buffer);
    }
}

#[test]
fn reused_buffers_give_bit_identical_gradients_and_the_pool_stays_bounded() {
    let model = Model::new();

    // Reference: pooling off, every buffer freshly allocated as without a pool.
    buffer_pool::set_limit_bytes(0);
    buffer_pool::clear();
    let fresh = step(&model).unwrap();
    assert_eq!(buffer_pool::stats().hits, 0);
    assert!(fresh.iter().all(|g| !g.is_empty()));
    buffer_pool::set_limit_bytes(buffer_pool::DEFAULT_LIMIT_BYTES);

    poison_pool();
    let hits = buffer_pool::stats().hits;
    assert_eq!(
        step(&model).unwrap(),
        fresh,
        "first step on a poisoned pool"
    );
    assert!(buffer_pool::stats().hits > hits);

    // Warm up, then every step is served from the pool without any new allocation and without growth.
    for _ in 0..3 {
        assert_eq!(step(&model).unwrap(), fresh);
    }
    let settled = buffer_pool::stats();
    let live = Tensor::live_count();
    for _ in 0..50 {
        assert_eq!(step(&model).unwrap(), fresh);
    }
    let after = buffer_pool::stats();
    assert_eq!(
        after.misses, settled.misses,
        "steady steps allocate nothing"
    );
    assert!(after.hits >= settled.hits + 50);
    assert_eq!(
        (after.buffers, after.bytes),
        (settled.buffers, settled.bytes)
    );
    assert_eq!(Tensor::live_count(), live);
    assert!(after.bytes <= buffer_pool::limit_bytes());
}
