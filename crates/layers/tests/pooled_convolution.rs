//! A `Conv2D` with ReLU whose output only a `MaxPooling2D` reads runs with the pooling as one op: the network's
//! values and every gradient are bit for bit those of the same layers run apart (a linear `Conv2D`, then an
//! `Activation("relu")`, then the pooling), and a convolution whose output is also a model output is not fused.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::{
    Activation, CallContext, Conv2D, Input, Layer, LayerCall, MaxPooling2D, Network,
};
use rkeras_tensor::Tensor;

fn values(shape: &[usize], seed: u64) -> ArrayD<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    })
}

fn bits(values: &ArrayD<f32>) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// The outputs' bit patterns, then the gradients of `Σ output ⊙ R` for the input and the convolution's kernel
/// and bias, and the last output's op.
fn run(net: &Network, conv: &Conv2D, x: &ArrayD<f32>) -> (Vec<Vec<u32>>, Option<&'static str>) {
    let x = Tensor::leaf(x.clone());
    let mut rng = StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: true,
        rng: &mut rng,
    };
    let outputs = net.forward(std::slice::from_ref(&x), &mut ctx).unwrap();
    let last = outputs.last().unwrap();
    let r = Tensor::new(values(last.shape(), 7));
    let grads = last.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
    let mut out: Vec<Vec<u32>> = outputs.iter().map(|o| bits(o.data())).collect();
    out.push(bits(grads.get(&x).unwrap()));
    for w in conv.weights() {
        out.push(bits(grads.get_var(&w).unwrap()));
    }
    (out, last.op_name())
}

fn same_weights(from: &Conv2D, to: &Conv2D) {
    for (a, b) in from.weights().iter().zip(to.weights()) {
        b.set_value((*a.value()).clone()).unwrap();
    }
}

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
        same_weights(&fused_conv, &conv);

        let (a, op) = run(&fused, &fused_conv, &x);
        assert_eq!(op, Some("conv2d_relu_max_pool2d"));
        let (b, op) = run(&separate, &conv, &x);
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
    let (out, op) = run(&both, &conv, &x);
    assert_eq!(op, Some("max_pool2d"));
    let alone = Network::new(
        std::slice::from_ref(&input),
        &[MaxPooling2D::new([2, 2])
            .call(&conv.call(&input).unwrap())
            .unwrap()],
    )
    .unwrap();
    let (fused, op) = run(&alone, &conv, &x);
    assert_eq!(op, Some("conv2d_relu_max_pool2d"));
    // Same pooled values and, the loss reading only the pooled output, the same gradients.
    assert_eq!(out[1..], fused[..]);
}
