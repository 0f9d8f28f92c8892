"""Golden files for a frozen model used as a layer, made by Keras 3.15.

    KERAS_BACKEND=jax python scripts/keras_frozen_nested_golden.py generate crates/engine/tests/fixtures/frozen_nested
        for each case of CASES builds `Sequential([backbone, Dense(2, name="head")])` where backbone is
        `Sequential([Dense(5, tanh), BatchNormalization, Dense(3), BatchNormalization])` with set, non-initial
        moving statistics, and
        - `frozen`: `backbone.trainable = False` (every inner layer frozen, both BatchNormalizations in inference
          mode during fit),
        - `partial`: only the first Dense and the first BatchNormalization frozen (the second one trains and
          updates its moving statistics),
        saves it uncompiled as NAME.keras and NAME.h5 (legacy HDF5), then compiles it (SGD 0.1, mse), fits one
        epoch (batch 4, no shuffling) and writes NAME.json: `x`, `y` (targets), `predict_before` (inference),
        the trainable flags of the backbone and each inner layer as Keras reports them after loading NAME.keras,
        the counts of trainable and non-trainable weights and parameters, and `weights_after` (get_weights after
        the epoch) and `predict_after`.
    python scripts/keras_frozen_nested_golden.py check FIXTURE_DIR NAME RKERAS_FILE PREDICTIONS.json
        loads a `.keras` or legacy `.h5` file rkeras wrote, checks the trainable flags and counts against NAME.json
        and its predictions on `x` against PREDICTIONS.json's `y` (1e-5). Prints `frozen ok`.
"""

import json
import os
import sys

import keras
import numpy as np
from keras import layers

TOLERANCE = 1e-5
CASES = ("frozen", "partial")


def build(case):
    keras.utils.set_random_seed(11)
    backbone = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(5, activation="tanh", name="d1"),
            layers.BatchNormalization(name="bn1"),
            layers.Dense(3, name="d2"),
            layers.BatchNormalization(name="bn2"),
        ],
        name="backbone",
    )
    rng = np.random.default_rng(5)
    for bn in (backbone.layers[1], backbone.layers[3]):
        size = bn.gamma.shape[0]
        bn.set_weights(
            [
                rng.uniform(0.5, 1.5, size).astype("float32"),
                rng.uniform(-0.5, 0.5, size).astype("float32"),
                rng.uniform(-0.5, 0.5, size).astype("float32"),
                rng.uniform(0.5, 2.0, size).astype("float32"),
            ]
        )
    if case == "frozen":
        backbone.trainable = False
    else:
        backbone.layers[0].trainable = False
        backbone.layers[1].trainable = False
    model = keras.Sequential([keras.Input((4,)), backbone, layers.Dense(2, name="head")], name=case)
    return model


def data():
    x = np.sin(np.arange(32, dtype="float32") * 0.37).reshape(8, 4)
    y = np.cos(np.arange(16, dtype="float32") * 0.5).reshape(8, 2)
    return x, y


def flags(model):
    backbone = model.layers[0]
    return {
        "backbone": bool(backbone.trainable),
        "inner": {layer.name: bool(layer.trainable) for layer in backbone.layers},
        "trainable_weights": len(model.trainable_weights),
        "non_trainable_weights": len(model.non_trainable_weights),
        "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "non_trainable_params": int(sum(np.prod(w.shape) for w in model.non_trainable_weights)),
    }


def flat(a):
    return [float(v) for v in np.asarray(a).ravel()]


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    x, y = data()
    for case in CASES:
        model = build(case)
        keras_path = os.path.join(out_dir, f"{case}.keras")
        model.save(keras_path)
        model.save(os.path.join(out_dir, f"{case}.h5"))
        before = model.predict(x, verbose=0)
        built_flags = flags(model)
        loaded_flags = {
            "keras": flags(keras.saving.load_model(keras_path)),
            "h5": flags(keras.saving.load_model(os.path.join(out_dir, f"{case}.h5"))),
        }
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        after = model.get_weights()
        record = {
            "x": flat(x),
            "x_shape": list(x.shape),
            "y": flat(y),
            "y_shape": list(y.shape),
            "predict_before": flat(before),
            "flags": built_flags,
            "loaded_flags": loaded_flags,
            "weights_after": [flat(w) for w in after],
            "weight_shapes": [list(w.shape) for w in after],
            "predict_after": flat(model.predict(x, verbose=0)),
        }
        with open(os.path.join(out_dir, f"{case}.json"), "w") as f:
            json.dump(record, f)
        print(case, json.dumps(built_flags), json.dumps(loaded_flags))


def check(fixture_dir, name, path, predictions):
    with open(os.path.join(fixture_dir, f"{name}.json")) as f:
        golden = json.load(f)
    with open(predictions) as f:
        expected = json.load(f)
    model = keras.saving.load_model(path)
    kind = "h5" if path.endswith(".h5") else "keras"
    got = flags(model)
    want = golden["loaded_flags"][kind]
    if got != want:
        sys.exit(f"{path}: flags {got}, Keras's own file loads with {want}")
    x = np.array(golden["x"], dtype="float32").reshape(golden["x_shape"])
    y = model.predict(x, verbose=0)
    worst = float(np.max(np.abs(y.ravel() - np.array(expected["y"], dtype="float32"))))
    if worst > TOLERANCE:
        sys.exit(f"{path}: predictions differ by {worst}")
    print("frozen ok")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif sys.argv[1] == "check":
        check(*sys.argv[2:6])
    else:
        sys.exit(__doc__)
