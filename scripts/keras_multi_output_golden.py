"""Golden numbers and files for a model with two outputs (Keras 3, JAX backend unless KERAS_BACKEND says otherwise).

A model x(3) -> Dense(4, tanh, "hidden") -> {Dense(2, softmax, "cls"), Dense(1, "reg")} with fixed weights:
1. SGD(0.1), loss by output name (sparse categorical crossentropy, mse), loss_weights {cls: 1, reg: 0.5}, metrics
   {cls: [accuracy], reg: [mae]}: one epoch of fit (batch 4, no shuffle, validation_data), then evaluate.
2. Adam(0.01), losses by position, loss_weights [1, 0.5], metrics [[accuracy], [mae]]: one epoch of fit, saved
   compiled as keras_multi_output.keras and keras_multi_output.h5; then one more epoch ("continued").
Writes crates/engine/tests/fixtures/keras_multi_output.json and the two files.
Run: .venv-keras-bench/bin/python scripts/keras_multi_output_golden.py

`... check <file> <fixture json>` loads an rkeras-written compiled file (after rkeras's first Adam epoch), checks
that Keras sees it compiled with the same loss, loss_weights and metrics, trains the second epoch and compares
the history with the fixture's "continued" one; prints "multi output ok".
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "crates", "engine", "tests", "fixtures")


def data():
    rng = np.random.RandomState(0)
    x = rng.randn(12, 3).astype("float32")
    cls = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0], "float32")
    reg = rng.randn(12, 1).astype("float32")
    return x, cls, reg


def initial_weights():
    rng = np.random.RandomState(7)
    shapes = [(3, 4), (4,), (4, 2), (2,), (4, 1), (1,)]
    return [(rng.uniform(-0.5, 0.5, s)).astype("float32") for s in shapes]


def build():
    x = keras.Input((3,), name="x")
    h = keras.layers.Dense(4, activation="tanh", name="hidden")(x)
    a = keras.layers.Dense(2, activation="softmax", name="cls")(h)
    b = keras.layers.Dense(1, name="reg")(h)
    model = keras.Model(x, [a, b])
    model.set_weights(initial_weights())
    return model


def history_dict(history):
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}


def log_order(model, x, y):
    """The order of Keras's logs: that of `evaluate`'s list (a dict comes back sorted on JAX), matched by value."""
    values = model.evaluate(x, y, batch_size=4, verbose=0)
    named = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    order = [next(k for k, v in named.items() if abs(float(v) - float(value)) < 1e-9) for value in values]
    assert sorted(order) == sorted(named), (order, named)
    return order


def compile_adam(model):
    model.compile(
        keras.optimizers.Adam(0.01),
        loss=["sparse_categorical_crossentropy", "mean_squared_error"],
        loss_weights=[1.0, 0.5],
        metrics=[["accuracy"], ["mae"]],
    )


def generate():
    x, cls, reg = data()
    train, val = slice(0, 8), slice(8, 12)
    model = build()
    model.compile(
        keras.optimizers.SGD(0.1),
        loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"], "reg": ["mae"]},
    )
    history = model.fit(x[train], [cls[train], reg[train]], batch_size=4, epochs=1, shuffle=False, verbose=0,
                        validation_data=(x[val], [cls[val], reg[val]]))
    evaluated = model.evaluate(x, [cls, reg], batch_size=4, verbose=0, return_dict=True)
    sgd = {
        "history": history_dict(history),
        "history_order": log_order(model, x, [cls, reg]),
        "evaluate": {k: float(v) for k, v in evaluated.items()},
        "weights_after": [w.tolist() for w in model.get_weights()],
    }
    model = build()
    compile_adam(model)
    first = model.fit(x[train], [cls[train], reg[train]], batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(os.path.join(FIXTURES, "keras_multi_output.keras"))
    model.save(os.path.join(FIXTURES, "keras_multi_output.h5"))
    continued = model.fit(x[train], [cls[train], reg[train]], batch_size=4, epochs=1, shuffle=False, verbose=0)
    out = {
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "x": x.tolist(), "cls": cls.tolist(), "reg": reg.tolist(),
        "initial_weights": [w.tolist() for w in initial_weights()],
        "sgd": sgd,
        "adam_first": history_dict(first),
        "continued": {"history": history_dict(continued), "weights_after": [w.tolist() for w in model.get_weights()]},
    }
    with open(os.path.join(FIXTURES, "keras_multi_output.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", json.dumps(sgd["history"]))


def check(path, fixture):
    with open(fixture) as f:
        golden = json.load(f)
    x = np.array(golden["x"], "float32")
    cls = np.array(golden["cls"], "float32")
    reg = np.array(golden["reg"], "float32").reshape(-1, 1)
    model = keras.models.load_model(path)
    assert model.compiled, "not compiled"
    config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    assert model.optimizer.__class__.__name__ == "Adam", model.optimizer
    assert int(model.optimizer.iterations) == 2, int(model.optimizer.iterations)
    history = model.fit(x[:8], [cls[:8], reg[:8]], batch_size=4, epochs=1, shuffle=False, verbose=0)
    got = history_dict(history)
    want = golden["continued"]["history"]
    assert sorted(got) == sorted(want), (sorted(got), sorted(want), config)
    for key, values in want.items():
        assert abs(got[key][0] - values[0]) < 1e-4, (key, got[key], values)
    for w, expected in zip(model.get_weights(), golden["continued"]["weights_after"]):
        assert np.allclose(w, np.array(expected), atol=1e-4), (w, expected)
    print("multi output ok")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        generate()
