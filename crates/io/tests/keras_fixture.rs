//! Reading a real Keras 3 file (`model.save("model.h5")` of the bAbI QA1 memory network), and
//! writing it back in a form Keras itself loads. Needs ../shared and the Python of
//! `rkeras_testkit::keras_python`: fails with CI=true when either is missing, a loud notice otherwise.

use std::path::{Path, PathBuf};

use rkeras_io::{ModelFile, load_model_file, load_weights_file, save_model_file};

fn fixture() -> Option<PathBuf> {
    rkeras_testkit::shared_path(
        "fixtures/keras_memnn_qa1/model.h5",
        "the checks of Keras's memory-network file",
    )
}

/// A layer's name and its weights' names and shapes.
type LayerSummary<'a> = (&'a str, Vec<(&'a str, Vec<usize>)>);

/// The layers in the file's `layer_names` order, as h5py lists them.
fn expected_layers() -> Vec<LayerSummary<'static>> {
    vec![
        ("input_layer", vec![]),
        ("input_layer_1", vec![]),
        ("embedding", vec![("embedding/embeddings", vec![22, 64])]),
        (
            "embedding_2",
            vec![("embedding_2/embeddings", vec![22, 64])],
        ),
        ("dropout", vec![]),
        ("dropout_2", vec![]),
        ("dot", vec![]),
        ("embedding_1", vec![("embedding_1/embeddings", vec![22, 4])]),
        ("activation", vec![]),
        ("dropout_1", vec![]),
        ("add", vec![]),
        ("permute", vec![]),
        ("concatenate", vec![]),
        (
            "lstm",
            vec![
                ("lstm/lstm_cell/kernel", vec![132, 128]),
                ("lstm/lstm_cell/recurrent_kernel", vec![32, 128]),
                ("lstm/lstm_cell/bias", vec![128]),
            ],
        ),
        ("dropout_3", vec![]),
        (
            "dense",
            vec![("dense/kernel", vec![32, 22]), ("dense/bias", vec![22])],
        ),
        ("activation_1", vec![]),
    ]
}

fn assert_fixture_layers(file: &Path, layers: &[rkeras_io::LayerWeights]) {
    let found: Vec<LayerSummary<'_>> = layers
        .iter()
        .map(|l| {
            let weights = l
                .weights
                .iter()
                .map(|w| (w.name.as_str(), w.value.shape().to_vec()))
                .collect();
            (l.layer_name.as_str(), weights)
        })
        .collect();
    assert_eq!(found, expected_layers(), "{}", file.display());
}

#[test]
fn the_keras_model_file_is_read_completely() {
    let Some(path) = fixture() else { return };
    let model = load_model_file(&path).unwrap();
    assert_eq!(model.keras_version, "3.15.1");
    assert_eq!(model.backend, "tensorflow");
    assert_fixture_layers(&path, &model.layers);

    let config: serde_json::Value =
        serde_json::from_str(model.model_config.as_deref().unwrap()).unwrap();
    assert_eq!(config["class_name"], "Functional");
    let classes: Vec<&str> = config["config"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["class_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        classes,
        [
            "InputLayer",
            "InputLayer",
            "Embedding",
            "Embedding",
            "Dropout",
            "Dropout",
            "Dot",
            "Embedding",
            "Activation",
            "Dropout",
            "Add",
            "Permute",
            "Concatenate",
            "LSTM",
            "Dropout",
            "Dense",
            "Activation"
        ]
    );
    let training: serde_json::Value =
        serde_json::from_str(model.training_config.as_deref().unwrap()).unwrap();
    assert_eq!(training["optimizer_config"]["class_name"], "RMSprop");

    let optimizer = model.optimizer.as_ref().unwrap();
    assert_eq!(optimizer.iterations_name, "rm_sprop/iteration");
    assert_eq!(optimizer.iterations, 37_560);
    let names: Vec<&str> = optimizer.weights.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rm_sprop/learning_rate",
            "rm_sprop/embedding_embeddings_velocity",
            "rm_sprop/embedding_2_embeddings_velocity",
            "rm_sprop/embedding_1_embeddings_velocity",
            "rm_sprop/lstm_lstm_cell_kernel_velocity",
            "rm_sprop/lstm_lstm_cell_recurrent_kernel_velocity",
            "rm_sprop/lstm_lstm_cell_bias_velocity",
            "rm_sprop/dense_kernel_velocity",
            "rm_sprop/dense_bias_velocity",
        ]
    );
    // The learning rate is the float32 nearest 0.001, as the training config records it.
    assert_eq!(optimizer.weights[0].value.shape(), &[] as &[usize]);
    assert_eq!(optimizer.weights[0].value.first().copied(), Some(0.001f32));
    // RMSprop velocities are running means of squared gradients: never negative.
    assert!(
        optimizer.weights[1..]
            .iter()
            .all(|w| w.value.iter().all(|v| *v >= 0.0))
    );
    // Embedding rows are initialised from U(-0.05, 0.05) and trained: finite, not all equal.
    let embeddings = &model.layer("embedding").unwrap().weights[0].value;
    assert!(embeddings.iter().all(|v| v.is_finite()));
    assert!(embeddings.iter().any(|v| *v != embeddings[[0, 0]]));
    assert!(model.extra.is_none());

    assert_fixture_layers(&path, &load_weights_file(&path).unwrap());
}

#[test]
fn a_rewritten_keras_file_round_trips_and_loads_in_keras() {
    let Some(path) = fixture() else { return };
    let model = load_model_file(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("rewritten.h5");
    save_model_file(&copy, &model).unwrap();
    let reloaded: ModelFile = load_model_file(&copy).unwrap();
    assert_eq!(reloaded, model);

    let Some(python) = rkeras_testkit::keras_python("Keras's load of a rewritten Keras file")
    else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keras_load.py");
    python.run_script(script, [&path, &copy], "keras load ok");
}
