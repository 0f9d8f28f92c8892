"""Golden numbers for rkeras's row gradients (IndexedSlices): Keras 3's optimizers on an embedding-like table
whose gradient holds one row per lookup, with a repeated id.

On the TensorFlow backend the gradient is a `tf.IndexedSlices` (ids [2, 0, 2, 2], one value row per lookup);
on the JAX backend the same lookups give the dense, summed gradient. Two steps each, from the same table.
Records the table after each step and the slots after the last one.

Usage (writes crates/optim/tests/fixtures/keras_indexed_slices.json; runs itself once per backend):
    .venv-keras-bench/bin/python scripts/keras_indexed_slices.py
"""

import json
import os
import subprocess
import sys

TABLE = [[1.0, -2.0], [0.5, 0.25], [-1.0, 3.0], [2.0, -0.5], [0.0, 1.5]]
IDS = [2, 0, 2, 2]
STEPS = [
    [[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5], [0.125, 0.5]],
    [[-1.0, 0.5], [0.25, -2.0], [1.5, 0.75], [-0.5, -0.25]],
]
OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.1}),
    "sgd_momentum": ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.01}),
    "rmsprop_centered_momentum": ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "adam_amsgrad": ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    "adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}),
}


def run(backend):
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    out = {}
    for key, (cls, kwargs) in OPTIMIZERS.items():
        table = keras.Variable(np.array(TABLE, "float32"))
        opt = getattr(keras.optimizers, cls)(**kwargs)
        weights = []
        for values in STEPS:
            values = np.array(values, "float32")
            if backend == "tensorflow":
                import tensorflow as tf

                grad = tf.IndexedSlices(
                    tf.constant(values), tf.constant(IDS, tf.int64), tf.constant([5, 2], tf.int64)
                )
            else:
                dense = np.zeros((5, 2), "float32")
                for i, row in zip(IDS, values):
                    dense[i] += row
                grad = keras.ops.convert_to_tensor(dense)
            opt.apply_gradients([(grad, table)])
            weights.append(np.asarray(table).tolist())
        prefix = table.path.replace("/", "_") + "_"
        slots = {v.path.split("/")[-1].removeprefix(prefix): np.asarray(v).tolist() for v in opt.variables[2:]}
        out[key] = {"class": cls, "config": kwargs, "weights": weights, "slots": slots}
    return out


if __name__ == "__main__":
    if len(sys.argv) == 2:
        print(json.dumps(run(sys.argv[1])))
        sys.exit(0)
    result = {"table": TABLE, "ids": IDS, "steps": STEPS}
    for backend in ["tensorflow", "jax"]:
        proc = subprocess.run(
            [sys.executable, __file__, backend], check=True, capture_output=True, text=True
        )
        result[backend] = json.loads(proc.stdout.strip().splitlines()[-1])
    path = os.path.join(
        os.path.dirname(__file__), "..", "crates", "optim", "tests", "fixtures", "keras_indexed_slices.json"
    )
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(path))
