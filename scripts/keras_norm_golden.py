"""Golden data from Keras 3 for rkeras's normalization, pooling, reshaping and rescaling layers.

Writes (small files, committed, so that the Rust tests run without Python):
- crates/layers/tests/fixtures/norm_golden.json: per layer, Keras's config, an input, the weights, the
  inference output, and for BatchNormalization the training output and moving statistics after that call;
- crates/engine/tests/fixtures/bn_fit_golden.json: Dense -> BatchNormalization -> Dense trained by SGD for
  two steps: the initial weights, the data, and every weight after each step (moving statistics included);
- crates/engine/tests/fixtures/norm_1d.h5, norm_2d.h5: models of these layers saved by Keras (`model.save`),
  with an input batch and Keras's predictions in norm_h5_golden.json.

Usage: KERAS_BACKEND=tensorflow .venv-keras-bench/bin/python scripts/keras_norm_golden.py
"""

import json
import os

import keras
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
LAYERS_FIXTURES = os.path.join(ROOT, "crates/layers/tests/fixtures")
ENGINE_FIXTURES = os.path.join(ROOT, "crates/engine/tests/fixtures")


def arr(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def rand(rng, shape, scale=1.0, shift=0.0):
    return (rng.uniform(-scale, scale, size=shape) + shift).astype(np.float32)


def layer_case(rng, name, layer, input_shape, training=False):
    x = rand(rng, (3, *input_shape), 2.0, 0.5)
    layer.build((None, *input_shape))
    for w in layer.weights:
        if "variance" in w.path:
            w.assign(rng.uniform(0.5, 2.0, size=w.shape).astype(np.float32))
        else:
            w.assign(rand(rng, w.shape))
    weights = [{"name": w.name, **arr(w)} for w in layer.weights]
    case = {
        "name": name,
        "class": layer.__class__.__name__,
        "config": layer.get_config(),
        "input": arr(x),
        "weights": weights,
        "output": arr(layer(x, training=False)),
    }
    if training:
        case["training_output"] = arr(layer(x, training=True))
        case["weights_after_training_call"] = [{"name": w.name, **arr(w)} for w in layer.weights]
    return case


def layer_goldens():
    rng = np.random.default_rng(0)
    L = keras.layers
    cases = [
        layer_case(rng, "bn_2d", L.BatchNormalization(), (5,), training=True),
        layer_case(rng, "bn_3d_momentum", L.BatchNormalization(momentum=0.9, epsilon=1e-2), (4, 3), training=True),
        layer_case(rng, "bn_channels_first", L.BatchNormalization(axis=1), (3, 4, 2), training=True),
        layer_case(rng, "bn_no_center", L.BatchNormalization(center=False), (2, 3, 4), training=True),
        layer_case(rng, "ln_2d", L.LayerNormalization(), (6,)),
        layer_case(rng, "ln_3d", L.LayerNormalization(epsilon=1e-5), (4, 7)),
        layer_case(rng, "ln_no_scale", L.LayerNormalization(scale=False), (3, 5)),
        layer_case(rng, "gmp1d", L.GlobalMaxPooling1D(), (5, 3)),
        layer_case(rng, "gmp1d_keepdims", L.GlobalMaxPooling1D(keepdims=True), (5, 3)),
        layer_case(rng, "gap1d", L.GlobalAveragePooling1D(), (5, 3)),
        layer_case(rng, "gap1d_keepdims", L.GlobalAveragePooling1D(keepdims=True), (5, 3)),
        layer_case(rng, "gmp2d", L.GlobalMaxPooling2D(), (4, 3, 2)),
        layer_case(rng, "gmp2d_keepdims", L.GlobalMaxPooling2D(keepdims=True), (4, 3, 2)),
        layer_case(rng, "gap2d", L.GlobalAveragePooling2D(), (4, 3, 2)),
        layer_case(rng, "gap2d_keepdims", L.GlobalAveragePooling2D(keepdims=True), (4, 3, 2)),
        layer_case(rng, "zp1d", L.ZeroPadding1D(padding=(1, 2)), (4, 3)),
        layer_case(rng, "zp1d_int", L.ZeroPadding1D(padding=2), (4, 3)),
        layer_case(rng, "zp2d", L.ZeroPadding2D(padding=((1, 0), (2, 3))), (3, 2, 2)),
        layer_case(rng, "zp2d_int", L.ZeroPadding2D(padding=1), (3, 2, 2)),
        layer_case(rng, "crop1d", L.Cropping1D(cropping=(1, 2)), (6, 3)),
        layer_case(rng, "crop2d", L.Cropping2D(cropping=((1, 0), (2, 1))), (4, 5, 2)),
        layer_case(rng, "crop2d_int", L.Cropping2D(cropping=1), (4, 5, 2)),
        layer_case(rng, "up1d", L.UpSampling1D(size=3), (4, 2)),
        layer_case(rng, "up2d", L.UpSampling2D(size=(2, 3)), (3, 2, 2)),
        layer_case(rng, "sd1d", L.SpatialDropout1D(0.4), (4, 3)),
        layer_case(rng, "sd2d", L.SpatialDropout2D(0.3), (3, 2, 4)),
        layer_case(rng, "rescale", L.Rescaling(1.0 / 255), (4,)),
        layer_case(rng, "rescale_offset", L.Rescaling(2.0, offset=-1.0), (2, 3)),
    ]
    with open(os.path.join(LAYERS_FIXTURES, "norm_golden.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "backend": keras.backend.backend(), "cases": cases}, f)


def fit_golden():
    """Two SGD steps of Dense(3) -> BatchNormalization -> Dense(1) on 8 samples (batch 4, no shuffle)."""
    rng = np.random.default_rng(1)
    x = rand(rng, (8, 2), 2.0, 1.0)
    y = rand(rng, (8, 1))
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(3), keras.layers.BatchNormalization(momentum=0.8), keras.layers.Dense(1)]
    )
    for w in model.weights:
        w.assign(rand(rng, w.shape) if "variance" not in w.path else rng.uniform(0.5, 2, size=w.shape).astype(np.float32))
    initial = [arr(w) for w in model.weights]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    steps = []
    for step in range(2):
        batch = slice(4 * step, 4 * step + 4)
        loss = model.train_on_batch(x[batch], y[batch])
        steps.append({"loss": float(loss), "weights": [arr(w) for w in model.weights]})
    out = {
        "x": arr(x),
        "y": arr(y),
        "weight_names": [w.path for w in model.weights],
        "initial": initial,
        "steps": steps,
        "evaluate_loss": float(model.evaluate(x, y, batch_size=8, verbose=0)),
        "predict": arr(model.predict(x, verbose=0)),
    }
    with open(os.path.join(ENGINE_FIXTURES, "bn_fit_golden.json"), "w") as f:
        json.dump(out, f)


def randomize(model, rng):
    for w in model.weights:
        if "variance" in w.path:
            w.assign(rng.uniform(0.5, 2.0, size=w.shape).astype(np.float32))
        else:
            w.assign(rand(rng, w.shape))


def h5_models():
    rng = np.random.default_rng(2)
    L = keras.layers
    x1 = keras.Input((6, 3), name="seq")
    h = L.Rescaling(0.5, offset=0.1)(x1)
    h = L.ZeroPadding1D((1, 2))(h)
    h = L.Cropping1D((2, 1))(h)
    h = L.UpSampling1D(2)(h)
    h = L.SpatialDropout1D(0.3)(h)
    h = L.LayerNormalization()(h)
    h = L.BatchNormalization()(h)
    y1 = L.Concatenate()([L.GlobalMaxPooling1D()(h), L.GlobalAveragePooling1D()(h)])
    m1 = keras.Model(x1, y1)
    x2 = keras.Input((4, 5, 2), name="image")
    h = L.ZeroPadding2D(((1, 0), (2, 1)))(x2)
    h = L.Cropping2D(((0, 1), (1, 1)))(h)
    h = L.UpSampling2D((2, 1))(h)
    h = L.SpatialDropout2D(0.2)(h)
    h = L.BatchNormalization(momentum=0.9)(h)
    h = L.LayerNormalization(epsilon=1e-4)(h)
    y2 = L.Concatenate()([L.GlobalMaxPooling2D()(h), L.GlobalAveragePooling2D()(h)])
    m2 = keras.Model(x2, y2)
    golden = {}
    for name, model, shape in [("norm_1d", m1, (6, 3)), ("norm_2d", m2, (4, 5, 2))]:
        randomize(model, rng)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        x = rand(rng, (4, *shape), 2.0)
        model.save(os.path.join(ENGINE_FIXTURES, f"{name}.h5"))
        golden[name] = {"x": arr(x), "predict": arr(model.predict(x, verbose=0))}
    with open(os.path.join(ENGINE_FIXTURES, "norm_h5_golden.json"), "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    layer_goldens()
    fit_golden()
    h5_models()
    print("wrote the golden files")
