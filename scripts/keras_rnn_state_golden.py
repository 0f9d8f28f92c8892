"""Golden outputs of Keras 3's recurrent layers with `return_state` and initial states, for rkeras's tests.

Writes crates/layers/tests/fixtures/keras_rnn_state_golden.json: for each case a layer config, its weights
(seeded uniform values), an input batch, the initial states (or none) and every output Keras's call returns
([output, *states] with return_state); and crates/engine/tests/fixtures/keras_rnn_state.h5, a functional model
whose encoder LSTM hands its states to a decoder LSTM (`initial_state`) and to a Dense layer, with a GRU's state
as a second model output, with its predictions in keras_rnn_state_expected.json.

Run: .venv-keras-bench/bin/python scripts/keras_rnn_state_golden.py   (TensorFlow backend)
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAYERS_FIXTURES = ROOT / "crates/layers/tests/fixtures"
ENGINE_FIXTURES = ROOT / "crates/engine/tests/fixtures"

# (name, class, kwargs, with initial states)
CASES = [
    ("lstm_return_state", "LSTM", dict(units=4, return_state=True), False),
    ("lstm_return_state_sequences", "LSTM", dict(units=4, return_state=True, return_sequences=True), False),
    ("lstm_initial_state", "LSTM", dict(units=4, return_sequences=True), True),
    ("lstm_state_backwards", "LSTM", dict(units=3, return_state=True, go_backwards=True), True),
    ("lstm_state_no_bias", "LSTM", dict(units=3, return_state=True, use_bias=False), True),
    ("gru_return_state", "GRU", dict(units=4, return_state=True, return_sequences=True), False),
    ("gru_state_reset_before", "GRU", dict(units=3, return_state=True, reset_after=False), True),
    ("simple_rnn_return_state", "SimpleRNN", dict(units=4, return_state=True, go_backwards=True), True),
    ("simple_rnn_state_sequences", "SimpleRNN", dict(units=3, return_state=True, return_sequences=True), False),
]


def tensor(a):
    a = np.asarray(a)
    return dict(shape=list(a.shape), values=a.ravel().tolist())


def golden_cases():
    rng = np.random.default_rng(20261202)
    cases = []
    for name, cls, kwargs, with_states in CASES:
        layer = getattr(keras.layers, cls)(name=name, **kwargs)
        x = rng.uniform(-1, 1, size=(2, 5, 3)).astype(np.float32)
        layer.build((None, 5, 3))
        weights = [rng.uniform(-0.6, 0.6, size=w.shape).astype(np.float32) for w in layer.get_weights()]
        layer.set_weights(weights)
        states = []
        if with_states:
            count = 2 if cls == "LSTM" else 1
            states = [rng.uniform(-0.8, 0.8, size=(2, kwargs["units"])).astype(np.float32) for _ in range(count)]
            y = layer(x, initial_state=states)
        else:
            y = layer(x)
        outputs = y if isinstance(y, (list, tuple)) else [y]
        cases.append(
            dict(
                name=name,
                class_name=cls,
                config=layer.get_config(),
                weights=[tensor(w) for w in weights],
                x=tensor(x),
                initial_states=[tensor(s) for s in states],
                outputs=[tensor(o) for o in outputs],
            )
        )
    return cases


def saved_model():
    keras.utils.set_random_seed(11)
    encoder_input = keras.Input((5, 3), name="encoder_input")
    decoder_input = keras.Input((4, 2), name="decoder_input")
    _, h, c = keras.layers.LSTM(4, return_state=True, name="encoder")(encoder_input)
    decoded = keras.layers.LSTM(4, return_sequences=True, name="decoder")(decoder_input, initial_state=[h, c])
    sequence_out = keras.layers.Dense(2, name="per_step")(decoded)
    gru_seq, gru_h = keras.layers.GRU(3, return_sequences=True, return_state=True, name="gru")(decoder_input)
    summary = keras.layers.Dense(1, name="from_state")(keras.layers.Concatenate(name="join")([h, gru_h]))
    model = keras.Model([encoder_input, decoder_input], [sequence_out, summary, gru_h])
    rng = np.random.default_rng(3)
    model.set_weights([rng.uniform(-0.7, 0.7, size=w.shape).astype(np.float32) for w in model.get_weights()])
    model.save(ENGINE_FIXTURES / "keras_rnn_state.h5")
    x = [rng.uniform(-1, 1, size=(3, 5, 3)).astype(np.float32), rng.uniform(-1, 1, size=(3, 4, 2)).astype(np.float32)]
    predictions = model.predict(x, verbose=0)
    expected = dict(
        inputs=[tensor(a) for a in x],
        predictions=[tensor(p) for p in predictions],
        keras_version=keras.__version__,
    )
    (ENGINE_FIXTURES / "keras_rnn_state_expected.json").write_text(json.dumps(expected))


def main():
    LAYERS_FIXTURES.mkdir(parents=True, exist_ok=True)
    ENGINE_FIXTURES.mkdir(parents=True, exist_ok=True)
    cases = golden_cases()
    (LAYERS_FIXTURES / "keras_rnn_state_golden.json").write_text(
        json.dumps(dict(keras_version=keras.__version__, backend=keras.backend.backend(), cases=cases))
    )
    saved_model()
    print(f"wrote {len(cases)} cases and keras_rnn_state.h5")


if __name__ == "__main__":
    main()
