"""Golden outputs of Keras 3's Bidirectional wrapper for rkeras's tests.

Writes crates/layers/tests/fixtures/keras_bidirectional_golden.json: for each case the wrapper's config, its
weights (seeded uniform values; forward layer's then backward layer's), an input batch, the initial states (or
none) and every output of Keras's call; and crates/engine/tests/fixtures/keras_bidirectional.h5, a model of two
Bidirectional layers, with its predictions in keras_bidirectional_expected.json.

Run: .venv-keras-bench/bin/python scripts/keras_bidirectional_golden.py   (TensorFlow backend)
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras_rnn_state_golden import ENGINE_FIXTURES, LAYERS_FIXTURES, tensor  # noqa: E402

L = keras.layers
# (name, wrapper factory, number of initial states or 0)
CASES = [
    ("bidi_lstm_concat", lambda n: L.Bidirectional(L.LSTM(4, return_sequences=True), name=n), 0),
    ("bidi_gru_sum", lambda n: L.Bidirectional(L.GRU(3), merge_mode="sum", name=n), 0),
    ("bidi_simple_rnn_none_state", lambda n: L.Bidirectional(
        L.SimpleRNN(3, return_sequences=True, return_state=True), merge_mode=None, name=n), 0),
    ("bidi_lstm_ave_state_initial", lambda n: L.Bidirectional(
        L.LSTM(3, return_state=True), merge_mode="ave", name=n), 4),
    ("bidi_gru_mul_backward_layer", lambda n: L.Bidirectional(
        L.GRU(3, return_sequences=True), merge_mode="mul",
        backward_layer=L.GRU(3, return_sequences=True, go_backwards=True, reset_after=False, name="back"),
        name=n), 0),
]


def golden_cases():
    rng = np.random.default_rng(20261203)
    cases = []
    for name, make, state_count in CASES:
        layer = make(name)
        layer.build((None, 5, 3))
        weights = [rng.uniform(-0.6, 0.6, size=w.shape).astype(np.float32) for w in layer.get_weights()]
        layer.set_weights(weights)
        x = rng.uniform(-1, 1, size=(2, 5, 3)).astype(np.float32)
        units = layer.forward_layer.units
        states = [rng.uniform(-0.8, 0.8, size=(2, units)).astype(np.float32) for _ in range(state_count)]
        y = layer(x, initial_state=states) if states else layer(x)
        outputs = list(y) if isinstance(y, (list, tuple)) else [y]
        cases.append(dict(name=name, class_name="Bidirectional", config=layer.get_config(),
                          weights=[tensor(w) for w in weights],
                          x=tensor(x), initial_states=[tensor(s) for s in states],
                          outputs=[tensor(o) for o in outputs]))
    return cases


def saved_model():
    keras.utils.set_random_seed(17)
    inputs = keras.Input((6, 3), name="sequence")
    h = L.Bidirectional(L.LSTM(4, return_sequences=True), name="bi_lstm")(inputs)
    h = L.Bidirectional(L.GRU(3), merge_mode="sum", name="bi_gru")(h)
    outputs = L.Dense(2, activation="softmax", name="head")(h)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(6)
    model.set_weights([rng.uniform(-0.7, 0.7, size=w.shape).astype(np.float32) for w in model.get_weights()])
    model.save(ENGINE_FIXTURES / "keras_bidirectional.h5")
    x = rng.uniform(-1, 1, size=(3, 6, 3)).astype(np.float32)
    expected = dict(x=tensor(x), predictions=tensor(model.predict(x, verbose=0)), keras_version=keras.__version__)
    (ENGINE_FIXTURES / "keras_bidirectional_expected.json").write_text(json.dumps(expected))


def main():
    cases = golden_cases()
    (LAYERS_FIXTURES / "keras_bidirectional_golden.json").write_text(
        json.dumps(dict(keras_version=keras.__version__, backend=keras.backend.backend(), cases=cases))
    )
    saved_model()
    print(f"wrote {len(cases)} cases and keras_bidirectional.h5")


if __name__ == "__main__":
    main()
