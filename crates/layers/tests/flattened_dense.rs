//! A `Dense` whose input only a `Flatten` produces reads the flatten's input in place: the network's values and
//! every gradient are bit for bit those of the two layers run apart, and a flatten whose output is also a model
//! output is not fused.

mod support;

use rkeras_layers::{Dense, Flatten, Input, Layer, LayerCall, Network};
use support::{run, same_weights, values};

/// `Input(shape) → Flatten → dense`, and the same with the flattened values also a model output (not fused).
fn networks(shape: &[usize], dense: &Dense, apart: &Dense) -> (Network, Network) {
    let input = Input::new(&shape[1..]);
    let y = dense.call(&Flatten::new().call(&input).unwrap()).unwrap();
    let fused = Network::new(std::slice::from_ref(&input), &[y]).unwrap();
    let input = Input::new(&shape[1..]);
    let flat = Flatten::new().call(&input).unwrap();
    let y = apart.call(&flat).unwrap();
    let separate = Network::new(std::slice::from_ref(&input), &[flat, y]).unwrap();
    same_weights(&dense.weights(), &apart.weights());
    (fused, separate)
}

#[test]
fn the_fused_flatten_and_dense_give_the_separate_layers_bits() {
    let layers = [
        ("relu", true, "bias_relu"),
        ("linear", false, "flatten_matmul"),
        ("tanh", true, "tanh"),
    ];
    for shape in [[6, 4, 3, 5], [3, 2, 1, 7]] {
        for (activation, bias, last_op) in layers {
            let make = || {
                Dense::new(9)
                    .with_activation(activation)
                    .unwrap()
                    .with_bias(bias)
            };
            let (dense, apart) = (make(), make());
            let (fused, separate) = networks(&shape, &dense, &apart);
            let x = values(&shape, 3);
            let (a, op) = run(&fused, &dense.weights(), &x);
            assert_eq!(op, Some(last_op), "{activation}");
            let (b, _) = run(&separate, &apart.weights(), &x);
            // `separate` also outputs the flattened values: the rest is the fused network's outputs and gradients.
            assert_eq!(a[..], b[1..], "{shape:?} {activation}");
            assert!(a.iter().all(|bits| bits.iter().any(|&v| v != 0)));
        }
    }
}

#[test]
fn a_flatten_whose_output_is_also_read_elsewhere_is_not_fused() {
    let dense = Dense::new(4).with_bias(false);
    let input = Input::new(&[3, 2]);
    let y = dense.call(&Flatten::new().call(&input).unwrap()).unwrap();
    let net = Network::new(std::slice::from_ref(&input), &[y]).unwrap();
    let (_, op) = run(&net, &dense.weights(), &values(&[2, 3, 2], 4));
    assert_eq!(op, Some("flatten_matmul"));
    let apart = Dense::new(4).with_bias(false);
    let (_, separate) = networks(&[2, 3, 2], &Dense::new(4).with_bias(false), &apart);
    let (_, op) = run(&separate, &apart.weights(), &values(&[2, 3, 2], 4));
    assert_eq!(op, Some("matmul"));
}
