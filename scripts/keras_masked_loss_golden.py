"""Keras 3's losses on a y_pred carrying a timestep mask (Keras's `_keras_mask`), for rkeras's masked-loss test.

Writes crates/engine/tests/fixtures/keras_masked_loss.json: for each case the loss name, reduction, y_true,
y_pred, mask, optional sample weights and Keras's value.

Run: .venv-keras/bin/python scripts/keras_masked_loss_golden.py   (JAX backend)
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src import backend  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/engine/tests/fixtures/keras_masked_loss.json"


def arr(a):
    a = np.asarray(a, dtype=np.float32)
    return dict(shape=list(a.shape), values=a.ravel().tolist())


def main():
    rng = np.random.default_rng(7)
    mask = np.array([[1, 1, 0, 0], [0, 1, 1, 1], [1, 0, 1, 0]], dtype=bool)
    logits = rng.normal(size=(3, 4, 5)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = rng.integers(0, 5, size=(3, 4)).astype(np.float32)
    reg_true = rng.normal(size=(3, 4, 2)).astype(np.float32)
    reg_pred = rng.normal(size=(3, 4, 2)).astype(np.float32)
    weights = rng.uniform(0.5, 2.0, size=(3, 4)).astype(np.float32)
    cases = []
    for name, y_true, y_pred in [
        ("sparse_categorical_crossentropy", labels, probs),
        ("mean_squared_error", reg_true, reg_pred),
        ("mean_absolute_error", reg_true, reg_pred),
    ]:
        for reduction in ["sum_over_batch_size", "sum", "mean_with_sample_weight"]:
            for sw in [None, weights]:
                cls = {
                    "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
                    "mean_squared_error": keras.losses.MeanSquaredError,
                    "mean_absolute_error": keras.losses.MeanAbsoluteError,
                }[name]
                loss = cls(reduction=reduction)
                yp = keras.ops.convert_to_tensor(y_pred)
                backend.set_keras_mask(yp, keras.ops.convert_to_tensor(mask))
                value = float(loss(y_true, yp, sample_weight=sw))
                cases.append(
                    dict(
                        loss=name,
                        reduction=reduction,
                        y_true=arr(y_true),
                        y_pred=arr(y_pred),
                        mask=arr(mask),
                        sample_weight=None if sw is None else arr(sw),
                        value=value,
                    )
                )
    FIXTURE.write_text(json.dumps(dict(keras_version=keras.__version__, cases=cases), indent=1) + "\n")
    print(f"wrote {FIXTURE} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
