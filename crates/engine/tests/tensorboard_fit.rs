//! TensorBoard inside a real `fit`: histogram tags carry Keras's weight paths, the graph holds the model config,
//! and the logged epoch loss is the one `fit` returns.

use ndarray::{ArrayD, IxDyn};
use rkeras_callbacks::TensorBoard;
use rkeras_callbacks::tensorboard::proto::What;
use rkeras_callbacks::tensorboard::{read_events, read_scalars};
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{Dense, Input, LayerCall};

#[test]
fn fit_writes_weight_histograms_graph_and_the_history_values() {
    let x = Input::named(&[3], "features");
    let y = Dense::new(2).with_name("out").call(&x).unwrap();
    let mut model = Model::new(&[x], &y).unwrap().with_name("tiny");
    model.compile("sgd", "mse", &[]).unwrap();
    let xs =
        ArrayD::from_shape_vec(IxDyn(&[4, 3]), (0..12).map(|v| v as f32 / 12.0).collect()).unwrap();
    let ys =
        ArrayD::from_shape_vec(IxDyn(&[4, 2]), (0..8).map(|v| v as f32 / 8.0).collect()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut tb = TensorBoard::new(dir.path()).with_histogram_freq(1);
    let history = model
        .fit(
            &[xs],
            &ys,
            FitConfig::new()
                .epochs(2)
                .batch_size(2)
                .verbose(0)
                .seed(1)
                .callback(&mut tb),
        )
        .unwrap();
    let train = dir.path().join("train");
    let losses: Vec<f32> = read_scalars(&train)
        .unwrap()
        .into_iter()
        .filter(|(t, _, _)| t == "epoch_loss")
        .map(|(_, _, v)| v)
        .collect();
    let expected: Vec<f32> = history
        .get("loss")
        .unwrap()
        .iter()
        .map(|&v| v as f32)
        .collect();
    assert_eq!(losses, expected);
    let mut tags = Vec::new();
    let mut graph = None;
    for event in read_events(&train).unwrap() {
        if let Some(What::Summary(summary)) = event.what {
            for value in summary.value {
                if value.tag == "keras" {
                    graph = value
                        .tensor
                        .map(|t| String::from_utf8(t.string_val[0].clone()).unwrap());
                } else {
                    tags.push((value.tag, event.step));
                }
            }
        }
    }
    assert!(
        tags.contains(&("tiny/out/kernel/histogram".to_string(), 0)),
        "{tags:?}"
    );
    assert!(
        tags.contains(&("tiny/out/bias/histogram".to_string(), 1)),
        "{tags:?}"
    );
    let graph: serde_json::Value = serde_json::from_str(&graph.expect("the graph event")).unwrap();
    assert_eq!(graph["config"]["name"], "tiny");
    assert_eq!(graph["module"], "keras");
}
