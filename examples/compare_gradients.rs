//! Compares rkeras's gradients of the memory network's loss with Keras's, on Keras's trained weights.
//!
//!     KERAS_BACKEND=jax python3 scripts/keras_gradients.py ../shared/fixtures/keras_memnn_qa1 /tmp/keras_grads.json
//!     cargo run --release --example compare_gradients -- ../shared/fixtures/keras_memnn_qa1 /tmp/keras_grads.json
//!
//! Both sides: the first 32 rows of `expected.json`, inference mode (no dropout), mean sparse cross-entropy.

use rand::SeedableRng;
use rkeras::layers::CallContext;
use rkeras::tensor::Tensor;
use serde_json::Value;

fn column(rows: &[Value], key: &str) -> Vec<f32> {
    rows.iter()
        .flat_map(|r| {
            r[key]
                .as_array()
                .into_iter()
                .flatten()
                .chain(std::iter::once(&r[key]).filter(|v| v.is_number()))
        })
        .filter_map(|v| v.as_f64().map(|x| x as f32))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (fixture, keras_json) = match args.as_slice() {
        [_, f, k] => (f.clone(), k.clone()),
        _ => return Err("usage: compare_gradients FIXTURE_DIR KERAS_GRADS.json".into()),
    };
    let model = rkeras::load_model(format!("{fixture}/model.h5"))?;
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{fixture}/expected.json"
    ))?)?;
    let rows: Vec<Value> = expected["rows"]
        .as_array()
        .ok_or("expected.json has no rows")?
        .iter()
        .take(32)
        .cloned()
        .collect();
    let n = rows.len();
    let stories = Tensor::from_vec(&[n, 68], column(&rows, "story"))?;
    let queries = Tensor::from_vec(&[n, 4], column(&rows, "query"))?;
    let answers = Tensor::from_vec(&[n], column(&rows, "answer"))?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    let outputs = model
        .network()
        .forward_outputs(&[stories, queries], &mut ctx, true)?;
    let logits = outputs[0]
        .logits
        .clone()
        .ok_or("the model does not end in a softmax")?;
    let loss = logits.sparse_softmax_cross_entropy(&answers)?.mean_all()?;
    let grads = loss.backward()?;
    let keras: Value = serde_json::from_str(&std::fs::read_to_string(keras_json)?)?;
    println!(
        "loss: rkeras {:.8}, Keras {:.8}",
        loss.to_scalar()?,
        keras["loss"].as_f64().unwrap_or(f64::NAN)
    );
    for (i, var) in model.network().trainable_weights().iter().enumerate() {
        let ours = &grads.dense_var(var)?.ok_or("no gradient")?;
        let theirs: Vec<f64> = keras["grads"][i]
            .as_array()
            .ok_or("bad json")?
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        let scale = theirs.iter().fold(0f64, |m, x| m.max(x.abs()));
        let diff = ours
            .iter()
            .zip(&theirs)
            .fold(0f64, |m, (a, b)| m.max((f64::from(*a) - b).abs()));
        println!(
            "{:34} max |g| {scale:.3e}   max |difference| {diff:.3e}   relative {:.2e}",
            keras["names"][i].as_str().unwrap_or("?"),
            diff / scale
        );
    }
    Ok(())
}
