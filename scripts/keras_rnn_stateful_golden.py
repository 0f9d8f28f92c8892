"""Golden outputs of Keras 3 stateful recurrent layers fed two consecutive batches, then reset, for rkeras's
stateful tests.

Writes crates/layers/tests/fixtures/keras_rnn_stateful_golden.json: for each case the layer config, its weights
(seeded uniform values), two batches and Keras's outputs on the first, on the second (starting from the states
the first left) and on the first again after `reset_states()`.

Run: .venv-keras/bin/python scripts/keras_rnn_stateful_golden.py   (JAX backend)
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/layers/tests/fixtures/keras_rnn_stateful_golden.json"

L = keras.layers
BATCH, TIME, FEATURES = 3, 4, 2

CASES = [
    ("lstm", lambda: L.LSTM(3, stateful=True)),
    ("lstm_sequences_backwards", lambda: L.LSTM(2, stateful=True, return_sequences=True, go_backwards=True)),
    ("gru_sequences", lambda: L.GRU(3, stateful=True, return_sequences=True)),
    ("gru_reset_before", lambda: L.GRU(2, stateful=True, reset_after=False)),
    ("simple_rnn", lambda: L.SimpleRNN(3, stateful=True)),
]


def tolist(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def golden_cases():
    rng = np.random.default_rng(20261203)
    cases = []
    for name, make in CASES:
        layer = make()
        layer.build((BATCH, TIME, FEATURES))
        for w in layer.weights:
            w.assign(rng.uniform(-0.7, 0.7, size=w.shape).astype(np.float32))
        x1 = rng.uniform(-1, 1, size=(BATCH, TIME, FEATURES)).astype(np.float32)
        x2 = rng.uniform(-1, 1, size=(BATCH, TIME, FEATURES)).astype(np.float32)
        first = np.asarray(layer(x1))
        second = np.asarray(layer(x2))
        layer.reset_states()
        again = np.asarray(layer(x1))
        assert np.allclose(first, again), name
        cases.append(
            {
                "name": name,
                "class_name": layer.__class__.__name__,
                "config": layer.get_config(),
                "weights": [tolist(w.numpy()) for w in layer.weights if w.trainable],
                "x1": tolist(x1),
                "x2": tolist(x2),
                "first": tolist(first),
                "second": tolist(second),
                "after_reset": tolist(again),
            }
        )
    return cases


def main():
    FIXTURE.write_text(json.dumps({"keras_version": keras.__version__, "cases": golden_cases()}, indent=1) + "\n")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
