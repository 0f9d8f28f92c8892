"""Golden outputs of Keras 3 recurrent layers with `dropout` / `recurrent_dropout`, for rkeras's dropout tests.

Writes crates/layers/tests/fixtures/keras_rnn_dropout_golden.json: for each case the layer config (as Keras's
get_config gives it), its weights (seeded uniform values), an input batch, an optional timestep mask, the output
at inference (dropout off) and the output in training with fixed dropout masks injected into the cell (Keras
caches them in `_dropout_mask` / `_recurrent_dropout_mask` and reuses them at every step; with
`recurrent_dropout > 0` LSTM and GRU switch to implementation 1, which takes one mask per gate, else one mask
shared by the gates).

Run: .venv-keras/bin/python scripts/keras_rnn_dropout_golden.py   (JAX backend)
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/layers/tests/fixtures/keras_rnn_dropout_golden.json"

L = keras.layers
BATCH, TIME, FEATURES = 3, 5, 4

CASES = [
    ("lstm_both", lambda: L.LSTM(3, dropout=0.3, recurrent_dropout=0.4, return_sequences=True), False),
    ("lstm_input_only", lambda: L.LSTM(3, dropout=0.5), False),
    ("lstm_recurrent_only_backwards", lambda: L.LSTM(2, recurrent_dropout=0.25, go_backwards=True), False),
    ("gru_both", lambda: L.GRU(3, dropout=0.2, recurrent_dropout=0.5, return_sequences=True), False),
    ("gru_reset_before", lambda: L.GRU(3, dropout=0.3, recurrent_dropout=0.3, reset_after=False), False),
    ("gru_input_only", lambda: L.GRU(2, dropout=0.4, return_sequences=True), False),
    ("simple_rnn_both", lambda: L.SimpleRNN(3, dropout=0.3, recurrent_dropout=0.5, return_sequences=True), False),
    ("simple_rnn_relu", lambda: L.SimpleRNN(2, activation="relu", recurrent_dropout=0.2), False),
    ("gru_masked_steps", lambda: L.GRU(3, dropout=0.2, recurrent_dropout=0.4, return_sequences=True), True),
    ("lstm_masked_steps", lambda: L.LSTM(2, recurrent_dropout=0.3), True),
    ("simple_rnn_masked_steps", lambda: L.SimpleRNN(3, dropout=0.5, recurrent_dropout=0.5), True),
]


def tolist(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def dropout_mask(rng, shape, rate):
    keep = rng.uniform(size=shape) >= rate
    return (keep / (1.0 - rate)).astype(np.float32)


def golden_cases():
    rng = np.random.default_rng(20261203)
    cases = []
    for name, make, masked in CASES:
        layer = make()
        x = rng.uniform(-1, 1, size=(BATCH, TIME, FEATURES)).astype(np.float32)
        step_mask = None
        if masked:
            step_mask = np.array([[1, 1, 0, 1, 1], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=bool)
        layer.build((None, TIME, FEATURES))
        for w in layer.weights:
            w.assign(rng.uniform(-0.6, 0.6, size=w.shape).astype(np.float32))
        cell = layer.cell
        units = cell.units
        count = getattr(cell, "dropout_mask_count", None)
        per_gate = count if count is not None else 1
        input_masks = (
            [dropout_mask(rng, (BATCH, FEATURES), cell.dropout) for _ in range(per_gate)]
            if cell.dropout > 0
            else []
        )
        recurrent_masks = (
            [dropout_mask(rng, (BATCH, units), cell.recurrent_dropout) for _ in range(per_gate)]
            if cell.recurrent_dropout > 0
            else []
        )
        kwargs = {} if step_mask is None else {"mask": step_mask}
        inference = np.asarray(layer(x, training=False, **kwargs))

        def inject(masks):
            if not masks:
                return None
            return [keras.ops.convert_to_tensor(m) for m in masks] if count is not None else keras.ops.convert_to_tensor(masks[0])

        cell._dropout_mask = inject(input_masks)
        cell._recurrent_dropout_mask = inject(recurrent_masks)
        training = np.asarray(layer(x, training=True, **kwargs))
        cases.append(
            {
                "name": name,
                "class_name": layer.__class__.__name__,
                "config": layer.get_config(),
                "weights": [tolist(w.numpy()) for w in layer.weights],
                "x": tolist(x),
                "step_mask": None if step_mask is None else tolist(step_mask.astype(np.float32)),
                "input_masks": [tolist(m) for m in input_masks],
                "recurrent_masks": [tolist(m) for m in recurrent_masks],
                "inference": tolist(inference),
                "training": tolist(training),
            }
        )
        assert not np.allclose(inference, training), name
    return cases


def main():
    FIXTURE.write_text(json.dumps({"keras_version": keras.__version__, "cases": golden_cases()}, indent=1) + "\n")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
