//! A `Conv2D` with ReLU whose output only a `MaxPooling2D` reads runs with the pooling as one op: the network's
//! values and every gradient are bit for bit those of the same layers run apart (a linear `Conv2D`, then an
//! `Activation("relu")`, then the pooling), and a convolution whose output is also a model output is not fused.

mod support;

use rkeras_layers::{Activation, Conv2D, Input, Layer, LayerCall, MaxPooling2D, Network};
use support::{run, same_weights, values};

#[test]
fn the_fused_convolution_and_pooling_give_the_separate_layers_bits() {
    // 6 images: shards of 4 and 2 on the implicit path (32 channels in); windows 2×2 over 9×9 leave a row out.
    for (shape, filters, pool) in [([6, 11, 11, 32], 16, [2, 2]), ([3, 9, 8, 2], 5, [2, 3])] {
        let x = values(&[shape[0], shape[1], shape[2], shape[3]], 1);
        let input = Input::new(&shape[1..]);
        let fused_conv = Conv2D::new(filters, [3, 3])
            .with_activation("relu")
            .unwrap();
        let y = MaxPooling2D::new(pool)
            .call(&fused_conv.call(&input).unwrap())
            .unwrap();
        let fused = Network::new(std::slice::from_ref(&input), &[y]).unwrap();

        let input = Input::new(&shape[1..]);
        let conv = Conv2D::new(filters, [3, 3]);
        let relu = Activation::new("relu")
            .unwrap()
            .call(&conv.call(&input).unwrap())
            .unwrap();
        let y = MaxPooling2D::new(pool).call(&relu).unwrap();
        let separate = Network::new(std::slice::from_ref(&input), &[y]).unwrap();
        // A negative bias, so that some windows lie wholly at or below zero and the mask stops their gradient.
        let bias = &fused_conv.weights()[1];
        bias.set_value(bias.value().mapv(|_| -0.5)).unwrap();
        same_weights(&fused_conv.weights(), &conv.weights());

        let (a, op) = run(&fused, &fused_conv.weights(), &x);
        assert_eq!(op, Some("conv2d_relu_max_pool2d"));
        let (b, op) = run(&separate, &conv.weights(), &x);
        assert_eq!(op, Some("max_pool2d"));
        assert_eq!(a, b, "{shape:?}");
        assert!(a[0].iter().any(|&v| v != 0) && a[1].iter().any(|&v| v != 0));
    }
}

#[test]
fn a_convolution_whose_output_is_also_read_elsewhere_is_not_fused() {
    let x = values(&[2, 8, 8, 3], 2);
    let input = Input::new(&[8, 8, 3]);
    let conv = Conv2D::new(4, [3, 3]).with_activation("relu").unwrap();
    let features = conv.call(&input).unwrap();
    let pooled = MaxPooling2D::new([2, 2]).call(&features).unwrap();
    let both = Network::new(std::slice::from_ref(&input), &[features, pooled]).unwrap();
    let (out, op) = run(&both, &conv.weights(), &x);
    assert_eq!(op, Some("max_pool2d"));
    let alone = Network::new(
        std::slice::from_ref(&input),
        &[MaxPooling2D::new([2, 2])
            .call(&conv.call(&input).unwrap())
            .unwrap()],
    )
    .unwrap();
    let (fused, op) = run(&alone, &conv.weights(), &x);
    assert_eq!(op, Some("conv2d_relu_max_pool2d"));
    // Same pooled values and, the loss reading only the pooled output, the same gradients.
    assert_eq!(out[1..], fused[..]);
}
