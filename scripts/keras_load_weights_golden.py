"""What Keras 3.15's `model.load_weights` restores, ignores and refuses, for crates/engine/tests/load_weights_keras.rs.

A Sequential model (Dense(2, tanh), Dense(1) on 3 inputs) compiled with Adam is trained two steps and saved as
`trained.weights.h5`, `trained.keras` and a legacy `trained.h5`; `plain.weights.h5` is the same weights from an
uncompiled model (no optimizer), `three.weights.h5` / `three.h5` a model with a third Dense(1), `wide.weights.h5`
one whose first Dense has 3 units. Each case loads one file into one target and records the outcome (`ok` or
`error`), the target optimizer's iteration count afterwards (null when not compiled) and whether its predictions
are the trained model's. The targets: `trained` (compiled and trained one step on other data: its optimizer is
built), `compiled` (compiled, never trained), `plain` (not compiled), `three` and `wide`.

    KERAS_BACKEND=jax python scripts/keras_load_weights_golden.py crates/engine/tests/fixtures/keras3_load_weights
"""
import json
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
x = np.sin(np.arange(24, dtype="float32") * 0.7).reshape(8, 3)
y = np.cos(np.arange(8, dtype="float32")).reshape(8, 1)


def build(kind, seed=1):
    keras.utils.set_random_seed(seed)
    units = {"wide": [3, 1], "three": [2, 1, 1]}.get(kind, [2, 1])
    layers = [keras.layers.Dense(units[0], activation="tanh")] + [keras.layers.Dense(u) for u in units[1:]]
    model = keras.Sequential([keras.Input((3,))] + layers)
    if kind in ("trained", "compiled"):
        model.compile(keras.optimizers.Adam(0.01), "mse")
    if kind == "trained":
        model.fit(x[::-1], y[::-1], batch_size=8, epochs=1, verbose=0, shuffle=False)
    return model


source = build("trained", seed=3)
source.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
source.save_weights(os.path.join(out, "trained.weights.h5"))
source.save(os.path.join(out, "trained.keras"))
source.save(os.path.join(out, "trained.h5"))
plain = build("plain", seed=3)
plain.set_weights(source.get_weights())
plain.save_weights(os.path.join(out, "plain.weights.h5"))
build("three", seed=4).save_weights(os.path.join(out, "three.weights.h5"))
build("three", seed=4).save(os.path.join(out, "three.h5"))
build("wide", seed=5).save_weights(os.path.join(out, "wide.weights.h5"))
expected = source.predict(x, verbose=0)

cases = []
for target in ["trained", "compiled", "plain", "three", "wide"]:
    for file in ["trained.weights.h5", "trained.keras", "trained.h5", "plain.weights.h5", "three.weights.h5",
                 "three.h5", "wide.weights.h5"]:
        for by_name in [False, True]:
            if by_name and target not in ("trained", "three"):
                continue
            model = build(target)
            before = [w.copy() for w in model.get_weights()]
            kwargs = {"by_name": True} if by_name else {}
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    model.load_weights(os.path.join(out, file), **kwargs)
                    outcome = "ok"
                except ValueError:
                    outcome = "error"
            changed = any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
            same_prediction = bool(
                outcome == "ok" and target in ("trained", "compiled", "plain")
                and np.allclose(model.predict(x, verbose=0), expected, atol=1e-6)
            )
            skipped = any("Skipping variable loading for optimizer" in str(w.message) for w in caught)
            cases.append({
                "target": target,
                "file": file,
                "by_name": by_name,
                "outcome": outcome,
                "weights_changed": changed,
                "predicts_as_trained": same_prediction,
                "optimizer_skipped": skipped,
                "iterations": int(model.optimizer.iterations) if getattr(model, "optimizer", None) is not None else None,
            })
with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump({"x": x.tolist(), "expected": expected.tolist(),
               "optimizer_vars": [np.asarray(v).reshape(-1).tolist() for v in source.optimizer.variables],
               "cases": cases}, f, indent=1)
print(len(cases), "cases")
