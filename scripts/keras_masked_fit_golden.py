"""Golden numbers for fit / evaluate / train_on_batch / test_on_batch on a sequence model whose output carries a
timestep mask (Keras 3): Input(ids) -> Embedding(mask_zero=True) -> LSTM(return_sequences=True) -> Dense, with
padded sequences (zeros before, after and inside), so that losses and metrics count the kept steps only.
Two cases: a softmax Dense with sparse_categorical_crossentropy and accuracy, a linear Dense with mse and mae.
Weights are seeded uniform values (set before compile), SGD, no shuffling, 3 epochs of batch 16 over 40 samples
(the last batch partial). Writes crates/engine/tests/fixtures/keras_masked_fit.json.

Run: .venv-keras-bench/bin/python scripts/keras_masked_fit_golden.py   (TensorFlow backend; MASKED_FIT_OUT=path
writes elsewhere). The TensorFlow backend is the reference: with JAX (3.15.1, JAX 0.10) the training step's
metrics lose the output's mask (fit's and train_on_batch's accuracy count padded steps too) while its loss,
evaluate and test_on_batch keep it, against Keras's own compile_utils / MeanMetricWrapper code.
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = pathlib.Path(os.environ.get("MASKED_FIT_OUT", ROOT / "crates/engine/tests/fixtures/keras_masked_fit.json"))
L = keras.layers
TIME, VOCAB = 7, 12


def padded_ids(rng, n):
    ids = rng.integers(1, VOCAB, size=(n, TIME)).astype(np.float32)
    for i in range(n):
        length = int(rng.integers(1, TIME + 1))
        if i % 3 == 0:
            ids[i, : TIME - length] = 0  # padding before
        else:
            ids[i, length:] = 0  # padding after
        if i % 5 == 1 and length > 2:
            ids[i, 1] = 0  # a hole inside
    ids[7] = 0  # a sample with nothing kept
    return ids


def build(case):
    inputs = keras.Input((TIME,))
    x = L.Embedding(VOCAB, 4, mask_zero=True)(inputs)
    x = L.LSTM(5, return_sequences=True)(x)
    if case == "sparse":
        out = L.Dense(3, activation="softmax")(x)
    else:
        out = L.Dense(2)(x)
    return keras.Model(inputs, out)


def run(case, rng):
    model = build(case)
    weights = [rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(weights)
    x = padded_ids(rng, 40)
    xt = padded_ids(rng, 16)
    if case == "sparse":
        y = rng.integers(0, 3, size=(40, TIME)).astype(np.float32)
        yt = rng.integers(0, 3, size=(16, TIME)).astype(np.float32)
        model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        y = rng.normal(size=(40, TIME, 2)).astype(np.float32)
        yt = rng.normal(size=(16, TIME, 2)).astype(np.float32)
        model.compile(keras.optimizers.SGD(0.1), "mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    fit_weights = [w.tolist() for w in model.get_weights()]
    evaluated = model.evaluate(xt, yt, batch_size=16, verbose=0, return_dict=True)
    tested = model.test_on_batch(x[:16], y[:16], return_dict=True)
    trained = model.train_on_batch(x[16:32], y[16:32], return_dict=True)
    return {
        "case": case,
        "initial_weights": [w.tolist() for w in weights],
        "weight_shapes": [list(w.shape) for w in weights],
        "x": x.tolist(), "y": y.tolist(), "x_test": xt.tolist(), "y_test": yt.tolist(),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "fit_weights": fit_weights,
        "evaluate": {k: float(v) for k, v in evaluated.items()},
        "test_on_batch": {k: float(v) for k, v in tested.items()},
        "train_on_batch": {k: float(v) for k, v in trained.items()},
        "final_weights": [w.tolist() for w in model.get_weights()],
    }


def main():
    rng = np.random.default_rng(20261203)
    cases = [run(case, rng) for case in ("sparse", "mse")]
    FIXTURE.write_text(json.dumps({"keras": keras.__version__, "backend": keras.backend.backend(), "cases": cases}))
    for c in cases:
        print(c["case"], c["history"], c["evaluate"], c["train_on_batch"])


if __name__ == "__main__":
    main()
