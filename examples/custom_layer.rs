//! A layer written outside rkeras: `TokenAndPositionEmbedding` (Keras's text-classification example layer),
//! implementing the public `Layer` trait, trained in a small model, saved to `.h5` and loaded back through
//! `register_layer`. `cargo run --release --example custom_layer`.
//!
//! The task: sequences of 8 tokens from a vocabulary of 10 hold the token 9 exactly once; the label says
//! whether it is in the first half. Position matters, so the layer's position embedding has work to do. The
//! example asserts that the model learns (accuracy ≥ 0.95, loss down by more than half), that the loaded
//! model predicts the same values, and that an unregistered `Lambda` refuses to be saved, saying why.
//! Expected output: about 1.00 accuracy after 30 epochs.

#[path = "seq_common/token_position.rs"]
mod token_position;
use token_position::TokenAndPositionEmbedding;

use ndarray::{Array2, ArrayD};
use rand::{Rng, SeedableRng};
use rkeras::layers::{Flatten, Lambda, register_layer};
use rkeras::prelude::*;

const MAXLEN: usize = 8;
const VOCAB: usize = 10;

/// Sequences of tokens 0..9 holding the token 9 once; label 1 when it is in the first half.
fn data(samples: usize, seed: u64) -> (ArrayD<f32>, ArrayD<f32>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut x = Array2::<f32>::zeros((samples, MAXLEN));
    let mut y = Array2::<f32>::zeros((samples, 1));
    for i in 0..samples {
        for j in 0..MAXLEN {
            x[[i, j]] = rng.random_range(0..VOCAB - 1) as f32;
        }
        let at = rng.random_range(0..MAXLEN);
        x[[i, at]] = (VOCAB - 1) as f32;
        y[[i, 0]] = if at < MAXLEN / 2 { 1.0 } else { 0.0 };
    }
    (x.into_dyn(), y.into_dyn())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    register_layer(
        "MyLayers>TokenAndPositionEmbedding",
        TokenAndPositionEmbedding::from_config,
    );
    rkeras::layers::set_random_seed(1);
    let input = Input::new(&[MAXLEN]);
    let embedded = TokenAndPositionEmbedding::new(MAXLEN, VOCAB, 8).call(&input)?;
    let flat = Flatten::new().call(&embedded)?;
    let hidden = Dense::new(16).with_activation("gelu")?.call(&flat)?;
    let output = Dense::new(1).with_activation("sigmoid")?.call(&hidden)?;
    let mut model = Model::new(&[input], &output)?;
    model.compile("adam", "binary_crossentropy", &["accuracy"])?;

    let (x, y) = data(1024, 2);
    let history = model.fit(
        std::slice::from_ref(&x),
        &y,
        FitConfig::new().epochs(30).batch_size(32).verbose(0),
    )?;
    let loss = history.get("loss").ok_or("no loss")?;
    let (x_test, y_test) = data(512, 3);
    let scores = model.evaluate(std::slice::from_ref(&x_test), &y_test, 128)?;
    let accuracy = scores.get("accuracy").copied().ok_or("no accuracy")?;
    println!(
        "loss {:.4} -> {:.4}; test accuracy {accuracy:.3}",
        loss[0],
        loss[loss.len() - 1]
    );
    assert!(accuracy >= 0.95, "the model did not learn: {accuracy}");
    assert!(loss[loss.len() - 1] < 0.5 * loss[0]);

    // Saved to Keras's .h5 (the custom layer recorded under its registered name) and loaded back.
    let dir = std::env::temp_dir().join(format!("rkeras_custom_layer_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("custom.h5");
    model.save(&path)?;
    let loaded = load_model(&path)?;
    assert_eq!(
        loaded.predict(std::slice::from_ref(&x_test), 128)?,
        model.predict(&[x_test], 128)?
    );
    println!("saved and loaded {}", path.display());

    // A Lambda's closure cannot be saved: the error says why.
    let input = Input::new(&[3]);
    let doubled = Lambda::unary(|t| t.mul_scalar(2.0)).call(&input)?;
    let lambda_model = Model::new(&[input], &doubled)?;
    let err = lambda_model.save(dir.join("lambda.h5")).unwrap_err();
    println!("{err}");
    assert!(err.to_string().contains("closure"));
    Ok(())
}
