"""Golden numbers for Keras 3's activations, activation layers and initializer configs.

Writes crates/layers/tests/fixtures/activations_golden.json (every activation by name and with arguments on a
grid; ReLU/LeakyReLU/PReLU/ELU/Softmax layer outputs and configs) and crates/engine/tests/fixtures/
activation_layers.h5 with activation_layers_golden.json (a Keras model of the activation layers, a PReLU with
learned-looking alphas, Dense kernels with he_normal/lecun_uniform initializer configs, and its predictions).

Usage: KERAS_BACKEND=jax keras_activations_golden.py            (writes the fixtures)
       KERAS_BACKEND=jax keras_activations_golden.py keras3     (writes only activations_keras3_golden.json: celu,
       glu, hard_shrink, hard_tanh, log_sigmoid, soft_shrink, sparse_plus, sparse_sigmoid, sparsemax, squareplus,
       tanh_shrink, threshold, by name and with arguments)
       KERAS_BACKEND=jax keras_activations_golden.py check DIR  (loads DIR/activation_layers.h5, which rkeras
       saved, with Keras; checks layers, weights and predictions; prints `keras load ok`)
"""

import json
import os
import sys

import keras
import numpy as np
from keras import activations as A
from keras import layers as L

HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS_FIXTURES = os.path.join(HERE, "../crates/layers/tests/fixtures")
ENGINE_FIXTURES = os.path.join(HERE, "../crates/engine/tests/fixtures")


def arr(x):
    x = np.asarray(x, dtype=np.float32)
    return {"shape": list(x.shape), "values": [float(v) for v in x.reshape(-1)]}


def model():
    inputs = keras.Input((4, 3), name="x")
    h = L.Dense(3, activation="gelu", kernel_initializer="he_normal", name="dense_gelu")(inputs)
    h = L.PReLU(shared_axes=[1], alpha_initializer=keras.initializers.RandomUniform(0.1, 0.4), name="prelu")(h)
    h = L.Dense(5, activation="silu", kernel_initializer="lecun_uniform",
                bias_initializer=keras.initializers.Constant(-0.3), name="dense_silu")(h)
    h = L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2, name="relu")(h)
    h = L.LeakyReLU(negative_slope=0.25, name="leaky")(h)
    h = L.Dense(4, activation="mish", kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.5),
                name="dense_mish")(h)
    h = L.ELU(alpha=0.7, name="elu")(h)
    h = L.Activation("hard_silu", name="hard_silu")(h)
    outputs = L.Softmax(axis=1, name="softmax")(h)
    return keras.Model(inputs, outputs, name="activation_layers")


def write():
    keras.utils.set_random_seed(7)
    grid = np.concatenate([np.linspace(-7.0, 7.0, 57), [-3.0, -1e-3, 0.0, 1e-3, 0.5, 3.0, 6.0]]).astype(np.float32)
    named = {}
    for name in ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish", "softplus",
                 "softsign", "hard_sigmoid", "hard_silu", "hard_swish", "exponential", "linear", "sigmoid",
                 "tanh"]:
        named[name] = arr(A.get(name)(grid))
    x2 = np.random.RandomState(3).normal(size=(3, 5)).astype(np.float32) * 3
    named["softmax"] = arr(A.softmax(x2))
    named["log_softmax"] = arr(A.log_softmax(x2))
    with_args = {
        "gelu_approximate": arr(A.gelu(grid, approximate=True)),
        "relu_slope": arr(A.relu(grid, negative_slope=0.1)),
        "relu_max": arr(A.relu(grid, max_value=6.0)),
        "relu_threshold": arr(A.relu(grid, threshold=0.5)),
        "relu_all": arr(A.relu(grid, negative_slope=0.3, max_value=2.5, threshold=1.0)),
        "leaky_relu_0.05": arr(A.leaky_relu(grid, negative_slope=0.05)),
        "elu_0.5": arr(A.elu(grid, alpha=0.5)),
        "softmax_axis0": arr(A.softmax(x2, axis=0)),
        "log_softmax_axis0": arr(A.log_softmax(x2, axis=0)),
    }
    x3 = np.random.RandomState(4).normal(size=(2, 3, 4)).astype(np.float32) * 2
    prelu = L.PReLU(shared_axes=[1], alpha_initializer=keras.initializers.RandomUniform(0.0, 0.5))
    prelu_out = prelu(x3)
    layer_cases = {
        "ReLU": L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
        "LeakyReLU": L.LeakyReLU(negative_slope=0.25),
        "ELU": L.ELU(alpha=0.7),
        "Softmax": L.Softmax(axis=1),
    }
    layer_outputs = {k: {"config": v.get_config(), "output": arr(v(x3))} for k, v in layer_cases.items()}
    layer_outputs["PReLU"] = {"config": prelu.get_config(), "alpha": arr(prelu.get_weights()[0]),
                              "output": arr(prelu_out)}
    json.dump({"grid": arr(grid), "x2": arr(x2), "x3": arr(x3), "named": named, "with_args": with_args,
               "layers": layer_outputs},
              open(os.path.join(LAYERS_FIXTURES, "activations_golden.json"), "w"))

    m = model()
    x = np.random.RandomState(5).normal(size=(6, 4, 3)).astype(np.float32)
    m.save(os.path.join(ENGINE_FIXTURES, "activation_layers.h5"))
    json.dump({"x": arr(x), "predict": arr(m.predict(x, verbose=0)),
               "weights": {w.path: arr(w) for w in m.weights}},
              open(os.path.join(ENGINE_FIXTURES, "activation_layers_golden.json"), "w"))
    print("written")


def write_keras3_extra():
    """The activations Keras 3 added (celu … threshold) on the grid, by name and with arguments."""
    grid = np.concatenate([np.linspace(-7.0, 7.0, 57), [-3.0, -1e-3, 0.0, 1e-3, 0.5, 3.0, 6.0]]).astype(np.float32)
    x2 = np.random.RandomState(3).normal(size=(3, 6)).astype(np.float32) * 3
    named = {name: arr(A.get(name)(grid)) for name in
             ["celu", "hard_shrink", "hard_tanh", "log_sigmoid", "soft_shrink", "sparse_plus", "sparse_sigmoid",
              "squareplus", "tanh_shrink"]}
    named["sparsemax"] = arr(A.sparsemax(x2))
    with_args = {
        "celu_0.7": arr(A.celu(grid, alpha=0.7)),
        "hard_shrink_1.5": arr(A.hard_shrink(grid, threshold=1.5)),
        "soft_shrink_0.25": arr(A.soft_shrink(grid, threshold=0.25)),
        "squareplus_0.5": arr(A.squareplus(grid, b=0.5)),
        "threshold_0.3_-2": arr(A.threshold(grid, threshold=0.3, default_value=-2.0)),
        "glu": arr(A.glu(x2)),
        "glu_axis0": arr(A.glu(x2[:2], axis=0)),
        "sparsemax_axis0": arr(A.sparsemax(x2, axis=0)),
        "sparsemax_small": arr(A.sparsemax(x2 / 10.0)),
    }
    json.dump({"grid": arr(grid), "x2": arr(x2), "named": named, "with_args": with_args},
              open(os.path.join(LAYERS_FIXTURES, "activations_keras3_golden.json"), "w"))
    print("written activations_keras3_golden.json")


def check(directory):
    golden = json.load(open(os.path.join(ENGINE_FIXTURES, "activation_layers_golden.json")))
    original = keras.models.load_model(os.path.join(ENGINE_FIXTURES, "activation_layers.h5"), compile=False)
    saved = keras.models.load_model(os.path.join(directory, "activation_layers.h5"), compile=False)
    classes = [layer.__class__.__name__ for layer in saved.layers]
    if classes != [layer.__class__.__name__ for layer in original.layers]:
        raise SystemExit(f"layers differ: {classes}")
    for a, b in zip(original.layers, saved.layers, strict=True):
        ca, cb = a.get_config(), b.get_config()
        for key in ca:
            if key not in ("name", "dtype") and ca[key] != cb.get(key):
                raise SystemExit(f"{a.name}: config `{key}` {ca[key]} != {cb.get(key)}")
    for a, b in zip(original.weights, saved.weights, strict=True):
        if a.shape != b.shape or not np.array_equal(np.asarray(a), np.asarray(b)):
            raise SystemExit(f"weight {a.path} differs from {b.path}")
    x = np.asarray(golden["x"]["values"], dtype=np.float32).reshape(golden["x"]["shape"])
    expected = np.asarray(golden["predict"]["values"]).reshape(golden["predict"]["shape"])
    if not np.allclose(saved.predict(x, verbose=0), expected, atol=1e-5):
        raise SystemExit("predictions differ")
    print(classes)
    print("keras load ok")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "check":
        check(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "keras3":
        write_keras3_extra()
    else:
        write()
        write_keras3_extra()
