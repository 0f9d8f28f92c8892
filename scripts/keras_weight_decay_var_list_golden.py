"""Golden weights for `exclude_from_weight_decay(var_list=..., var_names=...)` (crates/engine/tests/
weight_decay_exclusion.rs): Dense(2, name="d1") -> Dense(1, name="d2") with fixed weights, AdamW(learning_rate=0.1,
weight_decay=0.1), one epoch of two batches of 4 without shuffling, for each exclusion case; writes the data, the
initial weights and each case's trained weights to OUT.

    KERAS_BACKEND=jax python scripts/keras_weight_decay_var_list_golden.py OUT.json
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

rng = np.random.RandomState(3)
X = rng.uniform(-1, 1, size=(8, 3)).astype("float32")
Y = rng.uniform(-1, 1, size=(8, 1)).astype("float32")
INITIAL = [
    rng.uniform(-1, 1, size=(3, 2)).astype("float32"),
    np.array([0.5, -0.5], "float32"),
    rng.uniform(-1, 1, size=(2, 1)).astype("float32"),
    np.array([0.8], "float32"),
]


def train(case):
    inputs = keras.Input((3,))
    d1 = keras.layers.Dense(2, activation="tanh", name="d1")
    d2 = keras.layers.Dense(1, name="d2")
    model = keras.Model(inputs, d2(d1(inputs)))
    model.set_weights(INITIAL)
    opt = keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.1)
    if case == "var_list":
        opt.exclude_from_weight_decay(var_list=[d1.kernel])
    elif case == "var_list_and_names":
        opt.exclude_from_weight_decay(var_list=[d2.kernel], var_names=["bias"])
    model.compile(opt, "mse")
    model.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    return [w.reshape(-1).tolist() for w in model.get_weights()]


golden = {
    "x": X.reshape(-1).tolist(),
    "y": Y.reshape(-1).tolist(),
    "initial": [w.reshape(-1).tolist() for w in INITIAL],
    "cases": {c: train(c) for c in ["none", "var_list", "var_list_and_names"]},
}
with open(sys.argv[1], "w") as f:
    json.dump(golden, f, indent=1)
print("wrote", sys.argv[1])
