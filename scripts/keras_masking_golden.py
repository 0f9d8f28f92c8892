"""Golden outputs of Keras 3 models whose timestep mask comes from Embedding(mask_zero=True) or Masking, for
rkeras's masking tests: recurrent layers (also wrapped in Bidirectional, after TimeDistributed, with
zero_output_for_mask, and with initial states / return_state), pooling and merge layers.

Writes crates/layers/tests/fixtures/keras_masking_golden.json: for each case the chain of layer configs (as
Keras's get_config gives them), each layer's weights (seeded uniform values), an input batch with padding
(zeros before, after and inside the sequences), Keras's output and the mask Keras attaches to it (or null).

Run: .venv-keras/bin/python scripts/keras_masking_golden.py   (JAX backend)
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/layers/tests/fixtures/keras_masking_golden.json"

L = keras.layers


def emb():
    return L.Embedding(10, 3, mask_zero=True)


CASES = [
    ("lstm_last", "ids", lambda: [emb(), L.LSTM(4)]),
    ("lstm_sequences", "ids", lambda: [emb(), L.LSTM(4, return_sequences=True)]),
    ("lstm_backwards", "ids", lambda: [emb(), L.LSTM(3, go_backwards=True, return_sequences=True)]),
    ("gru_sequences", "ids", lambda: [emb(), L.GRU(4, return_sequences=True)]),
    ("gru_backwards_last", "ids", lambda: [emb(), L.GRU(4, go_backwards=True)]),
    ("gru_reset_before", "ids", lambda: [emb(), L.GRU(3, reset_after=False, return_sequences=True)]),
    ("simple_rnn_sequences", "ids", lambda: [emb(), L.SimpleRNN(4, return_sequences=True)]),
    ("simple_rnn_last", "ids", lambda: [emb(), L.SimpleRNN(4)]),
    (
        "stacked_through_dense",
        "ids",
        lambda: [emb(), L.LSTM(4, return_sequences=True), L.Dense(3), L.GRU(2)],
    ),
    ("masking_lstm", "features", lambda: [L.Masking(0.0), L.LSTM(3, return_sequences=True)]),
    ("masking_value", "features", lambda: [L.Masking(-1.0), L.GRU(3)]),
    ("dense_keeps_mask", "ids", lambda: [emb(), L.Dense(2)]),
    ("average_pooling", "ids", lambda: [emb(), L.GlobalAveragePooling1D()]),
    (
        "lstm_sequences_average",
        "ids",
        lambda: [emb(), L.LSTM(4, return_sequences=True), L.GlobalAveragePooling1D()],
    ),
    ("max_pooling_ignores_mask", "ids", lambda: [emb(), L.GlobalMaxPooling1D()]),
    ("average_pooling_keepdims", "features", lambda: [L.Masking(0.0), L.GlobalAveragePooling1D(keepdims=True)]),
    ("gru_zero_output_for_mask", "ids", lambda: [emb(), L.GRU(3, return_sequences=True, zero_output_for_mask=True)]),
    ("lstm_zero_output_last", "ids", lambda: [emb(), L.LSTM(3, zero_output_for_mask=True)]),
    ("bidirectional_gru_sequences", "ids", lambda: [emb(), L.Bidirectional(L.GRU(3, return_sequences=True))]),
    ("bidirectional_lstm_last", "ids", lambda: [emb(), L.Bidirectional(L.LSTM(3))]),
    (
        "bidirectional_simple_rnn_sum",
        "ids",
        lambda: [emb(), L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="sum")],
    ),
    (
        "bidirectional_gru_ave",
        "ids",
        lambda: [emb(), L.Bidirectional(L.GRU(2, reset_after=False, return_sequences=True), merge_mode="ave")],
    ),
    (
        "bidirectional_then_gru",
        "ids",
        lambda: [emb(), L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="mul"), L.GRU(2)],
    ),
    ("masking_bidirectional_gru", "features", lambda: [L.Masking(0.0), L.Bidirectional(L.GRU(2))]),
    ("time_distributed_keeps_mask", "ids", lambda: [emb(), L.TimeDistributed(L.Dense(2))]),
    (
        "time_distributed_then_lstm",
        "ids",
        lambda: [emb(), L.TimeDistributed(L.Dense(3)), L.LSTM(2, return_sequences=True)],
    ),
]


def inputs(kind, rng):
    ids = np.array(
        [[0, 0, 3, 7, 2, 9], [5, 1, 8, 0, 0, 0], [4, 0, 6, 0, 2, 1], [3, 3, 3, 3, 3, 3]], dtype=np.float32
    )
    if kind == "ids":
        return ids
    x = rng.uniform(-1, 1, size=(4, 6, 2)).astype(np.float32)
    return x * (ids != 0)[..., None] + (ids == 0)[..., None] * 0.0


def golden_cases():
    rng = np.random.default_rng(20261202)
    cases = []
    for name, kind, make in CASES:
        layers = make()
        x = inputs(kind, rng)
        if name == "masking_value":
            x = np.where(x == 0.0, -1.0, x).astype(np.float32)
        inp = keras.Input(shape=x.shape[1:])
        y = inp
        for layer in layers:
            y = layer(y)
        model = keras.Model(inp, y)
        weights = []
        for layer in layers:
            ws = [rng.uniform(-0.6, 0.6, size=w.shape).astype(np.float32) for w in layer.get_weights()]
            layer.set_weights(ws)
            weights.append([dict(shape=list(w.shape), values=w.ravel().tolist()) for w in ws])
        out = layers[0](keras.ops.convert_to_tensor(x))
        for layer in layers[1:]:
            out = layer(out)
        mask = getattr(out, "_keras_mask", None)
        expected = np.asarray(model.predict(x, verbose=0))
        np.testing.assert_allclose(expected, np.asarray(out), atol=1e-6)
        cases.append(
            dict(
                name=name,
                layers=[dict(class_name=type(l).__name__, config=l.get_config()) for l in layers],
                weights=weights,
                x=dict(shape=list(x.shape), values=x.ravel().tolist()),
                y=dict(shape=list(expected.shape), values=expected.ravel().tolist()),
                mask=None
                if mask is None
                else dict(shape=list(mask.shape), values=np.asarray(mask).astype(np.float32).ravel().tolist()),
            )
        )
    return cases


MERGES = [
    ("add_both_masked", "Add", True),
    ("subtract_both_masked", "Subtract", True),
    ("maximum_both_masked", "Maximum", True),
    ("average_both_masked", "Average", True),
    ("multiply_one_unmasked", "Multiply", False),
    ("multiply_both_masked", "Multiply", True),
    ("maximum_one_unmasked", "Maximum", False),
    ("minimum_both_masked", "Minimum", True),
    ("minimum_one_unmasked", "Minimum", False),
    ("concatenate_both_masked", "Concatenate", True),
    ("concatenate_one_unmasked", "Concatenate", False),
    ("concatenate_time_both_masked", ("Concatenate", dict(axis=1)), True),
    ("concatenate_time_one_unmasked", ("Concatenate", dict(axis=1)), False),
    ("dot_drops_mask", ("Dot", dict(axes=2)), True),
]


def merge_cases():
    """Two id inputs through their own Embedding (the second with or without mask_zero) into a merge layer."""
    rng = np.random.default_rng(20261203)
    a = np.array([[0, 0, 3, 7, 2, 9], [5, 1, 8, 0, 0, 0], [4, 0, 6, 0, 2, 1], [3, 3, 3, 3, 3, 3]], np.float32)
    b = np.array([[1, 0, 0, 7, 2, 0], [0, 0, 8, 0, 4, 0], [4, 5, 6, 0, 2, 1], [0, 3, 0, 3, 0, 3]], np.float32)
    cases = []
    for name, merge, second_masked in MERGES:
        ia, ib = keras.Input((6,)), keras.Input((6,))
        ea, eb = L.Embedding(10, 3, mask_zero=True), L.Embedding(10, 3, mask_zero=second_masked)
        merge, kwargs = merge if isinstance(merge, tuple) else (merge, {})
        layer = getattr(L, merge)(**kwargs)
        model = keras.Model([ia, ib], layer([ea(ia), eb(ib)]))
        weights = []
        for emb_layer in (ea, eb):
            w = rng.uniform(-0.6, 0.6, size=(10, 3)).astype(np.float32)
            emb_layer.set_weights([w])
            weights.append(dict(shape=[10, 3], values=w.ravel().tolist()))
        out = layer([ea(keras.ops.convert_to_tensor(a)), eb(keras.ops.convert_to_tensor(b))])
        mask = getattr(out, "_keras_mask", None)
        expected = np.asarray(model.predict([a, b], verbose=0))
        np.testing.assert_allclose(expected, np.asarray(out), atol=1e-6)
        cases.append(
            dict(
                name=name,
                merge=dict(class_name=merge, config=layer.get_config()),
                second_masked=second_masked,
                embeddings=weights,
                x=[dict(shape=list(v.shape), values=v.ravel().tolist()) for v in (a, b)],
                y=dict(shape=list(expected.shape), values=expected.ravel().tolist()),
                mask=None
                if mask is None
                else dict(shape=list(mask.shape), values=np.asarray(mask).astype(np.float32).ravel().tolist()),
            )
        )
    return cases


STATES = [
    ("lstm_initial_and_return_state", lambda: L.LSTM(3, return_state=True), True),
    ("lstm_sequences_initial_and_return_state", lambda: L.LSTM(3, return_sequences=True, return_state=True), True),
    ("lstm_return_state_only", lambda: L.LSTM(3, return_state=True, go_backwards=True), False),
    ("lstm_initial_state_only", lambda: L.LSTM(3, return_sequences=True), True),
    ("gru_initial_and_return_state", lambda: L.GRU(3, return_sequences=True, return_state=True), True),
    ("gru_backwards_return_state", lambda: L.GRU(3, return_state=True, go_backwards=True), True),
    ("simple_rnn_initial_and_return_state", lambda: L.SimpleRNN(3, return_state=True), True),
    (
        "bidirectional_lstm_states",
        lambda: L.Bidirectional(L.LSTM(2, return_sequences=True, return_state=True)),
        True,
    ),
]


def state_cases():
    """Embedded ids with mask_zero into a recurrent layer called with initial states and/or return_state:
    every output of the call ([output, *states])."""
    rng = np.random.default_rng(20261204)
    ids = np.array([[0, 0, 3, 7, 2, 9], [5, 1, 8, 0, 0, 0], [4, 0, 6, 0, 2, 1], [0, 0, 0, 0, 0, 0]], np.float32)
    cases = []
    for name, make, with_states in STATES:
        layer = make()
        inner = getattr(layer, "forward_layer", layer)
        count = (2 if isinstance(inner, L.LSTM) else 1) * (2 if inner is not layer else 1)
        units = inner.units
        states = [rng.uniform(-0.8, 0.8, size=(4, units)).astype(np.float32) for _ in range(count)] if with_states else []
        inp = keras.Input((6,))
        state_inputs = [keras.Input((units,)) for _ in states]
        embedding = L.Embedding(10, 3, mask_zero=True)
        x = embedding(inp)
        outs = layer(x, initial_state=state_inputs) if states else layer(x)
        model = keras.Model([inp, *state_inputs], outs)
        w = rng.uniform(-0.6, 0.6, size=(10, 3)).astype(np.float32)
        embedding.set_weights([w])
        ws = [rng.uniform(-0.6, 0.6, size=v.shape).astype(np.float32) for v in layer.get_weights()]
        layer.set_weights(ws)
        expected = model.predict([ids, *states], verbose=0)
        expected = list(expected) if isinstance(expected, (list, tuple)) else [expected]
        cases.append(
            dict(
                name=name,
                layer=dict(class_name=type(layer).__name__, config=layer.get_config()),
                embedding=dict(shape=[10, 3], values=w.ravel().tolist()),
                weights=[dict(shape=list(v.shape), values=v.ravel().tolist()) for v in ws],
                x=dict(shape=list(ids.shape), values=ids.ravel().tolist()),
                initial_states=[dict(shape=list(s.shape), values=s.ravel().tolist()) for s in states],
                outputs=[dict(shape=list(np.shape(o)), values=np.asarray(o).ravel().tolist()) for o in expected],
            )
        )
    return cases


def main():
    keras.utils.set_random_seed(1)
    FIXTURE.write_text(
        json.dumps(
            dict(
                keras_version=keras.__version__,
                cases=golden_cases(),
                merges=merge_cases(),
                states=state_cases(),
            ),
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
