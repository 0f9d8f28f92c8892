"""Golden files for a frozen model used as a layer whose layers are wrappers, made by Keras 3.15.

    KERAS_BACKEND=jax python scripts/keras_frozen_wrapped_golden.py generate crates/engine/tests/fixtures/frozen_nested
        builds `Sequential([backbone, Flatten, Dense(1, name="head")])` with `backbone = Sequential([
        TimeDistributed(BatchNormalization), Bidirectional(LSTM(2, return_sequences=True))])` on `[3, 4]` inputs,
        the BatchNormalization's moving statistics set away from their start, and `backbone.trainable = False`
        (Keras's setter reaches the wrapped layers: their saved `trainable` is false and the BatchNormalization
        runs in inference mode during fit). Saves it uncompiled as wrapped.keras, then fits one epoch (SGD 0.1,
        mse, batch 4, no shuffling) and writes wrapped.json: `x`, `y`, `flags` (the saved `trainable` of each
        wrapper and of the layers it wraps), `weights_after` and `predict_after`.
    python scripts/keras_frozen_wrapped_golden.py check FIXTURE_DIR RKERAS_FILE PREDICTIONS.json
        loads a `.keras` or legacy `.h5` file rkeras wrote: the wrapped layers' flags as in wrapped.json, no
        trainable weight in the backbone, and predictions on `x` equal to PREDICTIONS.json's `y` (1e-5). Prints
        `wrapped ok`.
"""

import json
import os
import sys

import keras
import numpy as np
from keras import layers

TOLERANCE = 1e-5


def build():
    keras.utils.set_random_seed(13)
    backbone = keras.Sequential(
        [
            keras.Input((3, 4)),
            layers.TimeDistributed(layers.BatchNormalization(name="bn"), name="td"),
            layers.Bidirectional(layers.LSTM(2, return_sequences=True, name="lstm"), name="bi"),
        ],
        name="backbone",
    )
    bn = backbone.layers[0].layer
    rng = np.random.default_rng(7)
    bn.set_weights(
        [
            rng.uniform(0.5, 1.5, 4).astype("float32"),
            rng.uniform(-0.5, 0.5, 4).astype("float32"),
            rng.uniform(-0.5, 0.5, 4).astype("float32"),
            rng.uniform(0.5, 2.0, 4).astype("float32"),
        ]
    )
    backbone.trainable = False
    return keras.Sequential(
        [keras.Input((3, 4)), backbone, layers.Flatten(name="flatten"), layers.Dense(1, name="head")],
        name="wrapped",
    )


def data():
    x = np.sin(np.arange(96, dtype="float32") * 0.41).reshape(8, 3, 4) * 2.0 + 1.0
    y = np.cos(np.arange(8, dtype="float32") * 0.5).reshape(8, 1)
    return x, y


def saved_flags(config):
    """The saved `trainable` of each backbone wrapper and of the layers it wraps, by name."""
    backbone = next(l for l in config["layers"] if l["config"]["name"] == "backbone")
    out = {}
    for layer in backbone["config"]["layers"]:
        c = layer["config"]
        if layer["class_name"] == "InputLayer":
            continue
        out[c["name"]] = c["trainable"]
        for key in ("layer", "backward_layer"):
            if key in c:
                out[f"{c['name']}/{key}"] = c[key]["config"]["trainable"]
    return out


def flat(a):
    return [float(v) for v in np.asarray(a).ravel()]


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    x, y = data()
    model = build()
    model.save(os.path.join(out_dir, "wrapped.keras"))
    flags = saved_flags(model.get_config())
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    after = model.get_weights()
    record = {
        "x": flat(x),
        "x_shape": list(x.shape),
        "y": flat(y),
        "y_shape": list(y.shape),
        "flags": flags,
        "weights_after": [flat(w) for w in after],
        "weight_shapes": [list(w.shape) for w in after],
        "predict_after": flat(model.predict(x, verbose=0)),
    }
    with open(os.path.join(out_dir, "wrapped.json"), "w") as f:
        json.dump(record, f)
    print(json.dumps(flags))


def check(fixture_dir, path, predictions):
    with open(os.path.join(fixture_dir, "wrapped.json")) as f:
        golden = json.load(f)
    with open(predictions) as f:
        expected = json.load(f)
    model = keras.saving.load_model(path)
    backbone = model.layers[0]
    wrapped = {
        "td/layer": backbone.layers[0].layer.trainable,
        "bi/layer": backbone.layers[1].forward_layer.trainable,
        "bi/backward_layer": backbone.layers[1].backward_layer.trainable,
    }
    if any(wrapped.values()) or backbone.trainable_weights:
        sys.exit(f"{path}: the wrapped layers load trainable: {wrapped}")
    x = np.array(golden["x"], dtype="float32").reshape(golden["x_shape"])
    y = model.predict(x, verbose=0)
    worst = float(np.max(np.abs(y.ravel() - np.array(expected["y"], dtype="float32"))))
    if worst > TOLERANCE:
        sys.exit(f"{path}: predictions differ by {worst}")
    print("wrapped ok")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif sys.argv[1] == "check":
        check(*sys.argv[2:5])
    else:
        sys.exit(__doc__)
