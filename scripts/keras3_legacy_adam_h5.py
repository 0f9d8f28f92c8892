"""Writes a Keras 3 legacy `.h5` with Adam's state for crates/engine/tests/legacy_optimizer_order.rs.

Two bias-free Dense layers of the same kernel shape, so that a loader pairing slots by position (slot by slot)
would swap arrays of equal shape silently: Keras 3.15 writes a parameter's momentum and velocity together.

    KERAS_BACKEND=jax python scripts/keras3_legacy_adam_h5.py crates/engine/tests/fixtures/keras3_legacy_adam
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

out = sys.argv[1]
keras.utils.set_random_seed(1)
model = keras.Sequential(
    [keras.Input((2,)), keras.layers.Dense(2, use_bias=False), keras.layers.Dense(2, use_bias=False)]
)
model.compile("adam", "mse")
x = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]], dtype="float32")
y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], dtype="float32")
model.fit(x, y, batch_size=3, epochs=2, verbose=0)
model.save(os.path.join(out, "adam.h5"))
with h5py.File(os.path.join(out, "adam.h5")) as f:
    names = [n.decode() if isinstance(n, bytes) else n for n in f["optimizer_weights"].attrs["weight_names"]]
# Slots of each parameter, in the model's parameter order, from the optimizer itself.
expected = {"weight_names": names, "momentum": [], "velocity": []}
for v, m, s in zip(model.trainable_variables, model.optimizer._momentums, model.optimizer._velocities):
    expected["momentum"].append(np.asarray(m).reshape(-1).tolist())
    expected["velocity"].append(np.asarray(s).reshape(-1).tolist())
expected["iterations"] = int(model.optimizer.iterations)
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
