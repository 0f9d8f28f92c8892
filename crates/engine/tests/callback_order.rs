//! Every hook of the `Callback` trait fires in fit, evaluate and predict in Keras 3's order, as recorded by
//! scripts/keras_callback_order.py into tests/fixtures/keras_callback_order.json.
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::{Array1, ArrayD, IxDyn};
use rkeras_callbacks::{Callback, Logs, Result, RunParams, TrainerControl};
use rkeras_engine::{EvaluateConfig, FitConfig, PredictConfig};
use serde_json::Value;

mod common;

/// Records `[hook, index]` for every call, as the Keras script does.
#[derive(Default)]
struct Recorder {
    events: Vec<(String, Option<usize>)>,
}

impl Recorder {
    fn push(&mut self, hook: &str, index: Option<usize>) -> Result<()> {
        self.events.push((hook.to_string(), index));
        Ok(())
    }
}

impl Callback for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }
    fn set_params(&mut self, _: &RunParams) {
        self.events.push(("set_params".to_string(), None));
    }
    fn on_train_begin(&mut self, _: &RunParams, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_train_begin", None)
    }
    fn on_train_end(&mut self, _: &Logs, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_train_end", None)
    }
    fn on_epoch_begin(&mut self, e: usize, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_epoch_begin", Some(e))
    }
    fn on_epoch_end(&mut self, e: usize, _: &mut Logs, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_epoch_end", Some(e))
    }
    fn on_train_batch_begin(&mut self, b: usize, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_train_batch_begin", Some(b))
    }
    fn on_train_batch_end(&mut self, b: usize, _: &Logs, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_train_batch_end", Some(b))
    }
    fn on_test_begin(&mut self, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_test_begin", None)
    }
    fn on_test_end(&mut self, _: &Logs, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_test_end", None)
    }
    fn on_test_batch_begin(&mut self, b: usize, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_test_batch_begin", Some(b))
    }
    fn on_test_batch_end(&mut self, b: usize, _: &Logs, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_test_batch_end", Some(b))
    }
    fn on_predict_begin(&mut self, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_predict_begin", None)
    }
    fn on_predict_end(&mut self, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_predict_end", None)
    }
    fn on_predict_batch_begin(&mut self, b: usize, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_predict_batch_begin", Some(b))
    }
    fn on_predict_batch_end(&mut self, b: usize, _: &mut dyn TrainerControl) -> Result<()> {
        self.push("on_predict_batch_end", Some(b))
    }
}

fn keras_runs() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_callback_order.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn keras_events(fixture: &Value, run: &str) -> Vec<(String, Option<usize>)> {
    fixture["runs"][run]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().to_string(),
                e[1].as_u64().map(|i| i as usize),
            )
        })
        .collect()
}

#[test]
fn fit_evaluate_and_predict_call_every_hook_in_kerass_order() {
    let fixture = keras_runs();
    let samples = fixture["samples"].as_u64().unwrap() as usize;
    let x = ArrayD::from_shape_vec(
        IxDyn(&[samples, 2]),
        (0..2 * samples).map(|v| v as f32 / 10.0).collect(),
    )
    .unwrap();
    let y = Array1::from(vec![0.0f32, 1.0, 2.0, 0.0, 1.0]).into_dyn();
    let validation = fixture["validation_samples"].as_u64().unwrap() as usize;
    let (vx, vy) = (
        x.slice(ndarray::s![..validation, ..]).to_owned().into_dyn(),
        y.slice(ndarray::s![..validation]).to_owned().into_dyn(),
    );
    let batch_size = fixture["batch_size"].as_u64().unwrap() as usize;
    let mut model = common::softmax_classifier("sgd");

    let mut rec = Recorder::default();
    let config = FitConfig::new()
        .batch_size(batch_size)
        .epochs(fixture["epochs"].as_u64().unwrap() as usize)
        .verbose(0)
        .validation_data(vec![vx], vy)
        .callback(&mut rec);
    model.fit(&[x.clone()], &y, config).unwrap();
    assert_eq!(rec.events, keras_events(&fixture, "fit"));

    let mut rec = Recorder::default();
    let config = EvaluateConfig::new()
        .batch_size(batch_size)
        .verbose(0)
        .callback(&mut rec);
    let logs = model.evaluate_with(&[x.clone()], &y, config).unwrap();
    assert_eq!(rec.events, keras_events(&fixture, "evaluate"));
    assert_eq!(logs, model.evaluate(&[x.clone()], &y, batch_size).unwrap());

    let mut rec = Recorder::default();
    let config = PredictConfig::new()
        .batch_size(batch_size)
        .verbose(0)
        .callback(&mut rec);
    let out = model.predict_with(&[x.clone()], config).unwrap();
    assert_eq!(rec.events, keras_events(&fixture, "predict"));
    assert_eq!(out[0], model.predict(&[x], batch_size).unwrap());
}

/// Batch logs of evaluate are running means: the last one equals the pass's result.
#[test]
fn evaluate_batch_logs_are_running_means() {
    struct Last(Vec<Logs>);
    impl Callback for Last {
        fn name(&self) -> &'static str {
            "Last"
        }
        fn on_test_batch_end(
            &mut self,
            _: usize,
            logs: &Logs,
            _: &mut dyn TrainerControl,
        ) -> Result<()> {
            self.0.push(logs.clone());
            Ok(())
        }
    }
    let model = common::softmax_classifier("sgd");
    let x = ArrayD::from_shape_vec(IxDyn(&[3, 2]), vec![0.0f32, 1.0, 1.0, 0.0, 0.5, 0.5]).unwrap();
    let y = Array1::from(vec![0.0f32, 1.0, 2.0]).into_dyn();
    let mut last = Last(Vec::new());
    let all = model
        .evaluate_with(
            &[x.clone()],
            &y,
            EvaluateConfig::new()
                .batch_size(2)
                .verbose(0)
                .callback(&mut last),
        )
        .unwrap();
    let first_two = model
        .evaluate(
            &[x.slice(ndarray::s![..2, ..]).to_owned().into_dyn()],
            &y.slice(ndarray::s![..2]).to_owned().into_dyn(),
            2,
        )
        .unwrap();
    assert_eq!(last.0.len(), 2);
    assert_eq!(last.0[0], first_two);
    assert_eq!(last.0[1], all);
}
