//! The `rkeras` binary run as a user runs it, on small models saved by rkeras: outputs checked against the same
//! model run in-process, errors checked for their message and exit code.

use ndarray::{ArrayD, IxDyn};
use npyz::WriterBuilder;
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{Dense, Input, LayerCall};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rkeras(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rkeras"))
        .args(args)
        .output()
        .unwrap()
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    rkeras(&args)
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "rkeras failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn data() -> (ArrayD<f32>, ArrayD<f32>) {
    let x: Vec<f32> = (0..24).map(|i| ((i * 7) % 11) as f32 / 11.0).collect();
    let y: Vec<f32> = (0..8).map(|i| (i % 2) as f32).collect();
    (
        ArrayD::from_shape_vec(IxDyn(&[8, 3]), x).unwrap(),
        ArrayD::from_shape_vec(IxDyn(&[8, 1]), y).unwrap(),
    )
}

/// A compiled two-layer model trained for one epoch (so that Adam has state), saved as `model.h5` and
/// `model.keras` in `dir`.
fn trained_model(dir: &Path) -> Model {
    let x = Input::named(&[3], "features");
    let h = Dense::new(4)
        .with_activation("relu")
        .unwrap()
        .with_name("hidden")
        .call(&x)
        .unwrap();
    let y = Dense::new(1)
        .with_activation("sigmoid")
        .unwrap()
        .with_name("score")
        .call(&h)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model
        .compile("adam", "binary_crossentropy", &["accuracy"])
        .unwrap();
    let (x, y) = data();
    model
        .fit(
            &[x],
            &y,
            FitConfig::new().epochs(1).batch_size(4).verbose(0).seed(1),
        )
        .unwrap();
    model.save(dir.join("model.h5")).unwrap();
    model.save(dir.join("model.keras")).unwrap();
    model
}

fn write_npy(path: &Path, array: &ArrayD<f32>) {
    let mut file = std::fs::File::create(path).unwrap();
    let shape: Vec<u64> = array.shape().iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(&mut file)
        .begin_nd()
        .unwrap();
    writer.extend(array.iter().copied()).unwrap();
    writer.finish().unwrap();
}

fn read_npy(path: &Path) -> ArrayD<f32> {
    let npy = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    ArrayD::from_shape_vec(IxDyn(&shape), npy.into_vec::<f32>().unwrap()).unwrap()
}

#[test]
fn summary_predict_and_evaluate_match_the_model_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained_model(dir.path());
    let (x, y) = data();
    let (x_path, y_path, out_path) = (
        dir.path().join("x.npy"),
        dir.path().join("y.npy"),
        dir.path().join("p.npy"),
    );
    write_npy(&x_path, &x);
    write_npy(&y_path, &y);
    for file in ["model.h5", "model.keras"] {
        let model_path = dir.path().join(file);
        assert_eq!(stdout(&run(&[&"summary", &model_path])), model.summary());
        stdout(&run(&[
            &"predict",
            &model_path,
            &"--input",
            &x_path,
            &"--output",
            &out_path,
        ]));
        assert_eq!(
            read_npy(&out_path),
            model.predict(std::slice::from_ref(&x), 32).unwrap()
        );
        let printed = stdout(&run(&[
            &"evaluate",
            &model_path,
            &"--x",
            &x_path,
            &"--y",
            &y_path,
        ]));
        let expected = model.evaluate(std::slice::from_ref(&x), &y, 32).unwrap();
        let loss: f64 = printed
            .lines()
            .find_map(|l| l.strip_prefix("loss: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(loss, expected["loss"], "{printed}");
        assert!(printed.contains("accuracy: "), "{printed}");
    }
}

#[test]
fn convert_crosses_every_format_and_inspect_lists_weights_and_optimizer_state() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained_model(dir.path());
    let (x, _) = data();
    let expected = model.predict(std::slice::from_ref(&x), 32).unwrap();
    let p = |name: &str| -> PathBuf { dir.path().join(name) };
    stdout(&run(&[&"convert", &p("model.h5"), &p("converted.keras")]));
    stdout(&run(&[&"convert", &p("converted.keras"), &p("back.h5")]));
    stdout(&run(&[&"convert", &p("back.h5"), &p("only.weights.h5")]));
    let no_like = run(&[&"convert", &p("only.weights.h5"), &p("x.keras")]);
    assert_eq!(no_like.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_like.stderr).contains("--like"));
    stdout(&run(&[
        &"convert",
        &p("only.weights.h5"),
        &p("rebuilt.keras"),
        &"--like",
        &p("model.keras"),
    ]));
    for file in ["converted.keras", "back.h5", "rebuilt.keras"] {
        let loaded = rkeras_engine::load_model(p(file)).unwrap();
        assert_eq!(
            loaded.predict(std::slice::from_ref(&x), 32).unwrap(),
            expected,
            "{file}"
        );
    }
    let report = stdout(&run(&[&"inspect", &p("converted.keras")]));
    assert!(report.contains("hidden (Dense)"), "{report}");
    assert!(report.contains("hidden/kernel [3, 4]"), "{report}");
    assert!(report.contains("score/bias [1]"), "{report}");
    // One epoch of 8 samples in batches of 4: 2 Adam steps; momentum and velocity for 4 parameters.
    assert!(
        report.contains("optimizer: Adam") && report.contains("iterations 2"),
        "{report}"
    );
    assert_eq!(report.matches("  slot ").count(), 8, "{report}");
    assert!(
        report.contains("slot velocity of parameter 0 [3, 4]"),
        "{report}"
    );
    assert!(report.contains("integrity: ok"), "{report}");
}

#[test]
fn missing_and_damaged_files_are_clear_errors_with_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.keras");
    let out = run(&[&"summary", &missing]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nowhere.keras") && err.contains("no such file"),
        "{err}"
    );
    for name in ["garbage.h5", "garbage.keras"] {
        let bad = dir.path().join(name);
        std::fs::write(&bad, b"this is not a model file at all").unwrap();
        let out = run(&[&"inspect", &bad]);
        assert_eq!(
            out.status.code(),
            Some(4),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains(name));
    }
    let bad_npy = dir.path().join("x.npy");
    std::fs::write(&bad_npy, b"not npy").unwrap();
    trained_model(dir.path());
    let out = run(&[
        &"predict",
        &dir.path().join("model.h5"),
        &"--input",
        &bad_npy,
        &"--output",
        &dir.path().join("y.npy"),
    ]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a .npy file"));
    // A wrong input width is the model's error, naming the shape.
    let wrong = dir.path().join("wrong.npy");
    write_npy(&wrong, &ArrayD::zeros(IxDyn(&[2, 5])));
    let out = run(&[
        &"predict",
        &dir.path().join("model.h5"),
        &"--input",
        &wrong,
        &"--output",
        &dir.path().join("y.npy"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Bad usage is clap's exit code 2.
    assert_eq!(run(&[&"predict"]).status.code(), Some(2));
}

#[test]
fn plot_draws_csv_logs_and_plot_model_writes_dot() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| -> PathBuf { dir.path().join(name) };
    std::fs::write(
        p("rkeras.csv"),
        "epoch,accuracy,loss,val_accuracy,val_loss\r\n0,0.5,0.9,0.4,1.0\r\n1,0.75,0.5,0.6,0.7\r\n",
    )
    .unwrap();
    std::fs::write(
        p("keras.csv"),
        "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.55,0.85,0.45,0.95\n1,0.8,0.45,0.65,0.6\n",
    )
    .unwrap();
    stdout(&run(&[
        &"plot",
        &p("rkeras.csv"),
        &p("keras.csv"),
        &"-o",
        &p("curves.svg"),
    ]));
    let svg = std::fs::read_to_string(p("curves.svg")).unwrap();
    for label in [
        "rkeras loss",
        "keras val_loss",
        "rkeras accuracy",
        "keras val_accuracy",
    ] {
        assert!(svg.contains(label), "{label} missing");
    }
    stdout(&run(&[
        &"plot",
        &p("rkeras.csv"),
        &"-o",
        &p("curves.png"),
        &"--label",
        &"mine",
    ]));
    let png = std::fs::read(p("curves.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let out = run(&[&"plot", &p("rkeras.csv"), &"-o", &p("curves.gif")]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(p("broken.csv"), "epoch,loss\n0,abc\n").unwrap();
    let out = run(&[&"plot", &p("broken.csv"), &"-o", &p("c.svg")]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.csv:2"));

    trained_model(dir.path());
    stdout(&run(&[
        &"plot-model",
        &p("model.keras"),
        &"-o",
        &p("model.dot"),
    ]));
    let dot = std::fs::read_to_string(p("model.dot")).unwrap();
    assert!(dot.contains("<b>hidden</b> (Dense)"), "{dot}");
    assert!(
        dot.contains("Input shape: (None, 3)</td><td>Output shape: (None, 4)"),
        "{dot}"
    );
    assert!(
        dot.contains("layer_features -> layer_hidden")
            && dot.contains("layer_hidden -> layer_score")
    );
    // Without Graphviz on PATH: a clear error and exit code 5, whatever this machine has installed.
    let no_tools = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rkeras"))
        .arg("plot-model")
        .arg(p("model.keras"))
        .arg("-o")
        .arg(p("model.svg"))
        .env("PATH", no_tools.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`dot` was not found"));
    assert!(!p("model.svg").exists());

    // With Graphviz: real SVG and PNG pictures of the model through `dot`.
    if Command::new("dot").arg("-V").output().is_err() {
        rkeras_testkit::missing(
            "Graphviz's `dot`",
            "rkeras plot-model's SVG/PNG output",
            "Run scripts/setup.sh (it installs graphviz) or apt-get install graphviz.",
        );
        return;
    }
    stdout(&run(&[
        &"plot-model",
        &p("model.keras"),
        &"-o",
        &p("model.svg"),
    ]));
    let svg = std::fs::read_to_string(p("model.svg")).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    for text in ["hidden", "score", "features", "Output shape: (None, 4)"] {
        assert!(svg.contains(text), "{text} missing from the SVG");
    }
    stdout(&run(&[
        &"plot-model",
        &p("model.keras"),
        &"-o",
        &p("model.png"),
    ]));
    let png = std::fs::read(p("model.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(width > 50 && height > 100, "{width}x{height}");
}
