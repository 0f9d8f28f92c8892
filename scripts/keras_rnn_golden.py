"""Golden outputs of Keras 3's recurrent layers for rkeras's tests.

Writes crates/layers/tests/fixtures/keras_rnn_golden.json: for each case a layer config, its weights (seeded
uniform values, biases included), an input batch, an optional initial state and Keras's output; and
crates/engine/tests/fixtures/keras_rnn.h5 (a model of recurrent layers saved by Keras) with its predictions in
keras_rnn_expected.json.

Run: .venv-keras-bench/bin/python scripts/keras_rnn_golden.py   (TensorFlow backend)
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

CASES = [
    ("gru_reset_after", "GRU", dict(units=4)),
    ("gru_sequences", "GRU", dict(units=4, return_sequences=True)),
    ("gru_reset_before", "GRU", dict(units=4, reset_after=False, return_sequences=True)),
    # No hard_sigmoid case: Keras 3's hard_sigmoid is clip(x/6 + 1/2, 0, 1), rkeras's (like Keras 2's, for
    # Keras 2 models) is clip(0.2·x + 1/2, 0, 1).
    ("gru_backwards", "GRU", dict(units=4, go_backwards=True, return_sequences=True)),
    ("gru_reset_before_backwards", "GRU", dict(units=3, reset_after=False, go_backwards=True)),
    ("gru_no_bias", "GRU", dict(units=3, use_bias=False)),
    ("gru_initial_state", "GRU", dict(units=4, return_sequences=True)),
    ("simple_rnn", "SimpleRNN", dict(units=4)),
    ("simple_rnn_sequences", "SimpleRNN", dict(units=4, return_sequences=True)),
    ("simple_rnn_relu", "SimpleRNN", dict(units=4, activation="relu", return_sequences=True)),
    ("simple_rnn_sigmoid_backwards", "SimpleRNN", dict(units=3, activation="sigmoid", go_backwards=True)),
    ("simple_rnn_initial_state", "SimpleRNN", dict(units=4, return_sequences=True)),
    ("lstm_backwards", "LSTM", dict(units=4, go_backwards=True, return_sequences=True)),
]

def golden_cases():
    rng = np.random.default_rng(20261202)
    cases = []
    for name, cls, kwargs in CASES:
        layer = getattr(keras.layers, cls)(name=name, **kwargs)
        x = rng.uniform(-1, 1, size=(2, 5, 3)).astype(np.float32)
        layer.build((None, 5, 3))
        weights = [rng.uniform(-0.6, 0.6, size=w.shape).astype(np.float32) for w in layer.get_weights()]
        layer.set_weights(weights)
        state = None
        if name.endswith("initial_state"):
            state = rng.uniform(-0.8, 0.8, size=(2, kwargs["units"])).astype(np.float32)
            y = layer(x, initial_state=[state])
        else:
            y = layer(x)
        cases.append(
            dict(
                name=name,
                class_name=cls,
                config=layer.get_config(),
                weights=[dict(shape=list(w.shape), values=w.ravel().tolist()) for w in weights],
                x=dict(shape=list(x.shape), values=x.ravel().tolist()),
                initial_state=None if state is None else dict(shape=list(state.shape), values=state.ravel().tolist()),
                output=dict(shape=list(y.shape), values=np.asarray(y).ravel().tolist()),
            )
        )
    return cases

def saved_model():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((6, 3), name="sequence")
    h = keras.layers.GRU(5, return_sequences=True, reset_after=False, go_backwards=True, name="gru_keras2")(inputs)
    h = keras.layers.GRU(4, return_sequences=True, name="gru_keras3")(h)
    h = keras.layers.SimpleRNN(3, name="simple")(h)
    outputs = keras.layers.Dense(2, activation="softmax", name="head")(h)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(5)
    model.set_weights([rng.uniform(-0.7, 0.7, size=w.shape).astype(np.float32) for w in model.get_weights()])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = rng.uniform(-1, 1, size=(4, 6, 3)).astype(np.float32)
    model.save(ENGINE_FIXTURES / "keras_rnn.h5")
    expected = dict(x=dict(shape=list(x.shape), values=x.ravel().tolist()),
                    predictions=np.asarray(model.predict(x, verbose=0)).ravel().tolist(),
                    keras_version=keras.__version__)
    (ENGINE_FIXTURES / "keras_rnn_expected.json").write_text(json.dumps(expected))

def main():
    LAYERS_FIXTURES.mkdir(parents=True, exist_ok=True)
    ENGINE_FIXTURES.mkdir(parents=True, exist_ok=True)
    cases = golden_cases()
    (LAYERS_FIXTURES / "keras_rnn_golden.json").write_text(
        json.dumps(dict(keras_version=keras.__version__, backend=keras.backend.backend(), cases=cases))
    )
    saved_model()
    print(f"wrote {len(cases)} cases and keras_rnn.h5")

if __name__ == "__main__":
    main()
