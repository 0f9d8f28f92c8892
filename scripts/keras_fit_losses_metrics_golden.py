"""Golden numbers for fit with a loss object and stateful metrics (Keras 3): a Dense(1, sigmoid) model with fixed
weights, SGD(0.5), BinaryFocalCrossentropy(gamma=1.5, label_smoothing=0.1, reduction="sum"), metrics accuracy,
auc, precision and mae; two epochs of batch 4 without shuffling, validation data, then the history and weights.
Writes crates/engine/tests/fixtures/keras_fit_losses_metrics.json.
Run: .venv-keras-bench/bin/python scripts/keras_fit_losses_metrics_golden.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402


def main():
    rng = np.random.default_rng(5)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[0.3], [-0.5]], "float32"), np.array([0.1], "float32")])
    loss = keras.losses.BinaryFocalCrossentropy(gamma=1.5, label_smoothing=0.1, reduction="sum")
    model.compile(keras.optimizers.SGD(0.5), loss, metrics=["accuracy", "auc", "precision", "mae"])
    x = rng.normal(size=(10, 2)).astype("float32")
    y = (rng.uniform(size=(10, 1)) > 0.5).astype("float32")
    xv = rng.normal(size=(6, 2)).astype("float32")
    yv = (rng.uniform(size=(6, 1)) > 0.5).astype("float32")
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, validation_data=(xv, yv), verbose=0)
    out = {
        "loss_config": keras.losses.serialize(loss),
        "x": x.tolist(), "y": y.tolist(), "x_val": xv.tolist(), "y_val": yv.tolist(),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "weights": [w.ravel().tolist() for w in model.get_weights()],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "crates", "engine", "tests", "fixtures", "keras_fit_losses_metrics.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(sorted(out["history"]))


if __name__ == "__main__":
    main()
