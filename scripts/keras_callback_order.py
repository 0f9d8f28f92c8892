"""Records the order in which Keras 3 calls each callback hook in fit (with validation), evaluate and predict.

Writes crates/engine/tests/fixtures/keras_callback_order.json, which crates/engine/tests/callback_order.rs
compares with rkeras's order. Run: .venv-keras-bench/bin/python scripts/keras_callback_order.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

HOOKS = [
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
]


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def set_params(self, params):
        self.events.append(["set_params", None])
        super().set_params(params)


def hook(name):
    def record(self, *args, **kwargs):
        index = args[0] if args and isinstance(args[0], int) else None
        self.events.append([name, index])

    return record


for name in HOOKS:
    setattr(Recorder, name, hook(name))


def main():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.arange(10, dtype="float32").reshape(5, 2) / 10
    y = np.array([0, 1, 2, 0, 1], dtype="float32")
    runs = {}
    rec = Recorder()
    model.fit(x, y, batch_size=2, epochs=2, validation_data=(x[:3], y[:3]), verbose=0, callbacks=[rec])
    runs["fit"] = rec.events
    rec = Recorder()
    model.evaluate(x, y, batch_size=2, verbose=0, callbacks=[rec])
    runs["evaluate"] = rec.events
    rec = Recorder()
    model.predict(x, batch_size=2, verbose=0, callbacks=[rec])
    runs["predict"] = rec.events
    out = os.path.join(os.path.dirname(__file__), "..", "crates", "engine", "tests", "fixtures",
                       "keras_callback_order.json")
    with open(out, "w") as f:
        json.dump({"keras_version": keras.__version__, "batch_size": 2, "samples": 5,
                   "validation_samples": 3, "epochs": 2, "runs": runs}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
