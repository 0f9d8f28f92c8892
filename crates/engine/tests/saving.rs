//! Saving and loading through the engine: whole models (`save` / `load_model`), weights alone
//! (`save_weights` / `load_weights` / `load_weights_by_name`), resuming a run bit for bit, and the typed
//! errors of damaged, foreign, missing and unwritable files.
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::{Array1, ArrayD, IxDyn};
use rkeras_engine::{EngineError, FitConfig, History, Model, Sequential, load_model};
use rkeras_io::IoError;
use rkeras_layers::{Dense, Dropout, Input, LayerCall, add, set_random_seed};
use rkeras_optim::{AdamConfig, RMSpropConfig};
use std::path::Path;

/// A deterministic pseudo-random array (a sine of the index), different for each `salt`.
fn data(shape: &[usize], salt: f32) -> ArrayD<f32> {
    let len = shape.iter().product();
    ArrayD::from_shape_vec(
        IxDyn(shape),
        (0..len)
            .map(|i| ((i as f32 + salt) * 0.731).sin())
            .collect(),
    )
    .unwrap()
}

/// Integer class labels `0..classes` as a column of floats.
fn labels(n: usize, classes: usize) -> ArrayD<f32> {
    Array1::from_iter((0..n).map(|i| ((i * 7 + i / 3) % classes) as f32)).into_dyn()
}

/// Two inputs through one shared Dense (one set of weights, two calls), a Dropout on each branch, their sum,
/// then a softmax head: compiled with a non-default Adam (two slots per weight).
fn functional_model(seed: u64) -> Model {
    set_random_seed(seed);
    let (left, right) = (Input::new(&[3]), Input::new(&[3]));
    let shared = Dense::new(4).with_activation("tanh").unwrap();
    let a = Dropout::new(0.25)
        .call(&shared.call(&left).unwrap())
        .unwrap();
    let b = Dropout::new(0.25)
        .call(&shared.call(&right).unwrap())
        .unwrap();
    let merged = add(&[a, b]).unwrap();
    let out = Dense::new(3)
        .with_activation("softmax")
        .unwrap()
        .call(&merged)
        .unwrap();
    let mut model = Model::new(&[left, right], &out)
        .unwrap()
        .with_name("two_towers");
    let adam = AdamConfig::default()
        .with_learning_rate(0.02)
        .with_beta_1(0.8)
        .build()
        .unwrap();
    model
        .compile(adam, "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
}

fn functional_data(n: usize) -> (Vec<ArrayD<f32>>, ArrayD<f32>) {
    (vec![data(&[n, 3], 0.0), data(&[n, 3], 100.0)], labels(n, 3))
}

/// A Sequential stack compiled with an RMSprop with momentum (two slots per weight).
fn sequential_model(seed: u64) -> Model {
    set_random_seed(seed);
    let mut model = Sequential::new(&[5])
        .add(Dense::new(8).with_activation("relu").unwrap())
        .unwrap()
        .add(Dropout::new(0.2))
        .unwrap()
        .add(Dense::new(1))
        .unwrap()
        .build()
        .unwrap();
    let rmsprop = RMSpropConfig::default()
        .with_learning_rate(0.01)
        .with_momentum(0.5)
        .build()
        .unwrap();
    model.compile(rmsprop, "mse", &[]).unwrap();
    model
}

fn sequential_data(n: usize) -> (Vec<ArrayD<f32>>, ArrayD<f32>) {
    (vec![data(&[n, 5], 3.0)], data(&[n, 1], 50.0))
}

fn quiet(epochs: usize) -> FitConfig<'static> {
    FitConfig::new()
        .epochs(epochs)
        .batch_size(8)
        .verbose(0)
        .seed(11)
}

/// `(name, class)` of every layer, in the model's order.
fn layer_list(model: &Model) -> Vec<(String, String)> {
    model
        .network()
        .layers()
        .iter()
        .map(|l| (l.name().to_string(), l.class_name().to_string()))
        .collect()
}

/// Every weight, bit for bit (so that `-0.0` and `0.0`, or two NaNs, are told apart).
fn weight_bits(model: &Model) -> Vec<(Vec<usize>, Vec<u32>)> {
    model
        .get_weights()
        .iter()
        .map(|w| (w.shape().to_vec(), w.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

fn assert_same_model(original: &Model, loaded: &Model, x: &[ArrayD<f32>]) {
    assert_eq!(layer_list(loaded), layer_list(original));
    assert_eq!(loaded.name(), original.name());
    assert_eq!(
        loaded.network().to_config("m"),
        original.network().to_config("m")
    );
    assert_eq!(weight_bits(loaded), weight_bits(original));
    assert_eq!(
        loaded.predict(x, 4).unwrap(),
        original.predict(x, 4).unwrap()
    );
    assert_eq!(loaded.metrics_names(), original.metrics_names());
    let (a, b) = (original.optimizer().unwrap(), loaded.optimizer().unwrap());
    assert_eq!(b.class_name(), a.class_name());
    assert_eq!(b.config(), a.config());
    let (sa, sb) = (a.state(), b.state());
    assert!(
        sa.iterations > 0 && !sa.slots.is_empty(),
        "the original optimizer has not stepped"
    );
    assert_eq!(sb, sa);
}

#[test]
fn functional_model_with_shared_layer_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two_towers.h5");
    let mut model = functional_model(3);
    let (x, y) = functional_data(24);
    model.fit(&x, &y, quiet(2)).unwrap();
    model.save(&path).unwrap();
    let loaded = load_model(&path).unwrap();
    // The shared Dense is one layer with one kernel, used by both inputs.
    let dense_layers = layer_list(&loaded)
        .iter()
        .filter(|(_, class)| class == "Dense")
        .count();
    assert_eq!(dense_layers, 2);
    assert_eq!(loaded.count_params(), 3 * 4 + 4 + 4 * 3 + 3);
    assert_eq!(loaded.network().inputs().len(), 2);
    assert_same_model(&model, &loaded, &x);
}

#[test]
fn sequential_model_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sequential.h5");
    let mut model = sequential_model(5);
    let (x, y) = sequential_data(20);
    model.fit(&x, &y, quiet(2)).unwrap();
    model.save(&path).unwrap();
    let loaded = load_model(&path).unwrap();
    assert_same_model(&model, &loaded, &x);
}

#[test]
fn an_uncompiled_model_loads_uncompiled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.h5");
    set_random_seed(9);
    let x = Input::new(&[2]);
    let y = Dense::new(3).call(&x).unwrap();
    let model = Model::new(&[x], &y).unwrap();
    model.save(&path).unwrap();
    let loaded = load_model(&path).unwrap();
    assert!(!loaded.is_compiled());
    assert_eq!(weight_bits(&loaded), weight_bits(&model));
}

#[test]
fn save_weights_then_load_weights_into_a_fresh_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.h5");
    let (source, mut target) = (functional_model(1), functional_model(2));
    assert_ne!(
        weight_bits(&source),
        weight_bits(&target),
        "different seeds must give different weights"
    );
    source.save_weights(&path).unwrap();
    target.load_weights(&path).unwrap();
    assert_eq!(weight_bits(&target), weight_bits(&source));
    let (x, _) = functional_data(10);
    assert_eq!(
        target.predict(&x, 4).unwrap(),
        source.predict(&x, 4).unwrap()
    );
    // A whole-model file is accepted too.
    let whole = dir.path().join("whole.h5");
    let other = functional_model(3);
    other.save(&whole).unwrap();
    target.load_weights(&whole).unwrap();
    assert_eq!(weight_bits(&target), weight_bits(&other));
}

/// Input [3] → Dense(5) named `first` → Dense(`units`) named `second`.
fn named_pair(first: &str, second: &str, units: usize, seed: u64) -> Model {
    set_random_seed(seed);
    let x = Input::new(&[3]);
    let h = Dense::new(5).with_name(first).call(&x).unwrap();
    let y = Dense::new(units).with_name(second).call(&h).unwrap();
    Model::new(&[x], &y).unwrap()
}

fn layer_bits(model: &Model, name: &str) -> Vec<Vec<u32>> {
    let layer = model.network().layer(name).unwrap();
    layer
        .weights()
        .iter()
        .map(|w| w.value().iter().map(|v| v.to_bits()).collect())
        .collect()
}

#[test]
fn load_weights_by_name_matches_layers_by_name_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("named.h5");
    let source = named_pair("encoder", "head", 2, 1);
    source.save_weights(&path).unwrap();

    let target = named_pair("other", "head", 2, 2);
    let other_before = layer_bits(&target, "other");
    target.load_weights_by_name(&path).unwrap();
    assert_eq!(layer_bits(&target, "head"), layer_bits(&source, "head"));
    assert_eq!(
        layer_bits(&target, "other"),
        other_before,
        "a layer absent from the file keeps its weights"
    );

    // By position the same file loads `encoder` into `other` as well.
    let mut by_position = named_pair("other", "head", 2, 2);
    by_position.load_weights(&path).unwrap();
    assert_eq!(
        layer_bits(&by_position, "other"),
        layer_bits(&source, "encoder")
    );
}

#[test]
fn by_name_shape_mismatch_is_an_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("named.h5");
    named_pair("encoder", "head", 2, 1)
        .save_weights(&path)
        .unwrap();
    // `encoder` matches and comes first; `head` has another width: nothing may be loaded.
    let target = named_pair("encoder", "head", 4, 2);
    let before = weight_bits(&target);
    let err = target.load_weights_by_name(&path).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, EngineError::File { .. }), "{err:?}");
    assert!(
        text.contains(&path.display().to_string()) && text.contains("head"),
        "{text}"
    );
    assert!(text.contains("[5, 2]") && text.contains("[5, 4]"), "{text}");
    assert_eq!(weight_bits(&target), before);
}

#[test]
fn loading_into_another_architecture_is_an_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.h5");
    named_pair("encoder", "head", 2, 1)
        .save_weights(&path)
        .unwrap();
    let file = path.display().to_string();

    // A Dense of another width: the shapes are named, and the first layer (which fits) is not loaded either.
    let mut wider = named_pair("encoder", "head", 6, 2);
    let before = weight_bits(&wider);
    let err = wider.load_weights(&path).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, EngineError::File { .. }), "{err:?}");
    assert!(text.contains(&file) && text.contains("`head`"), "{text}");
    assert!(text.contains("[5, 2]") && text.contains("[5, 6]"), "{text}");
    assert_eq!(weight_bits(&wider), before);

    // A model with one more layer than the file: an error naming the file and both lists of layers.
    set_random_seed(3);
    let x = Input::new(&[3]);
    let h = Dense::new(5).with_name("encoder").call(&x).unwrap();
    let h = Dense::new(2).with_name("head").call(&h).unwrap();
    let y = Dense::new(2).with_name("extra").call(&h).unwrap();
    let mut deeper = Model::new(&[x], &y).unwrap();
    let before = weight_bits(&deeper);
    let err = deeper.load_weights(&path).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, EngineError::File { .. }), "{err:?}");
    assert!(
        text.contains(&file) && text.contains("2 layers") && text.contains("has 3"),
        "{text}"
    );
    assert!(text.contains("encoder, head, extra"), "{text}");
    assert_eq!(weight_bits(&deeper), before);

    // A model with one layer fewer.
    set_random_seed(4);
    let x = Input::new(&[3]);
    let h = Dense::new(5).with_name("encoder").call(&x).unwrap();
    let mut shallow = Model::new(&[x], &h).unwrap();
    let before = weight_bits(&shallow);
    let err = shallow.load_weights(&path).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&file)
            && text.contains("(encoder, head)")
            && text.contains("has 1 (encoder)"),
        "{text}"
    );
    assert_eq!(weight_bits(&shallow), before);
}

fn history_tail(history: &History, key: &str, from: usize) -> Vec<u64> {
    history
        .get(key)
        .unwrap_or_else(|| panic!("no `{key}` in the history"))[from..]
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// Trains `epochs` epochs in one go, and `split` epochs then save, `load_model`, the rest: same weights bit for
/// bit, same last epochs' history.
fn check_resume(build: fn(u64) -> Model, x: &[ArrayD<f32>], y: &ArrayD<f32>, keys: &[&str]) {
    let (split, epochs, seed) = (4, 8, 21);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resume.h5");
    let config = |epochs| {
        FitConfig::new()
            .epochs(epochs)
            .batch_size(5)
            .shuffle(true)
            .verbose(0)
            .seed(seed)
    };

    let mut straight = build(7);
    let full = straight.fit(x, y, config(epochs)).unwrap();

    let mut first = build(7);
    first.fit(x, y, config(split)).unwrap();
    first.save(&path).unwrap();
    drop(first);
    let mut resumed = load_model(&path).unwrap();
    let rest = resumed
        .fit(x, y, config(epochs).initial_epoch(split))
        .unwrap();

    assert_eq!(weight_bits(&resumed), weight_bits(&straight));
    for key in keys {
        assert_eq!(
            history_tail(&rest, key, 0),
            history_tail(&full, key, split),
            "history `{key}`"
        );
    }
    assert_eq!(
        resumed.optimizer().unwrap().state(),
        straight.optimizer().unwrap().state()
    );
    // Shuffling changes the run, so the seeded shuffle really had to be reproduced after loading.
    let mut plain = build(7);
    plain.fit(x, y, config(epochs).shuffle(false)).unwrap();
    assert_ne!(weight_bits(&plain), weight_bits(&straight));
}

#[test]
fn resume_after_load_model_is_bit_identical_sequential() {
    let (x, y) = sequential_data(23);
    check_resume(sequential_model, &x, &y, &["loss", "learning_rate"]);
}

#[test]
fn resume_after_load_model_is_bit_identical_functional() {
    let (x, y) = functional_data(23);
    check_resume(
        functional_model,
        &x,
        &y,
        &["loss", "accuracy", "learning_rate"],
    );
}

fn saved_model(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("good.h5");
    sequential_model(1).save(&path).unwrap();
    path
}

/// Every way of reading a file returns an error naming it (and none panics).
fn assert_every_load_fails(path: &Path, expected: fn(&IoError) -> bool) {
    let file = path.display().to_string();
    let mut model = sequential_model(2);
    let results = [
        ("load_model", load_model(path).map(|_| ())),
        ("load_weights", model.load_weights(path)),
        ("load_weights_by_name", model.load_weights_by_name(path)),
    ];
    for (what, result) in results {
        let err = result.unwrap_err();
        assert!(
            matches!(&err, EngineError::Io(io) if expected(io)),
            "{what}: {err:?}"
        );
        assert!(err.to_string().contains(&file), "{what}: {err}");
    }
}

#[test]
fn truncated_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(saved_model(dir.path())).unwrap();
    for keep in [bytes.len() / 2, bytes.len() - 1, 600] {
        let path = dir.path().join(format!("truncated_{keep}.h5"));
        std::fs::write(&path, &bytes[..keep]).unwrap();
        assert_every_load_fails(&path, |e| {
            matches!(e, IoError::Open { .. } | IoError::Hdf5 { .. })
        });
    }
}

#[test]
fn non_hdf5_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.h5");
    std::fs::write(&path, "epoch,loss\n0,1.5\n").unwrap();
    assert_every_load_fails(&path, |e| matches!(e, IoError::Open { .. }));
    let empty = dir.path().join("empty.h5");
    std::fs::write(&empty, b"").unwrap();
    assert_every_load_fails(&empty, |e| matches!(e, IoError::Open { .. }));
}

#[test]
fn missing_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_every_load_fails(&dir.path().join("absent.h5"), |e| {
        matches!(e, IoError::NotFound { .. })
    });
}

/// A file whose optimizer slot has another shape than its parameter (a damaged dataspace in a file
/// without checksums, as Keras writes them, reads this way) is refused, naming the slot, rather
/// than loaded into the optimizer.
#[test]
fn an_optimizer_slot_of_the_wrong_shape_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trained.h5");
    let mut model = sequential_model(1);
    let (x, y) = sequential_data(16);
    model.fit(&x, &y, quiet(1)).unwrap();
    model.save(&path).unwrap();
    let mut file = rkeras_io::load_model_file(&path).unwrap();
    let optimizer = file.optimizer.as_mut().unwrap();
    let slot = &mut optimizer.weights[1];
    slot.value = ArrayD::zeros(IxDyn(&[1, 2]));
    let slot_name = slot.name.clone();
    rkeras_io::save_model_file(&path, &file).unwrap();
    let err = load_model(&path).map(|_| ()).unwrap_err();
    assert!(matches!(err, EngineError::File { .. }), "{err:?}");
    assert!(err.to_string().contains(&slot_name), "{err}");
    assert!(err.to_string().contains("[1, 2]"), "{err}");
}

#[test]
fn weights_only_file_is_not_a_whole_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.h5");
    sequential_model(1).save_weights(&path).unwrap();
    let err = load_model(&path).map(|_| ()).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn failed_save_leaves_the_previous_checkpoint_loadable() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = saved_model(dir.path());
    let saved = weight_bits(&load_model(&checkpoint).unwrap());

    // The parent of the target is a regular file: the save fails, naming the target, and creates nothing.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "not a directory").unwrap();
    let impossible = blocker.join("model.h5");
    let model = sequential_model(8);
    for result in [model.save(&impossible), model.save_weights(&impossible)] {
        let err = result.unwrap_err();
        assert!(matches!(err, EngineError::Io(_)), "{err:?}");
        assert!(
            err.to_string().contains(&impossible.display().to_string()),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&blocker).unwrap(),
        "not a directory"
    );

    // A save at the checkpoint itself that fails (a layer name HDF5 cannot store) leaves it intact.
    set_random_seed(8);
    let x = Input::new(&[5]);
    let y = Dense::new(1).with_name("bad/name").call(&x).unwrap();
    let unsavable = Model::new(&[x], &y).unwrap();
    let err = unsavable.save(&checkpoint).unwrap_err();
    assert!(err.to_string().contains("bad/name"), "{err}");
    assert_eq!(weight_bits(&load_model(&checkpoint).unwrap()), saved);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "no temporary file is left behind: {names:?}"
    );
}
