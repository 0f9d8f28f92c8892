"""Keras's side of crates/engine/tests/schedule_files.rs: Keras loads the .keras file rkeras saved of a model
compiled with Nadam and a learning-rate schedule after two training steps, must find the optimizer Keras builds
from the same arguments (same class, config and schedule config) with rkeras's step count, and one further
`train_on_batch` must give rkeras's weights after its own further step within 1e-5.

    KERAS_BACKEND=jax python scripts/keras_schedule_files_golden.py check CASE MODEL.keras CASE.json

CASE.json (written by the test): `x` (4×2) and `y` (4×1) flattened, and `weights` (each weight after rkeras's third step, flattened).
Prints `keras schedule file ok`.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

S = keras.optimizers.schedules
# The schedules of the test, with the same arguments.
SCHEDULES = {
    "exponential_decay": lambda: S.ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5, staircase=True),
    "cosine_decay": lambda: S.CosineDecay(0.01, decay_steps=10, alpha=0.1, warmup_target=0.02, warmup_steps=2),
    "piecewise_constant_decay": lambda: S.PiecewiseConstantDecay(boundaries=[1], values=[0.02, 0.005]),
}


def check(case, path, data_path):
    with open(data_path) as f:
        data = json.load(f)
    model = keras.models.load_model(path)
    assert model.compiled, "not compiled"
    got = keras.optimizers.serialize(model.optimizer)
    want = keras.optimizers.serialize(keras.optimizers.Nadam(learning_rate=SCHEDULES[case]()))
    assert got == want, f"optimizer config\nKeras read {got}\nexpected   {want}"
    assert int(model.optimizer.iterations) == 2, int(model.optimizer.iterations)
    x = np.array(data["x"], "float32").reshape(4, 2)
    y = np.array(data["y"], "float32").reshape(4, 1)
    model.train_on_batch(x, y)
    for i, (w, want) in enumerate(zip(model.get_weights(), data["weights"])):
        got = np.asarray(w, "float32").reshape(-1)
        want = np.asarray(want, "float32")
        assert got.shape == want.shape and np.allclose(got, want, atol=1e-5, rtol=0), (i, got, want)
    print("keras schedule file ok")


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "check":
        sys.exit(__doc__)
    check(*sys.argv[2:])
