//! ModelCheckpoint against synthetic metric sequences, every option, and the paths it must refuse.

use rkeras_callbacks::testing::{MockControl, logs, simulate_fit};
use rkeras_callbacks::{
    Callback, CallbackError, Logs, ModelCheckpoint, RunParams, SaveFreq, console,
};
use std::path::Path;

fn val_losses(values: &[f64]) -> Vec<Logs> {
    values
        .iter()
        .map(|&v| logs(&[("loss", 1.0), ("val_loss", v), ("val_accuracy", 1.0 - v)]))
        .collect()
}

fn params_with_keys() -> RunParams {
    RunParams {
        log_keys: ["loss", "val_loss", "val_accuracy", "learning_rate"]
            .map(String::from)
            .to_vec(),
        ..RunParams::default()
    }
}

/// File names saved, in order.
fn saved_names(ctl: &MockControl) -> Vec<String> {
    ctl.saves
        .iter()
        .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

type Configure = fn(ModelCheckpoint) -> ModelCheckpoint;

#[test]
fn which_epochs_are_saved() {
    // (template, val_loss per epoch, configure, expected file names, why)
    type Row = (
        &'static str,
        &'static [f64],
        Configure,
        &'static [&'static str],
        &'static str,
    );
    let rows: &[Row] = &[
        (
            "w.{epoch:02d}.h5",
            &[0.5, 0.6, 0.4],
            |c| c,
            &["w.01.h5", "w.02.h5", "w.03.h5"],
            "every epoch by default",
        ),
        (
            "w.{epoch:02d}-{val_loss:.2f}.h5",
            &[0.5, 0.6, 0.4],
            |c| c.with_save_best_only(true),
            &["w.01-0.50.h5", "w.03-0.40.h5"],
            "best only, val_loss minimised",
        ),
        (
            "w.{epoch}.h5",
            &[0.5, 0.6, 0.4],
            |c| c.with_save_best_only(true).with_monitor("val_accuracy"),
            &["w.1.h5", "w.3.h5"],
            "val_accuracy (0.5, 0.4, 0.6) is maximised in auto mode",
        ),
        (
            "w.{epoch}.h5",
            &[0.5, 0.6, 0.4],
            |c| c.with_save_best_only(true).with_mode("max"),
            &["w.1.h5", "w.2.h5"],
            "mode max on val_loss",
        ),
        (
            "w.{epoch}.h5",
            &[0.5, 0.6, 0.4],
            |c| {
                c.with_save_best_only(true)
                    .with_initial_value_threshold(0.45)
                    .unwrap()
            },
            &["w.3.h5"],
            "the threshold is the starting best",
        ),
        (
            "w.{epoch}.h5",
            &[0.5, 0.5, 0.5],
            |c| c.with_save_best_only(true),
            &["w.1.h5"],
            "equal is no improvement",
        ),
        (
            "w.{epoch}.h5",
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            |c| c.with_period(2).unwrap(),
            &["w.2.h5", "w.4.h5"],
            "Keras 2 period=2: every second epoch",
        ),
        (
            "checkpoint.hdf5",
            &[0.5, 0.4],
            |c| c,
            &["checkpoint.hdf5", "checkpoint.hdf5"],
            "any file name is accepted",
        ),
    ];
    for (template, values, configure, want, why) in rows {
        let dir = tempfile::tempdir().unwrap();
        let mut checkpoint = configure(ModelCheckpoint::new(dir.path().join(template)).unwrap());
        let mut ctl = MockControl::new(0.001);
        simulate_fit(
            &mut checkpoint,
            &mut ctl,
            &params_with_keys(),
            &val_losses(values),
        )
        .unwrap();
        assert_eq!(saved_names(&ctl), *want, "{why}");
        assert!(
            ctl.saves.iter().all(|s| s.path.exists()),
            "{why}: files written"
        );
    }
}

#[test]
fn save_weights_only_is_passed_to_the_model() {
    for weights_only in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut checkpoint = ModelCheckpoint::new(dir.path().join("w.h5"))
            .unwrap()
            .with_save_weights_only(weights_only);
        let mut ctl = MockControl::new(0.1);
        simulate_fit(
            &mut checkpoint,
            &mut ctl,
            &params_with_keys(),
            &val_losses(&[0.5]),
        )
        .unwrap();
        assert_eq!(ctl.saves[0].weights_only, weights_only);
    }
}

#[test]
fn batch_level_saves_count_across_epochs() {
    // 3 batches per epoch, save every 2 batches: after batches 1 (epoch 0), 0 and 2 (epoch 1), 1 (epoch 2).
    let dir = tempfile::tempdir().unwrap();
    let mut checkpoint = ModelCheckpoint::new(dir.path().join("w-{epoch}-{batch}-{loss:.1f}.h5"))
        .unwrap()
        .with_save_freq(SaveFreq::Batches(2))
        .unwrap();
    let mut ctl = MockControl::new(0.1);
    let params = RunParams {
        steps: 3,
        ..params_with_keys()
    };
    simulate_fit(
        &mut checkpoint,
        &mut ctl,
        &params,
        &val_losses(&[0.5, 0.4, 0.3]),
    )
    .unwrap();
    assert_eq!(
        saved_names(&ctl),
        [
            "w-1-2-1.0.h5",
            "w-2-1-1.0.h5",
            "w-2-3-1.0.h5",
            "w-3-2-1.0.h5"
        ]
    );
    assert!(
        ModelCheckpoint::new("w.h5")
            .unwrap()
            .with_save_freq(SaveFreq::Batches(0))
            .is_err()
    );
    assert!(
        ModelCheckpoint::new("w.h5")
            .unwrap()
            .with_period(0)
            .is_err()
    );
}

#[test]
fn verbose_messages_match_keras_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("best.h5");
    let shown = path.display().to_string();
    let mut checkpoint = ModelCheckpoint::new(&path)
        .unwrap()
        .with_save_best_only(true)
        .with_verbose(1);
    let mut ctl = MockControl::new(0.1);
    let (_, said) = console::capture(|| {
        simulate_fit(
            &mut checkpoint,
            &mut ctl,
            &params_with_keys(),
            &val_losses(&[0.4321, 0.5, 0.4012]),
        )
        .unwrap()
    });
    assert_eq!(
        said.messages,
        [
            format!("Epoch 1: val_loss improved from None to 0.43210, saving model to {shown}"),
            format!("Epoch 1: finished saving model to {shown}"),
            "Epoch 2: val_loss did not improve from 0.43210".to_string(),
            format!("Epoch 3: val_loss improved from 0.43210 to 0.40120, saving model to {shown}"),
            format!("Epoch 3: finished saving model to {shown}"),
        ]
    );
    // Keras 3.15 shows "None" before the first best in max mode too; a threshold is shown as the first best; without save_best_only Keras says
    // "saving model to".
    let rows: &[(Configure, &str)] = &[
        (
            |c| c.with_save_best_only(true).with_monitor("val_accuracy"),
            "Epoch 1: val_accuracy improved from None to 0.50000",
        ),
        (
            |c| {
                c.with_save_best_only(true)
                    .with_initial_value_threshold(0.75)
                    .unwrap()
            },
            "Epoch 1: val_loss improved from 0.75000 to 0.50000",
        ),
        (|c| c, "Epoch 1: saving model to "),
    ];
    for (configure, start) in rows {
        let mut checkpoint = configure(ModelCheckpoint::new(&path).unwrap().with_verbose(1));
        let (_, said) = console::capture(|| {
            simulate_fit(
                &mut checkpoint,
                &mut MockControl::new(0.1),
                &params_with_keys(),
                &val_losses(&[0.5]),
            )
            .unwrap()
        });
        assert!(said.messages[0].starts_with(start), "{:?}", said.messages);
    }
}

#[test]
fn missing_directories_are_created_at_save_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut checkpoint =
        ModelCheckpoint::new(dir.path().join("runs/a/ep{epoch}/model.h5")).unwrap();
    let mut ctl = MockControl::new(0.1);
    simulate_fit(
        &mut checkpoint,
        &mut ctl,
        &params_with_keys(),
        &val_losses(&[0.5, 0.4]),
    )
    .unwrap();
    assert!(dir.path().join("runs/a/ep1/model.h5").is_file());
    assert!(dir.path().join("runs/a/ep2/model.h5").is_file());
}

/// Runs only `on_train_begin`; returns its error and the saves made (none expected).
fn begin(filepath: &Path, configure: Configure, params: &RunParams) -> (CallbackError, usize) {
    let mut checkpoint = configure(ModelCheckpoint::new(filepath).unwrap());
    let mut ctl = MockControl::new(0.1);
    let err = checkpoint.on_train_begin(params, &mut ctl).unwrap_err();
    (err, ctl.saves.len())
}

#[test]
fn bad_paths_and_keys_fail_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let params = params_with_keys();
    // (filepath, configure, text the error must contain, why)
    let rows: Vec<(std::path::PathBuf, Configure, &str, &str)> = vec![
        (
            dir.path().to_path_buf(),
            |c| c,
            "is an existing directory",
            "a directory is not a file path",
        ),
        (
            file.join("ckpt/w.h5"),
            |c| c,
            "cannot create the directory",
            "parent is a regular file (fails even as root)",
        ),
        (
            file.join("w-{epoch}.h5"),
            |c| c,
            "cannot create the directory",
            "templated name under a file",
        ),
        (
            dir.path().join("w-{val_acc:.2f}.h5"),
            |c| c,
            "`val_acc` is not a key the training run logs; valid keys are: epoch, loss, val_loss, val_accuracy, learning_rate",
            "misspelt placeholder",
        ),
        (
            dir.path().join("w-{batch}.h5"),
            |c| c,
            "only filled with save_freq=N",
            "{batch} needs batch-level saves",
        ),
        (
            dir.path().join("w-{val_loss:.2f}.h5"),
            |c| c.with_save_freq(SaveFreq::Batches(5)).unwrap(),
            "valid keys are: epoch, batch, loss",
            "val_ keys are not in batch logs",
        ),
        (
            dir.path().join("w.h5"),
            |c| c.with_save_best_only(true).with_monitor("val_acc"),
            "`val_acc` is not a key the training run logs",
            "misspelt monitor",
        ),
        (
            dir.path().join("w.h5"),
            |c| c.with_save_best_only(true).with_monitor("learning_rate"),
            "pass mode \"min\" or \"max\"",
            "a monitor without a known direction",
        ),
    ];
    for (path, configure, text, why) in rows {
        let (err, saves) = begin(&path, configure, &params);
        assert!(err.to_string().contains(text), "{why}: {err}");
        assert_eq!(saves, 0, "{why}");
    }
    assert!(
        ModelCheckpoint::new(dir.path().join("w-{loss:d}.h5")).is_err(),
        "integer code on a float"
    );
    assert!(
        ModelCheckpoint::new(dir.path().join("w-{}.h5")).is_err(),
        "positional placeholder"
    );
}

#[test]
fn templates_are_validated_when_the_callback_is_built() {
    // Issue 12: "ck-{loss:.70000f}.h5" panicked at the first save and "{epoch:99999999999d}" aborted allocating
    // 100 GB. Now both are typed errors from `new`, naming the template and the placeholder.
    let rows = [
        (
            "ck-{loss:.70000f}.h5",
            "loss:.70000f",
            "precision 70000 exceeds the limit of 255",
        ),
        (
            "ck-{epoch:99999999999d}.h5",
            "epoch:99999999999d",
            "width 99999999999 exceeds the limit of 255",
        ),
        (
            "ck-{val_loss:256.2f}.h5",
            "val_loss:256.2f",
            "width 256 exceeds the limit of 255",
        ),
        ("ck-{loss:d}.h5", "loss:d", "`loss` is a float"),
        (
            "ck-{epoch.real}.h5",
            "epoch.real",
            "'.' (attribute, index or conversion)",
        ),
    ];
    for (template, placeholder, reason) in rows {
        let err = ModelCheckpoint::new(template).err().unwrap();
        let text = err.to_string();
        match err {
            CallbackError::InvalidTemplate {
                callback,
                template: t,
                field,
                reason: r,
            } => {
                assert_eq!((callback, t.as_str()), ("ModelCheckpoint", template));
                assert_eq!(field.as_deref(), Some(placeholder), "{template}");
                assert!(r.contains(reason), "{template}: {r}");
            }
            other => panic!("{template}: expected InvalidTemplate, got {other:?}"),
        }
        assert!(
            text.starts_with(&format!(
                "ModelCheckpoint: invalid filepath template \"{template}\": placeholder '{{{placeholder}}}': "
            )),
            "{text}"
        );
    }
    // The widest and most precise placeholders allowed save without trouble.
    let dir = tempfile::tempdir().unwrap();
    let mut checkpoint =
        ModelCheckpoint::new(dir.path().join("{epoch:0200d}-{loss:.40f}.h5")).unwrap();
    let mut ctl = MockControl::new(0.1);
    simulate_fit(
        &mut checkpoint,
        &mut ctl,
        &RunParams::default(),
        &[logs(&[("loss", 0.25)])],
    )
    .unwrap();
    let name = ctl.saves[0]
        .path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        name,
        format!("{}1-0.25{}.h5", "0".repeat(199), "0".repeat(38))
    );
}

#[test]
fn the_monitor_is_only_checked_when_it_matters() {
    // Without save_best_only the default monitor val_loss need not be logged (no validation data).
    let dir = tempfile::tempdir().unwrap();
    let mut checkpoint = ModelCheckpoint::new(dir.path().join("w.h5")).unwrap();
    let params = RunParams {
        log_keys: vec!["loss".into()],
        ..RunParams::default()
    };
    let mut ctl = MockControl::new(0.1);
    simulate_fit(
        &mut checkpoint,
        &mut ctl,
        &params,
        &[logs(&[("loss", 1.0)])],
    )
    .unwrap();
    assert_eq!(ctl.saves.len(), 1);
}

#[test]
fn a_key_missing_at_save_time_is_a_clear_error() {
    // The run did not declare its keys, so only the save can notice.
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("w-{val_loss:.2f}.h5");
    let mut checkpoint = ModelCheckpoint::new(&template).unwrap();
    let mut ctl = MockControl::new(0.1);
    let err = simulate_fit(
        &mut checkpoint,
        &mut ctl,
        &RunParams::default(),
        &[logs(&[("loss", 1.0)])],
    )
    .unwrap_err();
    match &err {
        CallbackError::TemplateKey {
            key,
            available,
            template: t,
            ..
        } => {
            assert_eq!(key, "val_loss");
            assert_eq!(available, &["epoch", "loss"]);
            assert_eq!(t, template.to_str().unwrap());
        }
        other => panic!("expected TemplateKey, got {other:?}"),
    }
    assert!(ctl.saves.is_empty());
}

#[test]
fn monitor_missing_at_epoch_end_warns_once_and_saves() {
    // validation_freq=2: val_loss only in epochs 1 and 3.
    let dir = tempfile::tempdir().unwrap();
    let mut checkpoint = ModelCheckpoint::new(dir.path().join("w{epoch}.h5"))
        .unwrap()
        .with_save_best_only(true);
    let epochs = [
        logs(&[("loss", 1.0)]),
        logs(&[("loss", 0.9), ("val_loss", 0.5)]),
        logs(&[("loss", 0.8)]),
        logs(&[("loss", 0.7), ("val_loss", 0.6)]),
    ];
    let mut ctl = MockControl::new(0.1);
    let (_, said) = console::capture(|| {
        simulate_fit(&mut checkpoint, &mut ctl, &params_with_keys(), &epochs).unwrap()
    });
    assert_eq!(
        said.warnings,
        ["Can save best model only with val_loss available."]
    );
    assert_eq!(
        saved_names(&ctl),
        ["w1.h5", "w2.h5", "w3.h5"],
        "epochs without val_loss save; epoch 4 is worse"
    );
}

#[test]
fn unknown_mode_warns_and_uses_auto() {
    let (checkpoint, said) =
        console::capture(|| ModelCheckpoint::new("w.h5").unwrap().with_mode("maximize"));
    assert_eq!(
        said.warnings,
        ["ModelCheckpoint mode 'maximize' is unknown, fallback to auto mode."]
    );
    assert_eq!(checkpoint.filepath(), "w.h5");
}

#[test]
fn one_instance_serves_several_fits_and_state_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let make = || {
        ModelCheckpoint::new(dir.path().join("w{epoch}.h5"))
            .unwrap()
            .with_save_best_only(true)
    };
    let mut checkpoint = make();
    let mut ctl = MockControl::new(0.1);
    simulate_fit(
        &mut checkpoint,
        &mut ctl,
        &params_with_keys(),
        &val_losses(&[0.1]),
    )
    .unwrap();
    // A second fit starts from no best again: 0.9 is saved.
    let mut ctl = MockControl::new(0.1);
    simulate_fit(
        &mut checkpoint,
        &mut ctl,
        &params_with_keys(),
        &val_losses(&[0.9]),
    )
    .unwrap();
    assert_eq!(ctl.saves.len(), 1);

    // Resuming with the saved state keeps the best: 0.95 is not saved after 0.9.
    let mut resumed = make();
    let mut ctl = MockControl::new(0.1);
    resumed
        .on_train_begin(&params_with_keys(), &mut ctl)
        .unwrap();
    resumed.load_state(&checkpoint.state().unwrap()).unwrap();
    assert_eq!(resumed.best(), Some(0.9));
    resumed
        .on_epoch_end(1, &mut val_losses(&[0.95])[0].clone(), &mut ctl)
        .unwrap();
    assert!(ctl.saves.is_empty());
    // A fresh state (no best yet) survives JSON.
    let fresh = make();
    let mut other = make();
    other.load_state(&fresh.state().unwrap()).unwrap();
    assert_eq!(other.best(), None);
}

#[test]
fn model_save_errors_propagate() {
    let dir = tempfile::tempdir().unwrap();
    let mut checkpoint = ModelCheckpoint::new(dir.path().join("w.h5")).unwrap();
    let mut ctl = MockControl::new(0.1);
    ctl.fail_saves = Some("disk full".into());
    let err = simulate_fit(
        &mut checkpoint,
        &mut ctl,
        &params_with_keys(),
        &val_losses(&[0.5]),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "disk full");
}
