//! Conv2DTranspose, DepthwiseConv2D and SeparableConv2D: forward passes against hand-computed values, output
//! shapes checked when the model is built (typed errors naming the layer and the shapes), Keras's argument
//! checks, and config round trips (Keras's outputs themselves are checked in rkeras-engine's `keras_conv`).

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::*;
use rkeras_tensor::Tensor;

fn set(layer: &dyn Layer, index: usize, shape: &[usize], values: Vec<f32>) {
    layer.weights()[index]
        .set_value(ArrayD::from_shape_vec(IxDyn(shape), values).unwrap())
        .unwrap();
}

fn run(layer: &dyn Layer, shape: &[usize], values: Vec<f32>) -> Tensor {
    let mut rng = StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    layer
        .forward(&[Tensor::from_vec(shape, values).unwrap()], &mut ctx)
        .unwrap()
}

#[test]
fn conv2d_transpose_spreads_each_input_over_the_kernel() {
    let up = Conv2DTranspose::new(1, [1, 2]).with_strides([1, 2]);
    up.call(&Input::new(&[1, 2, 1])).unwrap();
    set(&up, 0, &[1, 2, 1, 1], vec![10.0, 1.0]);
    set(&up, 1, &[1], vec![0.5]);
    // Stride 2, kernel [10, 1]: x0 → [10·x0, x0], x1 → [10·x1, x1], side by side, plus 0.5.
    let y = run(&up, &[1, 1, 2, 1], vec![1.0, 2.0]);
    assert_eq!(
        (y.shape(), y.to_vec()),
        (&[1, 1, 4, 1][..], vec![10.5, 1.5, 20.5, 2.5])
    );
}

#[test]
fn depthwise_conv2d_convolves_each_channel_with_its_own_filters() {
    let conv = DepthwiseConv2D::new([1, 2])
        .with_depth_multiplier(2)
        .with_bias(false);
    conv.call(&Input::new(&[1, 2, 2])).unwrap();
    // kernel[0, kx, c, j]: channel 0 → filters (1, 0) then (0, 1) over the two taps; channel 1 → (1, 1), (2, -1).
    set(
        &conv,
        0,
        &[1, 2, 2, 2],
        vec![1.0, 0.0, 1.0, 2.0, 0.0, 1.0, 1.0, -1.0],
    );
    // x[0, w, c]: w = 0: (3, 5); w = 1: (7, 11).
    let y = run(&conv, &[1, 1, 2, 2], vec![3.0, 5.0, 7.0, 11.0]);
    // Output channel c·2 + j: c0 j0 = 1·3 + 0·7 = 3; c0 j1 = 0·3 + 1·7 = 7; c1 j0 = 1·5 + 1·11 = 16;
    // c1 j1 = 2·5 − 1·11 = −1.
    assert_eq!(
        (y.shape(), y.to_vec()),
        (&[1, 1, 1, 4][..], vec![3.0, 7.0, 16.0, -1.0])
    );
}

#[test]
fn separable_conv2d_is_depthwise_then_pointwise_plus_bias() {
    let conv = SeparableConv2D::new(1, [1, 2])
        .with_activation("relu")
        .unwrap();
    conv.call(&Input::new(&[1, 2, 2])).unwrap();
    let names: Vec<String> = conv
        .weights()
        .iter()
        .map(|w| w.name().to_string())
        .collect();
    assert_eq!(names, ["depthwise_kernel", "pointwise_kernel", "bias"]);
    set(&conv, 0, &[1, 2, 2, 1], vec![1.0, 1.0, 1.0, -1.0]);
    set(&conv, 1, &[1, 1, 2, 1], vec![2.0, 3.0]);
    set(&conv, 2, &[1], vec![-1.0]);
    // depthwise: c0 = 3 + 7 = 10, c1 = 5 − 11 = −6; pointwise: 2·10 + 3·(−6) − 1 = 1 → relu 1.
    let y = run(&conv, &[1, 1, 2, 2], vec![3.0, 5.0, 7.0, 11.0]);
    assert_eq!(y.to_vec(), vec![1.0]);
    let y = run(&conv, &[1, 1, 2, 2], vec![3.0, 5.0, -7.0, 11.0]);
    assert_eq!(y.to_vec(), vec![0.0]);
}

fn error(layer: impl Layer + LayerCall, shape: &[usize]) -> String {
    layer.call(&Input::new(shape)).unwrap_err().to_string()
}

#[test]
fn shapes_are_checked_when_the_model_is_built() {
    let err = error(DepthwiseConv2D::new([3, 3]).with_name("dw"), &[2, 8, 3]);
    assert!(
        err.contains("dw") && err.contains("(None, 2, 8, 3)") && err.contains("does not fit"),
        "{err}"
    );
    let err = error(SeparableConv2D::new(4, [3, 3]).with_name("sep"), &[8, 3]);
    assert!(
        err.contains("sep") && err.contains("expected 3 axes"),
        "{err}"
    );
    let err = error(Conv2DTranspose::new(4, [3, 3]).with_name("up"), &[8, 8]);
    assert!(err.contains("up") && err.contains("(None, 8, 8)"), "{err}");
    // Keras's `same` size with output padding that no `same` convolution maps back (TensorFlow refuses it).
    let layer = Conv2DTranspose::new(1, [2, 2])
        .with_padding("same")
        .unwrap()
        .with_output_padding([0, 0]);
    let err = error(layer.with_name("refused"), &[4, 4, 1]);
    assert!(
        err.contains("refused") && err.contains("does not convolve back"),
        "{err}"
    );
    // A built layer refuses inputs of other channels.
    let conv = SeparableConv2D::new(4, [3, 3]);
    conv.call(&Input::new(&[8, 8, 3])).unwrap();
    assert!(
        conv.call(&Input::new(&[8, 8, 2]))
            .unwrap_err()
            .to_string()
            .contains("built for other")
    );
}

#[test]
fn keras_argument_checks() {
    let invalid = |layer: &dyn Fn() -> String, argument: &str| {
        let err = layer();
        assert!(err.contains(argument), "{argument}: {err}");
    };
    invalid(
        &|| {
            error(
                Conv2DTranspose::new(2, [3, 3])
                    .with_strides([2, 2])
                    .with_output_padding([2, 0]),
                &[4, 4, 1],
            )
        },
        "output_padding",
    );
    invalid(
        &|| {
            error(
                Conv2DTranspose::new(2, [3, 3])
                    .with_strides([2, 2])
                    .with_dilation_rate([2, 2]),
                &[4, 4, 1],
            )
        },
        "dilation_rate",
    );
    invalid(
        &|| {
            error(
                DepthwiseConv2D::new([3, 3]).with_depth_multiplier(0),
                &[4, 4, 1],
            )
        },
        "depth_multiplier",
    );
    invalid(
        &|| error(SeparableConv2D::new(0, [3, 3]), &[4, 4, 1]),
        "filters",
    );
    assert!(
        Conv2DTranspose::new(2, [3, 3])
            .with_padding("causal")
            .is_err()
    );
    for err in [
        DepthwiseConv2D::new([3, 3])
            .with_data_format("channels_first")
            .unwrap_err(),
        SeparableConv2D::new(2, [3, 3])
            .with_data_format("channels_first")
            .unwrap_err(),
        Conv2DTranspose::new(2, [3, 3])
            .with_data_format("channels_first")
            .unwrap_err(),
    ] {
        assert!(err.to_string().contains("channels_first"), "{err}");
    }
}

#[test]
fn configs_round_trip_in_keras_names() {
    let up = Conv2DTranspose::new(4, [3, 2])
        .with_strides([2, 2])
        .with_output_padding([1, 0])
        .with_name("up");
    let config = up.config();
    assert_eq!(config["output_padding"], serde_json::json!([1, 0]));
    assert_eq!(
        layer_from_config("Conv2DTranspose", &config)
            .unwrap()
            .config(),
        config
    );
    let mut none = config.clone();
    none["output_padding"] = serde_json::Value::Null;
    assert_eq!(
        Conv2DTranspose::from_config(&none).unwrap().config()["output_padding"],
        serde_json::Value::Null
    );
    let dw = DepthwiseConv2D::new([3, 3]).with_depth_multiplier(3);
    let config = dw.config();
    assert_eq!(config["depth_multiplier"], 3);
    assert!(config.get("filters").is_none() && config.get("depthwise_initializer").is_some());
    let sep = SeparableConv2D::new(5, [3, 3]).with_depth_multiplier(2);
    let config = sep.config();
    assert_eq!(
        (
            config["filters"].as_u64(),
            config["depth_multiplier"].as_u64()
        ),
        (Some(5), Some(2))
    );
    let mut first = config.clone();
    first["data_format"] = serde_json::json!("channels_first");
    assert!(
        SeparableConv2D::from_config(&first)
            .unwrap_err()
            .to_string()
            .contains("channels_first")
    );
    let mut regularized = config;
    regularized["pointwise_regularizer"] = serde_json::json!({"class_name": "L2"});
    let rebuilt = SeparableConv2D::from_config(&regularized).unwrap();
    assert_eq!(
        rebuilt.config()["pointwise_regularizer"]["config"]["l2"],
        serde_json::json!(0.01)
    );
    assert_eq!(
        rebuilt.config()["activity_regularizer"],
        serde_json::Value::Null
    );
    regularized["activity_regularizer"] = serde_json::json!("l2");
    let rebuilt = SeparableConv2D::from_config(&regularized).unwrap();
    assert_eq!(
        rebuilt.config()["activity_regularizer"]["config"]["l2"],
        serde_json::json!(0.01)
    );
}

/// Every image layer whose Keras config has a `data_format` refuses `channels_first` with a typed error naming
/// the argument (rkeras is channels-last; BatchNormalization supports it through `axis=1` instead).
#[test]
fn channels_first_is_a_typed_error_for_every_image_layer() {
    let layers: Vec<LayerRef> = vec![
        std::sync::Arc::new(Conv1D::new(2, [3])),
        std::sync::Arc::new(Conv2D::new(2, [3, 3])),
        std::sync::Arc::new(Conv2DTranspose::new(2, [3, 3])),
        std::sync::Arc::new(DepthwiseConv2D::new([3, 3])),
        std::sync::Arc::new(SeparableConv2D::new(2, [3, 3])),
        std::sync::Arc::new(MaxPooling1D::new([2])),
        std::sync::Arc::new(MaxPooling2D::new([2, 2])),
        std::sync::Arc::new(AveragePooling1D::new([2])),
        std::sync::Arc::new(AveragePooling2D::new([2, 2])),
        std::sync::Arc::new(GlobalPooling::new(GlobalPoolingKind::Max, 1)),
        std::sync::Arc::new(GlobalPooling::new(GlobalPoolingKind::Average, 2)),
        std::sync::Arc::new(ZeroPadding::two_d((1, 1), (1, 1))),
        std::sync::Arc::new(Cropping::two_d((1, 0), (0, 1))),
        std::sync::Arc::new(UpSampling::two_d(2, 2)),
        std::sync::Arc::new(SpatialDropout::new(0.5, 2)),
    ];
    let mut checked = 0;
    for layer in layers {
        let mut config = layer.config();
        if config.get("data_format").is_none() {
            continue;
        }
        config["data_format"] = serde_json::json!("channels_first");
        let err = match layer_from_config(layer.class_name(), &config) {
            Err(err) => err.to_string(),
            Ok(_) => panic!("{} accepted channels_first", layer.class_name()),
        };
        assert!(
            err.contains("channels_first"),
            "{}: {err}",
            layer.class_name()
        );
        checked += 1;
    }
    assert!(checked >= 13, "only {checked} layers have a data_format");
}

/// Keras's depthwise convolutions accept strides and dilation_rate above 1 together (Conv2D does not): 12×12,
/// kernel 3, stride 2, dilation 2 gives 4×4 (`valid`) and 6×6 (`same`).
#[test]
fn depthwise_and_separable_conv2d_take_strides_with_dilation() {
    let dw = DepthwiseConv2D::new([3, 3])
        .with_strides([2, 2])
        .with_dilation_rate([2, 2])
        .with_bias(false);
    assert_eq!(
        dw.call(&Input::new(&[12, 12, 1])).unwrap().shape(),
        [4, 4, 1]
    );
    set(&dw, 0, &[3, 3, 1, 1], vec![1.0; 9]);
    // x[i, j] = 12·i + j; y[oy, ox] = Σ x[2·oy + 2·ky, 2·ox + 2·kx] = 216·oy + 18·ox + 234.
    let y = run(&dw, &[1, 12, 12, 1], (0..144).map(|v| v as f32).collect());
    let expected: Vec<f32> = (0..16)
        .map(|p| (216 * (p / 4) + 18 * (p % 4) + 234) as f32)
        .collect();
    assert_eq!((y.shape(), y.to_vec()), (&[1, 4, 4, 1][..], expected));

    let sep = SeparableConv2D::new(5, [3, 3])
        .with_strides([2, 2])
        .with_dilation_rate([2, 2])
        .with_padding("same")
        .unwrap();
    assert_eq!(
        sep.call(&Input::new(&[12, 12, 2])).unwrap().shape(),
        [6, 6, 5]
    );

    let err = error(
        Conv2D::new(2, [3, 3])
            .with_strides([2, 2])
            .with_dilation_rate([2, 2]),
        &[12, 12, 1],
    );
    assert!(err.contains("dilation_rate"), "{err}");
}
