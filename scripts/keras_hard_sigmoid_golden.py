"""Golden numbers for rkeras's two hard sigmoids, produced by Keras 3 itself.

Keras 3 defines `hard_sigmoid(x) = relu6(x + 3) / 6`; Keras 1/2 defined it as `clip(0.2 x + 0.5, 0, 1)`, which
Keras 3 still ships as `keras.src.legacy.backend.hard_sigmoid`. For each form this writes the activation on a
grid of points (the kinks included), a Dense layer using it, and an LSTM using it as `recurrent_activation`,
with the layers' weights, to crates/layers/tests/fixtures/hard_sigmoid.json. It also saves a Keras 3 model with
a hard_sigmoid Dense and an LSTM with hard_sigmoid gates (crates/engine/tests/fixtures/hard_sigmoid_keras3.h5),
and a copy whose root `keras_version` says 2.15.0 (hard_sigmoid_keras2.h5), whose outputs under Keras 2's
formula are computed here with the legacy function.

    .venv-keras-bench/bin/python scripts/keras_hard_sigmoid_golden.py
"""

import json
import os
import shutil

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import h5py
import keras
import numpy as np
from keras.src.legacy.backend import hard_sigmoid as keras2_hard_sigmoid

ROOT = os.path.join(os.path.dirname(__file__), "..")
LAYERS = os.path.join(ROOT, "crates/layers/tests/fixtures")
ENGINE = os.path.join(ROOT, "crates/engine/tests/fixtures")

FORMS = {"keras3": "hard_sigmoid", "keras2": keras2_hard_sigmoid}


def as_list(a):
    return np.asarray(a, dtype=np.float32).tolist()


def model(form):
    keras.utils.set_random_seed(7)
    x = keras.Input((3, 4), name="x")
    seq = keras.layers.LSTM(
        5, recurrent_activation=FORMS[form], return_sequences=True, name="lstm"
    )(x)
    # Larger weights than glorot's so that the pre-activations cross both kinks.
    y = keras.layers.Dense(6, activation=FORMS[form], name="dense")(seq)
    m = keras.Model(x, y, name="hard_sigmoid_model")
    rng = np.random.default_rng(3)
    m.set_weights([rng.uniform(-2.0, 2.0, w.shape).astype("float32") for w in m.get_weights()])
    return m


def main():
    grid = np.array(
        [-4.0, -3.0, -2.9, -2.5, -2.4, -1.0, -0.3, 0.0, 0.3, 1.0, 2.4, 2.5, 2.9, 3.0, 4.0],
        dtype=np.float32,
    )
    rng = np.random.default_rng(11)
    inputs = rng.uniform(-2.0, 2.0, (4, 3, 4)).astype("float32")
    golden = {
        "keras_version": keras.__version__,
        "grid": as_list(grid),
        "inputs": as_list(inputs),
        "keras3": as_list(keras.activations.hard_sigmoid(grid)),
        "keras2": as_list(keras2_hard_sigmoid(keras.ops.convert_to_tensor(grid))),
    }
    for form in FORMS:
        m = model(form)
        golden[f"{form}_weights"] = [as_list(w) for w in m.get_weights()]
        golden[f"{form}_outputs"] = as_list(m.predict(inputs, verbose=0))
    with open(os.path.join(LAYERS, "hard_sigmoid.json"), "w") as f:
        json.dump(golden, f)
    keras3 = os.path.join(ENGINE, "hard_sigmoid_keras3.h5")
    model("keras3").save(keras3)
    keras2 = os.path.join(ENGINE, "hard_sigmoid_keras2.h5")
    shutil.copy(keras3, keras2)
    with h5py.File(keras2, "r+") as f:
        f.attrs["keras_version"] = "2.15.0"


if __name__ == "__main__":
    main()
