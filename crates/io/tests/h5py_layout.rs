//! Files written here are read back by h5py (`tests/check_layout.py`), the library Keras itself
//! reads them with, checking the layout as Keras's loader sees it. Runs the Python of
//! `rkeras_testkit::keras_python` (fails with CI=true when it is missing, a loud notice otherwise).

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use rkeras_io::{
    ExtraState, LayerWeights, ModelFile, NamedArray, OptimizerState, save_model_file,
    save_weights_file,
};

fn layers() -> Vec<LayerWeights> {
    let kernel =
        ArrayD::from_shape_vec(IxDyn(&[3, 8]), (0..24).map(|i| i as f32).collect()).unwrap();
    vec![
        LayerWeights::new("input_layer", vec![]),
        LayerWeights::new(
            "lstm",
            vec![
                NamedArray::new("lstm/lstm_cell/kernel", kernel),
                NamedArray::new("lstm/lstm_cell/bias", ArrayD::zeros(IxDyn(&[8]))),
            ],
        ),
        LayerWeights::new(
            "dense",
            vec![
                NamedArray::new("dense/scale", ndarray::arr0(1.5f32).into_dyn()),
                NamedArray::new("dense/empty", ArrayD::zeros(IxDyn(&[0, 4]))),
            ],
        ),
    ]
}

fn write_files(dir: &Path) -> [std::path::PathBuf; 3] {
    let padding = "x".repeat(70_000);
    let model = ModelFile {
        keras_version: "3.15.1".into(),
        backend: "tensorflow".into(),
        model_config: Some(format!(
            r#"{{"class_name": "Functional", "config": {{"name": "modèle", "padding": "{padding}"}}}}"#
        )),
        training_config: Some(r#"{"loss": "mse"}"#.into()),
        layers: layers(),
        optimizer: Some(OptimizerState {
            iterations_name: "adam/iteration".into(),
            iterations: 42,
            weights: vec![NamedArray::new(
                "adam/learning_rate",
                ndarray::arr0(0.001f32).into_dyn(),
            )],
        }),
        extra: Some(ExtraState {
            json: r#"{"epoch": 3}"#.into(),
            arrays: vec![],
        }),
    };
    let paths = [
        dir.join("model.h5"),
        dir.join("weights.h5"),
        dir.join("chunked.h5"),
    ];
    save_model_file(&paths[0], &model).unwrap();
    save_weights_file(&paths[1], &layers()).unwrap();
    let many: Vec<LayerWeights> = (0..3000)
        .map(|i| LayerWeights::new(format!("layer_with_a_long_name_{i:05}"), vec![]))
        .collect();
    save_weights_file(&paths[2], &many).unwrap();
    paths
}

#[test]
fn h5py_sees_the_keras_layout() {
    let Some(python) = rkeras_testkit::keras_python("h5py's check of rkeras-written .h5 files")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let paths = write_files(dir.path());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/check_layout.py");
    python.run_script(script, &paths, "layout ok");
}
