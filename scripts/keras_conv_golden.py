"""Golden files for rkeras's convolution and pooling layers, made by Keras 3.

    KERAS_BACKEND=tensorflow python scripts/keras_conv_golden.py generate crates/engine/tests/fixtures/keras_conv [NAME…]
        builds small models with random weights and biases (seeded), saves each with `model.save(NAME.h5)` and
        writes NAME.json: the input batch `x` and Keras's `predict(x)` as `y` (all models, or the NAMEs given).
    python scripts/keras_conv_golden.py check FIXTURE_DIR NAME RKERAS_WEIGHTS.h5
        loads NAME.h5 in Keras, replaces its weights with the file rkeras wrote (`save_weights`), and checks
        that the predictions still equal the golden ones (the weights went through rkeras unchanged and in
        Keras's layout). Prints `keras weights ok`.

The models cover Conv2D (same/valid padding, strides, dilation_rate, groups, relu), MaxPooling2D (same),
AveragePooling2D (strides 1), Conv1D (causal + dilation, strides + same), MaxPooling1D and AveragePooling1D (same),
Conv2DTranspose (same + strides + output_padding, valid + unequal strides + output_padding, same + dilation without
bias), DepthwiseConv2D (depth_multiplier + strides + same, dilation without bias) and SeparableConv2D
(depth_multiplier + same, strides without bias), both with strides and dilation_rate above 1 together (valid and
same, equal and unequal per axis); and the options the first two leave out: Conv2D and Conv1D
without bias, AveragePooling2D (same, strides 2), MaxPooling2D (valid, unequal strides), MaxPooling1D (same);
Conv2D layers that rkeras computes by implicit GEMM (stride 1, valid padding, 8 or more input channels:
square and unequal kernels, with and without bias, relu), and 3×3 Conv2D layers it computes by Winograd (8 or more
input channels and filters; valid and same, without bias; a relu convolution fused with the max pooling after it).
"""

import json
import os
import sys

import keras
import numpy as np
from keras import layers


def image_model():
    inputs = keras.Input((10, 9, 3))
    x = layers.Conv2D(6, (3, 3), strides=(2, 1), padding="same", activation="relu")(inputs)
    x = layers.Conv2D(4, (2, 2), dilation_rate=(2, 2), groups=2)(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.AveragePooling2D((2, 2), strides=(1, 1))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="conv2d_golden")


def sequence_model():
    inputs = keras.Input((12, 3))
    x = layers.Conv1D(5, 3, padding="causal", dilation_rate=2, activation="relu")(inputs)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(4, 2, strides=2, padding="same")(x)
    x = layers.AveragePooling1D(2, padding="same")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(2)(x)
    return keras.Model(inputs, outputs, name="conv1d_golden")


def transpose_model():
    inputs = keras.Input((5, 4, 3))
    x = layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1, activation="relu")(inputs)
    x = layers.Conv2DTranspose(3, (2, 3), strides=(2, 3), output_padding=(1, 2))(x)
    x = layers.Conv2DTranspose(2, 3, dilation_rate=2, padding="same", use_bias=False)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(3)(x)
    return keras.Model(inputs, outputs, name="conv2d_transpose_golden")


def depthwise_model():
    inputs = keras.Input((11, 10, 3))
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same", activation="relu")(inputs)
    x = layers.DepthwiseConv2D(2, dilation_rate=(2, 1), use_bias=False)(x)
    x = layers.SeparableConv2D(4, 3, depth_multiplier=2, padding="same", activation="relu")(x)
    x = layers.SeparableConv2D(5, 2, strides=2, use_bias=False)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(2)(x)
    return keras.Model(inputs, outputs, name="depthwise_golden")


def strided_dilated_model():
    # Keras accepts strides > 1 together with dilation_rate > 1 in the depthwise convolutions (not in Conv2D).
    inputs = keras.Input((12, 12, 3))
    a = layers.DepthwiseConv2D(3, strides=2, dilation_rate=2, depth_multiplier=2, activation="relu")(inputs)
    a = layers.SeparableConv2D(4, 2, strides=2, dilation_rate=(1, 2), padding="same")(a)
    b = layers.SeparableConv2D(3, 3, strides=(2, 3), dilation_rate=(3, 2), padding="same", use_bias=False)(inputs)
    b = layers.DepthwiseConv2D(2, strides=2, dilation_rate=2, padding="same")(b)
    x = layers.Concatenate()([layers.Flatten()(a), layers.Flatten()(b)])
    outputs = layers.Dense(2)(x)
    return keras.Model(inputs, outputs, name="depthwise_strided_dilated_golden")


def options_model():
    inputs = keras.Input((8, 9, 3))
    x = layers.Conv2D(4, 3, dilation_rate=(1, 2), padding="same", use_bias=False)(inputs)
    x = layers.AveragePooling2D(3, strides=2, padding="same")(x)
    x = layers.MaxPooling2D((2, 1), strides=(1, 2))(x)
    x = layers.Reshape((9, 4))(x)
    x = layers.MaxPooling1D(2, padding="same")(x)
    x = layers.Conv1D(3, 2, padding="same", use_bias=False, activation="relu")(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(2)(x)
    return keras.Model(inputs, outputs, name="conv_options_golden")


def implicit_model():
    # Stride 1, valid padding, >= 8 input channels: rkeras's implicit-GEMM path (the first layer, 3 channels, is not).
    inputs = keras.Input((9, 8, 3))
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Conv2D(10, (3, 2), activation="relu")(x)
    x = layers.Conv2D(9, (2, 3), use_bias=False)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(3)(x)
    return keras.Model(inputs, outputs, name="conv2d_implicit_golden")


def winograd_model():
    # 3x3, stride 1, >= 8 input channels and filters: rkeras's Winograd path (valid and same, odd and even sizes,
    # without bias); a relu convolution followed only by 2x2 max pooling: rkeras's fused convolution + pooling.
    inputs = keras.Input((11, 10, 8))
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Conv2D(12, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Conv2D(9, 3, padding="same", use_bias=False)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(3)(x)
    return keras.Model(inputs, outputs, name="conv2d_winograd_golden")


MODELS = {
    "conv2d": (image_model, (4, 10, 9, 3)),
    "conv1d": (sequence_model, (4, 12, 3)),
    "conv2d_transpose": (transpose_model, (3, 5, 4, 3)),
    "depthwise_separable": (depthwise_model, (3, 11, 10, 3)),
    "conv_options": (options_model, (3, 8, 9, 3)),
    "depthwise_strided_dilated": (strided_dilated_model, (3, 12, 12, 3)),
    "conv2d_implicit": (implicit_model, (5, 9, 8, 3)),
    "conv2d_winograd": (winograd_model, (3, 11, 10, 8)),
}


def generate(out_dir, names):
    os.makedirs(out_dir, exist_ok=True)
    for name, (build, shape) in MODELS.items():
        if names and name not in names:
            continue
        keras.utils.set_random_seed(7)
        model = build()
        # Non-zero biases, so that a dropped or misplaced bias shows.
        for w in model.weights:
            if w.path.endswith("bias"):
                w.assign(np.random.default_rng(1).uniform(-0.3, 0.3, w.shape).astype("float32"))
        model.compile(optimizer="adam", loss="mse")
        x = np.random.default_rng(2).uniform(-1, 1, shape).astype("float32")
        y = model.predict(x, verbose=0)
        model.save(os.path.join(out_dir, f"{name}.h5"))
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump({"backend": keras.backend.backend(), "keras": keras.__version__,
                       "x_shape": list(x.shape), "x": x.ravel().tolist(),
                       "y_shape": list(y.shape), "y": y.ravel().tolist()}, f)
        print(name, "written", y.shape)


def check(fixture_dir, name, weights_path):
    model = keras.models.load_model(os.path.join(fixture_dir, f"{name}.h5"), compile=False)
    golden = json.load(open(os.path.join(fixture_dir, f"{name}.json")))
    before = [np.asarray(w).copy() for w in model.weights]
    for w in model.weights:
        w.assign(np.zeros(w.shape, "float32"))
    model.load_weights(weights_path)
    for a, w in zip(before, model.weights, strict=True):
        if not np.array_equal(a, np.asarray(w)):
            raise SystemExit(f"weight {w.path} differs after loading rkeras's file")
    x = np.asarray(golden["x"], "float32").reshape(golden["x_shape"])
    y = model.predict(x, verbose=0)
    worst = float(np.max(np.abs(y - np.asarray(golden["y"]).reshape(golden["y_shape"]))))
    if worst > 1e-5:
        raise SystemExit(f"predictions differ by {worst}")
    print("keras weights ok")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2], sys.argv[3:])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4])
