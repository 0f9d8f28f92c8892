"""Golden numbers for train_on_batch / test_on_batch / predict_on_batch (Keras 3, return_dict=True).

A Dense(3, softmax) classifier with fixed weights, SGD(0.1), sparse categorical crossentropy and accuracy:
two train_on_batch calls (the second with sample weights), then test_on_batch and predict_on_batch.
Writes crates/engine/tests/fixtures/keras_on_batch.json. Run: .venv-keras-bench/bin/python scripts/keras_on_batch_golden.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402


def main():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    kernel = np.array([[0.1, -0.2, 0.3], [0.4, 0.05, -0.1]], dtype="float32")
    bias = np.array([0.01, -0.02, 0.0], dtype="float32")
    model.set_weights([kernel, bias])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, -0.5]], dtype="float32")
    y = np.array([1, 0, 2, 2], dtype="float32")
    w = np.array([1.0, 0.0, 2.0, 0.5], dtype="float32")
    first = model.train_on_batch(x, y, return_dict=True)
    second = model.train_on_batch(x, y, sample_weight=w, return_dict=True)
    test = model.test_on_batch(x, y, return_dict=True)
    test_weighted = model.test_on_batch(x, y, sample_weight=w, return_dict=True)
    predicted = model.predict_on_batch(x)
    out = {
        "keras_version": keras.__version__,
        "kernel": kernel.tolist(), "bias": bias.tolist(), "x": x.tolist(), "y": y.tolist(),
        "sample_weight": w.tolist(),
        "train_on_batch": [{k: float(v) for k, v in first.items()}, {k: float(v) for k, v in second.items()}],
        "weights_after": [a.tolist() for a in model.get_weights()],
        "test_on_batch": {k: float(v) for k, v in test.items()},
        "test_on_batch_weighted": {k: float(v) for k, v in test_weighted.items()},
        "predict_on_batch": predicted.tolist(),
    }
    path = os.path.join(os.path.dirname(__file__), "..", "crates", "engine", "tests", "fixtures", "keras_on_batch.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
