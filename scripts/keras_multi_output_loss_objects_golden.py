"""Golden numbers for a two-output model compiled with loss objects from the catalogue and stateful metrics per
output (Keras 3, JAX backend unless KERAS_BACKEND says otherwise).

The model and data of keras_multi_output_golden.py (x(3) -> Dense(4, tanh) -> {Dense(2, softmax, "cls"),
Dense(1, "reg")}); SGD(0.1), loss {cls: SparseCategoricalCrossentropy(reduction="sum"), reg: Huber(delta=0.5)},
loss_weights {cls: 1, reg: 0.5}, metrics {cls: [accuracy], reg: [mae, root_mean_squared_error]}, sample weights;
one epoch of fit (batch 3, no shuffle, validation_data), then evaluate. Also the compile config Keras writes.
Writes crates/engine/tests/fixtures/keras_multi_output_loss_objects.json.
Run: .venv-keras-bench/bin/python scripts/keras_multi_output_loss_objects_golden.py
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras_multi_output_golden import FIXTURES, build, data, history_dict  # noqa: E402


def main():
    x, cls, reg = data()
    weights = np.array([1.0, 0.5, 2.0, 1.0, 0.0, 1.5, 1.0, 0.25, 1, 1, 1, 1], "float32")
    train, val = slice(0, 9), slice(9, 12)
    model = build()
    model.compile(
        keras.optimizers.SGD(0.1),
        loss={
            "cls": keras.losses.SparseCategoricalCrossentropy(reduction="sum"),
            "reg": keras.losses.Huber(delta=0.5),
        },
        loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"], "reg": ["mae", "root_mean_squared_error"]},
    )
    history = model.fit(x[train], [cls[train], reg[train]], sample_weight=weights[train], batch_size=3, epochs=1,
                        shuffle=False, verbose=0, validation_data=(x[val], [cls[val], reg[val]]))
    evaluated = model.evaluate(x, [cls, reg], batch_size=4, verbose=0, return_dict=True)
    out = {
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "sample_weight": weights.tolist(),
        "history": history_dict(history),
        "evaluate": {k: float(v) for k, v in evaluated.items()},
        "weights_after": [w.tolist() for w in model.get_weights()],
        "compile_loss": keras.saving.serialize_keras_object(model.get_compile_config()["loss"]),
    }
    with open(os.path.join(FIXTURES, "keras_multi_output_loss_objects.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", json.dumps(out["history"]), json.dumps(out["compile_loss"]))


if __name__ == "__main__":
    main()
