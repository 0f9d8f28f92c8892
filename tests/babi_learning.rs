//! The bAbI memory network learns the single-supporting-fact task (qa1) from the built-in generated stories.
//!
//! "Learns" is measured against two baselines computed from the test data itself:
//! - the majority answer: always answering the most frequent place (≈ 1/6 with 6 places);
//! - the most recent place: answering the place of the story's last statement, whoever it was about. This is
//!   right whenever the supporting fact is the last statement (≈ 45% on qa1) and is what the model's LSTM can
//!   learn without the attention over the story (the long plateau near 0.5 before the attention takes over).
//!
//! A model that clears the second baseline by a wide margin has learned to find the statement about the asked
//! person.

use ndarray::ArrayD;
use rkeras::datasets::{BabiSource, QaExample, Task, Vectorized, Vectorizer, parse_babi};
use rkeras::prelude::*;
use std::collections::HashMap;

/// Train and test splits of generated qa1, vectorised as the Keras example does.
struct Qa1 {
    vectorizer: Vectorizer,
    train: Vectorized,
    test: Vectorized,
    test_examples: Vec<QaExample>,
}

/// `stories` generated training stories (5 questions each) and a tenth as many test stories, as
/// `examples/babi_memnn.rs --generate N` makes them.
fn generated_qa1(stories: usize, seed: u64) -> Qa1 {
    let source = BabiSource::Generated {
        train_stories: stories,
        test_stories: stories / 10,
        seed,
    };
    let splits = source.load(Task::QA1, false).unwrap();
    let vectorizer = Vectorizer::fit(&splits.train, &splits.test).unwrap();
    Qa1 {
        train: vectorizer.vectorize(&splits.train).unwrap(),
        test: vectorizer.vectorize(&splits.test).unwrap(),
        vectorizer,
        test_examples: splits.test,
    }
}

/// The share of the most frequent answer.
fn majority_share(examples: &[QaExample]) -> f64 {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for example in examples {
        *counts.entry(example.answer.as_str()).or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    most as f64 / examples.len() as f64
}

/// The share of questions answered by the place of the story's last statement (`… to the <place> .`).
fn most_recent_place_share(examples: &[QaExample]) -> f64 {
    let right = examples
        .iter()
        .filter(|example| {
            let story = &example.story;
            story.last() == Some(".")
                && story.len() >= 2
                && story.get(story.len() - 2) == Some(example.answer.as_str())
        })
        .count();
    right as f64 / examples.len() as f64
}

/// The accuracy of `predictions` (one softmax row per example) against the answers' word indices.
fn accuracy_of(predictions: &ArrayD<f32>, answers: &ndarray::Array1<f32>) -> f64 {
    let predictions = predictions
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let hits = predictions
        .rows()
        .into_iter()
        .zip(answers)
        .filter(|(row, answer)| {
            let best = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .unwrap();
            best == **answer as usize
        })
        .count();
    hits as f64 / answers.len() as f64
}

#[test]
fn baselines_count_what_they_say() {
    let text = "1 Mary moved to the bathroom.\n2 John went to the hallway.\n3 Where is Mary? \tbathroom\t1\n\
                4 Daniel went back to the hallway.\n5 Sandra moved to the garden.\n6 Where is Daniel? \thallway\t4\n\
                7 Where is Sandra? \tgarden\t5\n8 Where is John? \thallway\t2\n";
    let examples = parse_babi(text, "hand-written", false).unwrap();
    assert_eq!(examples.len(), 4);
    // Answers bathroom, hallway, garden, hallway; only Sandra's is in the last statement before its question.
    assert_eq!(majority_share(&examples), 0.5);
    assert_eq!(most_recent_place_share(&examples), 0.25);

    // On generated qa1: 6 places, near-uniform answers; the last statement supports ≈ 45% of the questions.
    let data = generated_qa1(200, 1);
    let majority = majority_share(&data.test_examples);
    let recent = most_recent_place_share(&data.test_examples);
    assert!((1.0 / 6.0..0.3).contains(&majority), "majority {majority}");
    assert!((0.45..0.65).contains(&recent), "most recent place {recent}");
}

/// Training stories of the learning test (15,000 questions, 1,500 test questions).
const STORIES: usize = 3000;
/// Epochs of the learning test: enough for the attention to take over from the plateau near 0.5.
const EPOCHS: usize = 60;
/// The accuracy the learning test asks for: with these sizes, seeds 1, 2 and 3 reach 0.959, 0.907 and 0.948
/// (the plateau of the most recent place is ≈ 0.54), so the bar leaves a margin of 0.1 below the worst.
const BAR: f64 = 0.8;

/// The inputs and sparse answers of the Keras 3 form: `[stories, queries]`.
fn two_inputs(split: &Vectorized) -> (Vec<ArrayD<f32>>, ArrayD<f32>) {
    (
        vec![
            split.stories.clone().into_dyn(),
            split.queries.clone().into_dyn(),
        ],
        split.answers.clone().into_dyn(),
    )
}

#[test]
fn memory_network_learns_generated_qa1() {
    let seed = 1;
    let data = generated_qa1(STORIES, seed);
    set_random_seed(seed);
    let mut model = rkeras::models::memory_network(
        data.vectorizer.vocab_size(),
        data.vectorizer.story_maxlen(),
        data.vectorizer.query_maxlen(),
    )
    .unwrap();
    model
        .compile("rmsprop", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    let (x_train, y_train) = two_inputs(&data.train);
    let (x_test, y_test) = two_inputs(&data.test);

    let untrained = model.evaluate(&x_test, &y_test, 256).unwrap()["accuracy"];
    let history = model
        .fit(
            &x_train,
            &y_train,
            FitConfig::new()
                .epochs(EPOCHS)
                .batch_size(32)
                .verbose(0)
                .seed(seed),
        )
        .unwrap();
    let accuracy = model.evaluate(&x_test, &y_test, 256).unwrap()["accuracy"];

    let majority = majority_share(&data.test_examples);
    let recent = most_recent_place_share(&data.test_examples);
    eprintln!(
        "generated qa1, {STORIES} stories, {EPOCHS} epochs, seed {seed}: test accuracy {accuracy:.3} \
         (untrained {untrained:.3}; majority answer {majority:.3}; most recent place {recent:.3})"
    );
    // The reported accuracy is the share of right argmax predictions (accumulated in float32, as Keras's
    // metrics are, so equal to the exact share to float32 precision).
    let predictions = model.predict(&x_test, 256).unwrap();
    assert!((accuracy_of(&predictions, &data.test.answers) - accuracy).abs() < 1e-6);
    let losses = history.get("loss").unwrap();
    assert!(
        losses[EPOCHS - 1] < 0.25 * losses[0],
        "training loss {} → {}",
        losses[0],
        losses[EPOCHS - 1]
    );
    assert!(
        untrained <= majority + 0.05,
        "untrained accuracy {untrained}"
    );
    assert!(
        accuracy >= BAR && accuracy >= recent + 0.25 && accuracy >= 4.0 * majority,
        "test accuracy {accuracy:.3}: bar {BAR}, most recent place {recent:.3}, majority {majority:.3}"
    );
}

/// The Keras 1 form: inputs `[stories, queries, stories]`, one-hot answers, categorical cross-entropy, and the
/// callbacks its scripts pass to `fit`, `ModelCheckpoint("checkpoint.h5", verbose=1)` and
/// `ReduceLROnPlateau(min_lr=1e-5)`, with the test split as validation data. A smaller run that stops on the
/// plateau near 0.5, far above the majority answer (seeds 1, 2 and 3 reach 0.502, 0.534 and 0.512), and
/// leaves a checkpoint that predicts as the trained model does.
#[test]
fn keras1_memory_network_learns_with_categorical_crossentropy() {
    let (seed, stories, epochs) = (1, 1000, 30);
    let data = generated_qa1(stories, seed);
    set_random_seed(seed);
    let mut model = rkeras::models::memory_network_keras1(
        data.vectorizer.vocab_size(),
        data.vectorizer.story_maxlen(),
        data.vectorizer.query_maxlen(),
    )
    .unwrap();
    model
        .compile("rmsprop", "categorical_crossentropy", &["accuracy"])
        .unwrap();
    let three_inputs = |split: &Vectorized| {
        let stories = split.stories.clone().into_dyn();
        vec![stories.clone(), split.queries.clone().into_dyn(), stories]
    };
    let (x_train, y_train) = (
        three_inputs(&data.train),
        data.train.one_hot_answers().into_dyn(),
    );
    let (x_test, y_test) = (
        three_inputs(&data.test),
        data.test.one_hot_answers().into_dyn(),
    );

    let untrained_loss = model.evaluate(&x_test, &y_test, 256).unwrap()["loss"];
    let dir = std::env::temp_dir().join(format!("rkeras-babi-learning-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let checkpoint_path = dir.join("checkpoint.h5");
    let mut checkpoint = ModelCheckpoint::new(&checkpoint_path)
        .unwrap()
        .with_verbose(1);
    let mut reduce_lr = ReduceLROnPlateau::new().with_min_lr(1e-5).unwrap();
    let history = model
        .fit(
            &x_train,
            &y_train,
            FitConfig::new()
                .epochs(epochs)
                .batch_size(32)
                .verbose(0)
                .seed(seed)
                .validation_data(x_test.clone(), y_test.clone())
                .callback(&mut checkpoint)
                .callback(&mut reduce_lr),
        )
        .unwrap();
    let test = model.evaluate(&x_test, &y_test, 256).unwrap();
    let (accuracy, loss) = (test["accuracy"], test["loss"]);
    let majority = majority_share(&data.test_examples);
    eprintln!(
        "Keras 1 form, generated qa1, {stories} stories, {epochs} epochs, seed {seed}: test accuracy \
         {accuracy:.3}, loss {loss:.3} (majority answer {majority:.3})"
    );

    // Categorical cross-entropy of a near-uniform untrained softmax is ln(vocabulary); training cuts it by half.
    let uniform = (data.vectorizer.vocab_size() as f64).ln();
    assert!(
        (untrained_loss - uniform).abs() < 0.1,
        "untrained loss {untrained_loss}, ln(vocabulary) {uniform}"
    );
    assert!(
        loss < 0.5 * untrained_loss,
        "test loss {untrained_loss} → {loss}"
    );
    let losses = history.get("loss").unwrap();
    assert!(losses[epochs - 1] < losses[0], "{losses:?}");
    // The last epoch's validation figures are the test split's.
    let val_accuracy = history.get("val_accuracy").unwrap()[epochs - 1];
    assert!(
        (val_accuracy - accuracy).abs() < 1e-9,
        "{val_accuracy} vs {accuracy}"
    );
    assert!(
        accuracy >= 0.4 && accuracy >= 2.0 * majority,
        "test accuracy {accuracy:.3}, majority {majority:.3}"
    );

    // The checkpoint of the last epoch is the trained model: same inputs, same predictions.
    let restored = load_model(&checkpoint_path).unwrap();
    assert_eq!(restored.network().inputs().len(), 3);
    let expected = model.predict(&x_test, 256).unwrap();
    let got = restored.predict(&x_test, 256).unwrap();
    assert_eq!(got.shape(), expected.shape());
    let max_diff = got
        .iter()
        .zip(expected.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max_diff < 1e-6, "restored predictions differ by {max_diff}");
    std::fs::remove_dir_all(&dir).unwrap();
}
