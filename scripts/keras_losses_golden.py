"""Golden numbers for every loss of rkeras's catalogue, from Keras 3 itself.

For each loss class, every argument combination that changes the formula and every reduction, with and without
sample weights: the class's serialised config (keras.losses.serialize), the inputs and Keras's value.
Writes crates/engine/tests/fixtures/keras_losses_golden.json.
Run: .venv-keras-bench/bin/python scripts/keras_losses_golden.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

rng = np.random.default_rng(17)
B, C = 4, 3
DEFAULTS = {"delta": 1.0, "axis": -1}


def probs(shape):
    x = rng.uniform(0.05, 0.95, size=shape).astype("float32")
    return x


def softmax_rows(shape):
    z = rng.normal(size=shape).astype("float32")
    e = np.exp(z - z.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def one_hot(shape):
    ids = rng.integers(0, shape[-1], size=shape[:-1])
    return np.eye(shape[-1], dtype="float32")[ids]


def case(loss, y_true, y_pred, weights=None):
    value = loss(y_true, y_pred, sample_weight=weights)
    value = np.asarray(value, dtype="float32")
    config = keras.losses.serialize(loss)
    # Keras's Huber and CosineSimilarity configs omit `delta` and `axis` (their from_config reads them back).
    for key in ("delta", "axis"):
        if isinstance(loss, (keras.losses.Huber, keras.losses.CosineSimilarity)) and loss._fn_kwargs.get(key, DEFAULTS[key]) != DEFAULTS[key]:
            config["config"][key] = loss._fn_kwargs[key]
    return {
        "config": config,
        "y_true": y_true.astype("float32").ravel().tolist(),
        "y_true_shape": list(y_true.shape),
        "y_pred": y_pred.astype("float32").ravel().tolist(),
        "y_pred_shape": list(y_pred.shape),
        "sample_weight": None if weights is None else weights.astype("float32").ravel().tolist(),
        "value": value.ravel().tolist(),
        "value_shape": list(value.shape),
    }


def main():
    L = keras.losses
    w = np.array([1.0, 0.0, 2.0, 0.5], dtype="float32")
    bin_t = rng.integers(0, 2, size=(B, C)).astype("float32")
    reg_t = rng.normal(size=(B, C)).astype("float32")
    reg_p = rng.normal(size=(B, C)).astype("float32")
    pos_t = rng.uniform(0.1, 3.0, size=(B, C)).astype("float32")
    pos_p = rng.uniform(0.1, 3.0, size=(B, C)).astype("float32")
    cases = []
    add = cases.append
    for ls in (0.0, 0.2):
        add(case(L.BinaryCrossentropy(label_smoothing=ls), bin_t, probs((B, C))))
        add(case(L.BinaryCrossentropy(from_logits=True, label_smoothing=ls), bin_t, rng.normal(size=(B, C)).astype("float32")))
        add(case(L.CategoricalCrossentropy(label_smoothing=ls), one_hot((B, C)), softmax_rows((B, C))))
        add(case(L.CategoricalCrossentropy(from_logits=True, label_smoothing=ls), one_hot((B, C)), rng.normal(size=(B, C)).astype("float32")))
    add(case(L.BinaryCrossentropy(axis=0), bin_t, probs((B, C))))
    add(case(L.CategoricalCrossentropy(axis=0), one_hot((C, B)).T.copy(), softmax_rows((C, B)).T.copy()))
    ids = rng.integers(0, C, size=(B,)).astype("float32")
    add(case(L.SparseCategoricalCrossentropy(), ids, softmax_rows((B, C))))
    add(case(L.SparseCategoricalCrossentropy(from_logits=True), ids, rng.normal(size=(B, C)).astype("float32")))
    ids_ignore = np.array([0, 2, 1, 2], dtype="float32")
    for red in ("sum_over_batch_size", "sum", "mean_with_sample_weight", None):
        add(case(L.SparseCategoricalCrossentropy(ignore_class=2, reduction=red), ids_ignore, softmax_rows((B, C))))
    add(case(L.SparseCategoricalCrossentropy(ignore_class=2), ids_ignore, softmax_rows((B, C)), w))
    seq_ids = np.array([[0, 1, 1], [2, 0, 1]], dtype="float32")
    add(case(L.SparseCategoricalCrossentropy(ignore_class=1), seq_ids, softmax_rows((2, 3, C))))
    for balance in (False, True):
        for gamma in (2.0, 0.5):
            add(case(L.BinaryFocalCrossentropy(apply_class_balancing=balance, gamma=gamma, alpha=0.3), bin_t, probs((B, C))))
    add(case(L.BinaryFocalCrossentropy(from_logits=True, label_smoothing=0.1), bin_t, rng.normal(size=(B, C)).astype("float32")))
    for gamma, alpha in ((2.0, 0.25), (1.0, 0.6)):
        add(case(L.CategoricalFocalCrossentropy(gamma=gamma, alpha=alpha), one_hot((B, C)), softmax_rows((B, C))))
    add(case(L.CategoricalFocalCrossentropy(from_logits=True, label_smoothing=0.1), one_hot((B, C)), rng.normal(size=(B, C)).astype("float32")))
    add(case(L.MeanSquaredError(), reg_t, reg_p))
    add(case(L.MeanAbsoluteError(), reg_t, reg_p))
    add(case(L.MeanAbsolutePercentageError(), reg_t, reg_p))
    add(case(L.MeanSquaredLogarithmicError(), pos_t, pos_p))
    for delta in (1.0, 0.3):
        add(case(L.Huber(delta=delta), reg_t, reg_p * 2))
    add(case(L.LogCosh(), reg_t, reg_p))
    add(case(L.KLDivergence(), softmax_rows((B, C)), softmax_rows((B, C))))
    add(case(L.Poisson(), pos_t, pos_p))
    add(case(L.Hinge(), bin_t, reg_p))
    add(case(L.Hinge(), np.sign(reg_t).astype("float32"), reg_p))
    add(case(L.SquaredHinge(), bin_t, reg_p))
    add(case(L.CategoricalHinge(), one_hot((B, C)), reg_p))
    add(case(L.CosineSimilarity(), reg_t, reg_p))
    add(case(L.CosineSimilarity(axis=0), reg_t, reg_p))
    # Every reduction, with and without weights, on two losses.
    for red in ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None):
        for weights in (None, w):
            add(case(L.MeanSquaredError(reduction=red), reg_t, reg_p, weights))
            add(case(L.CategoricalCrossentropy(reduction=red), one_hot((B, C)), softmax_rows((B, C)), weights))
    # Sequence values: [batch, steps] values, weights per sample.
    add(case(L.MeanAbsoluteError(), rng.normal(size=(2, 3, C)).astype("float32"), rng.normal(size=(2, 3, C)).astype("float32")))
    out = {"keras_version": keras.__version__, "cases": cases}
    path = os.path.join(os.path.dirname(__file__), "..", "crates", "engine", "tests", "fixtures", "keras_losses_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=None)
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
