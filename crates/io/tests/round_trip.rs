//! Whole-model and weights-only files survive a save and a load unchanged, including the awkward
//! cases: nested weight names, scalars, empty arrays, unicode, and attributes past HDF5's 64 KB
//! object-header limit.

use ndarray::{ArrayD, IxDyn};
use rkeras_io::{
    ExtraState, HDF5_OBJECT_HEADER_LIMIT, LayerWeights, ModelFile, NamedArray, OptimizerState,
    load_model_file, load_weights_file, save_model_file, save_weights_file,
};

/// An array whose every element differs, so that a transposition or mix-up shows.
fn counting(shape: &[usize], offset: f32) -> ArrayD<f32> {
    let len = shape.iter().product::<usize>();
    ArrayD::from_shape_vec(
        IxDyn(shape),
        (0..len).map(|i| offset + i as f32 / 8.0).collect(),
    )
    .unwrap()
}

fn layers() -> Vec<LayerWeights> {
    vec![
        LayerWeights::new("input_layer", vec![]),
        LayerWeights::new(
            "lstm",
            vec![
                NamedArray::new("lstm/lstm_cell/kernel", counting(&[132, 128], 1.0)),
                NamedArray::new("lstm/lstm_cell/recurrent_kernel", counting(&[32, 128], 2.0)),
                NamedArray::new("lstm/lstm_cell/bias", counting(&[128], 3.0)),
            ],
        ),
        LayerWeights::new(
            "odd_shapes",
            vec![
                NamedArray::new("odd_shapes/scale", ndarray::arr0(-0.75f32).into_dyn()),
                NamedArray::new("odd_shapes/empty", ArrayD::zeros(IxDyn(&[0]))),
                NamedArray::new("odd_shapes/empty_matrix", ArrayD::zeros(IxDyn(&[3, 0]))),
                NamedArray::new("odd_shapes/rank4", counting(&[2, 3, 1, 2], -5.0)),
            ],
        ),
        LayerWeights::new(
            "dense",
            vec![NamedArray::new("dense/kernel", counting(&[32, 22], 0.0))],
        ),
    ]
}

fn model(model_config: String) -> ModelFile {
    ModelFile {
        keras_version: "3.15.1".into(),
        backend: "tensorflow".into(),
        model_config: Some(model_config),
        training_config: Some(
            r#"{"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}"#.into(),
        ),
        layers: layers(),
        optimizer: Some(OptimizerState {
            iterations_name: "rm_sprop/iteration".into(),
            iterations: 37_560,
            weights: vec![
                NamedArray::new("rm_sprop/learning_rate", ndarray::arr0(0.001f32).into_dyn()),
                NamedArray::new("rm_sprop/dense_kernel_velocity", counting(&[32, 22], 9.0)),
            ],
        }),
        extra: Some(ExtraState {
            json: r#"{"epoch": 12, "note": "reprise à l'époque 12 ✓"}"#.into(),
            arrays: vec![NamedArray::new(
                "early_stopping/best_weights/dense/kernel",
                counting(&[32, 22], 4.0),
            )],
        }),
    }
}

/// A Functional-style config with unicode and, for `layers` large, well past 64,512 bytes.
fn model_config(layer_count: usize) -> String {
    let layers: Vec<serde_json::Value> = (0..layer_count)
        .map(|i| {
            serde_json::json!({
                "class_name": "Dense",
                "config": {"name": format!("dense_{i}"), "units": i, "description": "couche dense — 密集层 🙂"},
                "inbound_nodes": [],
            })
        })
        .collect();
    serde_json::json!({"class_name": "Functional", "config": {"name": "modèle", "layers": layers}})
        .to_string()
}

#[test]
fn whole_model_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.h5");
    let original = model(model_config(3));
    save_model_file(&path, &original).unwrap();
    let loaded = load_model_file(&path).unwrap();
    assert_eq!(loaded, original);
    let lstm = loaded.layer("lstm").unwrap();
    assert_eq!(
        lstm.weight("lstm/lstm_cell/kernel").unwrap().value[[131, 127]],
        1.0 + (132.0 * 128.0 - 1.0) / 8.0
    );
    assert_eq!(
        loaded.layer("odd_shapes").unwrap().weights[0].value.shape(),
        &[] as &[usize]
    );
    // The weights part of a model file is readable on its own.
    assert_eq!(load_weights_file(&path).unwrap(), layers());
}

#[test]
fn weights_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.h5");
    save_weights_file(&path, &layers()).unwrap();
    assert_eq!(load_weights_file(&path).unwrap(), layers());
    // Saving again replaces the file.
    let fewer = vec![LayerWeights::new(
        "dense",
        vec![NamedArray::new("dense/bias", counting(&[22], 0.5))],
    )];
    save_weights_file(&path, &fewer).unwrap();
    assert_eq!(load_weights_file(&path).unwrap(), fewer);
}

#[test]
fn float64_weights_are_read_as_float32() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f64.h5");
    save_weights_file(&path, &[LayerWeights::new("dense", vec![])]).unwrap();
    {
        let file = hdf5::File::open_rw(&path).unwrap();
        // A foreign writer's file: no checksum table.
        file.unlink("rkeras_checksums").unwrap();
        let dense = file.group("dense").unwrap();
        dense.delete_attr("weight_names").unwrap();
        let names: Vec<hdf5::types::VarLenUnicode> = vec!["dense/kernel".parse().unwrap()];
        dense
            .new_attr_builder()
            .with_data(&names[..])
            .create("weight_names")
            .unwrap();
        dense
            .new_dataset_builder()
            .with_data(&ndarray::array![[0.5f64, -1.25]])
            .create("dense/kernel")
            .unwrap();
    }
    let loaded = load_weights_file(&path).unwrap();
    assert_eq!(
        loaded[0].weights[0].value,
        ndarray::array![[0.5f32, -1.25]].into_dyn()
    );
}

#[test]
fn a_model_config_past_the_header_limit_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big_config.h5");
    let config = model_config(1200);
    assert!(
        config.len() > 2 * HDF5_OBJECT_HEADER_LIMIT,
        "config is {} bytes",
        config.len()
    );
    let original = model(config.clone());
    save_model_file(&path, &original).unwrap();
    let loaded = load_model_file(&path).unwrap();
    assert_eq!(loaded.model_config.as_deref(), Some(config.as_str()));
    let parsed: serde_json::Value =
        serde_json::from_str(loaded.model_config.as_deref().unwrap()).unwrap();
    assert_eq!(
        parsed["config"]["layers"][1199]["config"]["name"],
        "dense_1199"
    );
    assert_eq!(parsed["config"]["name"], "modèle");
}

#[test]
fn many_layer_names_are_chunked_and_joined() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.h5");
    // 3000 names of 30 bytes: 90,000 bytes, more than one attribute can hold.
    let many: Vec<LayerWeights> = (0..3000)
        .map(|i| {
            let name = format!("a_rather_long_layer_name_{i:05}");
            let weights = if i % 1000 == 7 {
                vec![NamedArray::new(
                    format!("{name}/bias"),
                    counting(&[2], i as f32),
                )]
            } else {
                vec![]
            };
            LayerWeights::new(name, weights)
        })
        .collect();
    let total: usize = many.iter().map(|l| l.layer_name.len()).sum();
    assert!(total > HDF5_OBJECT_HEADER_LIMIT);
    save_weights_file(&path, &many).unwrap();
    {
        let file = hdf5::File::open(&path).unwrap();
        let attrs = file.attr_names().unwrap();
        assert!(!attrs.contains(&"layer_names".to_owned()), "{attrs:?}");
        assert!(
            attrs.contains(&"layer_names0".to_owned())
                && attrs.contains(&"layer_names1".to_owned()),
            "{attrs:?}"
        );
        let chunk_bytes = |name: &str| {
            let attr = file.attr(name).unwrap();
            attr.size() * attr.dtype().unwrap().size()
        };
        assert!(chunk_bytes("layer_names0") <= HDF5_OBJECT_HEADER_LIMIT);
        assert!(chunk_bytes("layer_names1") <= HDF5_OBJECT_HEADER_LIMIT);
    }
    assert_eq!(load_weights_file(&path).unwrap(), many);

    // The same list inside a whole-model file.
    let path = dir.path().join("many_model.h5");
    let whole = ModelFile {
        layers: many.clone(),
        optimizer: None,
        extra: None,
        ..model(model_config(1))
    };
    save_model_file(&path, &whole).unwrap();
    assert_eq!(load_model_file(&path).unwrap().layers, many);
}

#[test]
fn unicode_names_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unicode.h5");
    let layers = vec![LayerWeights::new(
        "schicht_ü",
        vec![NamedArray::new("schicht_ü/kern_密", counting(&[2, 2], 0.0))],
    )];
    save_weights_file(&path, &layers).unwrap();
    assert_eq!(load_weights_file(&path).unwrap(), layers);
}

#[test]
fn invalid_names_fail_before_touching_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.h5");
    save_weights_file(&path, &layers()).unwrap();
    let before = std::fs::read(&path).unwrap();
    for bad in [
        vec![LayerWeights::new("a/b", vec![])],
        vec![LayerWeights::new("", vec![])],
        vec![
            LayerWeights::new("d", vec![]),
            LayerWeights::new("d", vec![]),
        ],
        vec![LayerWeights::new(
            "d",
            vec![NamedArray::new("/abs", counting(&[1], 0.0))],
        )],
    ] {
        let err = save_weights_file(&path, &bad).unwrap_err();
        assert!(
            matches!(err, rkeras_io::IoError::InvalidName { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("w.h5"), "{err}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
