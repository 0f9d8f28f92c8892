//! Every Keras 3 activation (by name and with arguments) and the activation layers ReLU, LeakyReLU, PReLU,
//! ELU and Softmax against Keras itself (`scripts/keras_activations_golden.py`), within 1e-5.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::{
    ActivationFn, CallContext, ELU, Layer, LeakyReLU, PReLU, ReLU, Softmax, layer_from_config,
};
use rkeras_tensor::ops::ReluOptions;
use rkeras_tensor::{Initializer, Tensor};
use serde_json::Value;

fn golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/activations_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn array(v: &Value) -> ArrayD<f32> {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap() as usize)
        .collect();
    let values = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

/// Within 1e-5, relative for large values (exponential reaches e⁷).
fn assert_close(actual: &Tensor, expected: &ArrayD<f32>, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}");
    for (i, (a, e)) in actual.data().iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5 * e.abs().max(1.0),
            "{what}[{i}]: {a} vs Keras's {e}"
        );
    }
}

#[test]
fn every_activation_by_name_matches_keras() {
    let g = golden();
    let grid = Tensor::new(array(&g["grid"]));
    let x2 = Tensor::new(array(&g["x2"]));
    let named = g["named"].as_object().unwrap();
    for (name, expected) in named {
        let input = if name.contains("softmax") { &x2 } else { &grid };
        let out = ActivationFn::from_name(name).unwrap().apply(input).unwrap();
        assert_close(&out, &array(expected), name);
    }
    // Every name rkeras knows was checked, here or in `keras3_added_activations_match_keras`
    // (hard_sigmoid_keras2 has its own golden test).
    let added = keras3_golden();
    let added = added["named"].as_object().unwrap();
    for name in ActivationFn::all_names().filter(|n| *n != "hard_sigmoid_keras2") {
        assert!(
            named.contains_key(name) || added.contains_key(name),
            "{name} has no Keras golden value"
        );
    }
}

#[test]
fn activations_with_arguments_match_keras() {
    let g = golden();
    let grid = Tensor::new(array(&g["grid"]));
    let x2 = Tensor::new(array(&g["x2"]));
    let w = &g["with_args"];
    let relu = |negative_slope, max_value, threshold| {
        grid.relu_with(ReluOptions {
            negative_slope,
            max_value,
            threshold,
        })
        .unwrap()
    };
    let cases: Vec<(&str, Tensor)> = vec![
        ("gelu_approximate", grid.gelu(true).unwrap()),
        ("relu_slope", relu(0.1, None, 0.0)),
        ("relu_max", relu(0.0, Some(6.0), 0.0)),
        ("relu_threshold", relu(0.0, None, 0.5)),
        ("relu_all", relu(0.3, Some(2.5), 1.0)),
        ("leaky_relu_0.05", grid.leaky_relu(0.05).unwrap()),
        ("elu_0.5", grid.elu(0.5).unwrap()),
        ("softmax_axis0", x2.softmax(0).unwrap()),
        ("log_softmax_axis0", x2.log_softmax(0).unwrap()),
    ];
    for (key, out) in cases {
        assert_close(&out, &array(&w[key]), key);
    }
}

fn run(layer: &dyn Layer, x: &Tensor) -> Tensor {
    let sample: Vec<usize> = x.shape()[1..].to_vec();
    let mut rng = StdRng::seed_from_u64(0);
    layer
        .core()
        .build_with(|| layer.build(&[sample], &mut rng))
        .unwrap();
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    layer.forward(std::slice::from_ref(x), &mut ctx).unwrap()
}

#[test]
fn activation_layers_match_keras_outputs_and_read_keras_configs() {
    let g = golden();
    let x3 = Tensor::new(array(&g["x3"]));
    let layers = &g["layers"];
    let built: Vec<(&str, Box<dyn Layer>)> = vec![
        (
            "ReLU",
            Box::new(ReLU::with_args(Some(1.5), 0.1, 0.2).unwrap()),
        ),
        ("LeakyReLU", Box::new(LeakyReLU::new(0.25).unwrap())),
        ("ELU", Box::new(ELU::new(0.7))),
        ("Softmax", Box::new(Softmax::new(1))),
    ];
    for (class, layer) in built {
        let case = &layers[class];
        assert_close(&run(layer.as_ref(), &x3), &array(&case["output"]), class);
        // Keras's own config rebuilds the same layer.
        let from_keras = layer_from_config(class, &case["config"]).unwrap();
        assert_close(
            &run(from_keras.as_ref(), &x3),
            &array(&case["output"]),
            class,
        );
        let ours = layer.config();
        for (key, value) in case["config"].as_object().unwrap() {
            if key != "name" && key != "dtype" {
                assert_eq!(&ours[key], value, "{class}: `{key}`");
            }
        }
    }
    // PReLU with Keras's alphas (shared over axis 1: shape [1, 4]).
    let case = &layers["PReLU"];
    let alpha = array(&case["alpha"]);
    assert_eq!(alpha.shape(), &[1, 4]);
    let prelu = layer_from_config("PReLU", &case["config"]).unwrap();
    assert_eq!(
        PReLU::new().with_shared_axes(&[1]).unwrap().config()["shared_axes"],
        case["config"]["shared_axes"]
    );
    let mut rng = StdRng::seed_from_u64(0);
    prelu
        .core()
        .build_with(|| prelu.build(&[vec![3, 4]], &mut rng))
        .unwrap();
    prelu.weights()[0].set_value(alpha).unwrap();
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    let out = prelu.forward(std::slice::from_ref(&x3), &mut ctx).unwrap();
    assert_close(&out, &array(&case["output"]), "PReLU");
    assert_eq!(
        PReLU::new()
            .with_alpha_initializer(Initializer::Zeros)
            .config()["alpha_initializer"],
        serde_json::json!({"module": "keras.initializers", "class_name": "Zeros", "config": {},
            "registered_name": null})
    );
}

#[test]
fn prelu_gradients_reach_alpha_and_input() {
    use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
    // relu(x) − alpha·relu(−x) with alpha broadcast over the batch and a shared axis.
    let x = ndarray::Array::from_shape_fn(IxDyn(&[2, 3, 4]), |i| {
        let v = (i[0] * 12 + i[1] * 4 + i[2]) as f32 * 0.37 - 4.1;
        if v.abs() < 0.05 { v + 0.1 } else { v }
    });
    let alpha = ndarray::Array::from_shape_fn(IxDyn(&[1, 4]), |i| 0.1 + i[1] as f32 * 0.2);
    let report = check_gradients(
        &[x, alpha],
        |t| t[0].relu()?.sub(&t[1].mul(&t[0].neg()?.relu()?)?),
        GradCheck::default(),
    )
    .unwrap();
    assert!(report.passed(), "{report:?}");
}

fn keras3_golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/activations_keras3_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The activations Keras 3 added (celu … threshold), by name with Keras's defaults and with arguments.
#[test]
fn keras3_added_activations_match_keras() {
    let g = keras3_golden();
    let grid = Tensor::new(array(&g["grid"]));
    let x2 = Tensor::new(array(&g["x2"]));
    for (name, expected) in g["named"].as_object().unwrap() {
        let input = if name == "sparsemax" { &x2 } else { &grid };
        let out = ActivationFn::from_name(name).unwrap().apply(input).unwrap();
        assert_close(&out, &array(expected), name);
    }
    let w = &g["with_args"];
    let cases: Vec<(&str, Tensor)> = vec![
        ("celu_0.7", grid.celu(0.7).unwrap()),
        ("hard_shrink_1.5", grid.hard_shrink(1.5).unwrap()),
        ("soft_shrink_0.25", grid.soft_shrink(0.25).unwrap()),
        ("squareplus_0.5", grid.squareplus(0.5).unwrap()),
        ("threshold_0.3_-2", grid.threshold(0.3, -2.0).unwrap()),
        ("glu", x2.glu(-1).unwrap()),
        ("glu_axis0", x2.narrow(0, 0, 2).unwrap().glu(0).unwrap()),
        ("sparsemax_axis0", x2.sparsemax(0).unwrap()),
        (
            "sparsemax_small",
            x2.mul_scalar(0.1).unwrap().sparsemax(-1).unwrap(),
        ),
    ];
    for (key, out) in cases {
        assert_close(&out, &array(&w[key]), key);
    }
}
