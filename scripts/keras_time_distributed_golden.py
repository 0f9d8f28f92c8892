"""Golden outputs of Keras 3's TimeDistributed wrapper for rkeras's tests.

Writes crates/layers/tests/fixtures/keras_time_distributed_golden.json: for each case the wrapper's config, its
weights (seeded uniform values), an input batch and Keras's output; and crates/engine/tests/fixtures/
keras_time_distributed.h5, a model of TimeDistributed Conv1D, Flatten and Dense layers around an LSTM, with its
predictions in keras_time_distributed_expected.json.

Run: .venv-keras-bench/bin/python scripts/keras_time_distributed_golden.py   (TensorFlow backend)
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras_rnn_state_golden import ENGINE_FIXTURES, LAYERS_FIXTURES, tensor  # noqa: E402

# (name, wrapped layer, input shape without the batch axis)
CASES = [
    ("td_dense", lambda: keras.layers.Dense(3, activation="tanh"), (5, 3)),
    ("td_conv1d", lambda: keras.layers.Conv1D(2, 3), (4, 6, 2)),
    ("td_flatten", lambda: keras.layers.Flatten(), (4, 3, 2)),
]


def golden_cases():
    rng = np.random.default_rng(20261202)
    cases = []
    for name, make, shape in CASES:
        layer = keras.layers.TimeDistributed(make(), name=name)
        layer.build((None,) + shape)
        weights = [rng.uniform(-0.6, 0.6, size=w.shape).astype(np.float32) for w in layer.get_weights()]
        layer.set_weights(weights)
        x = rng.uniform(-1, 1, size=(2,) + shape).astype(np.float32)
        y = layer(x)
        cases.append(dict(name=name, config=layer.get_config(), weights=[tensor(w) for w in weights],
                          x=tensor(x), output=tensor(y)))
    return cases


def saved_model():
    keras.utils.set_random_seed(13)
    inputs = keras.Input((5, 6, 3), name="frames")
    h = keras.layers.TimeDistributed(keras.layers.Conv1D(3, 2, activation="relu"), name="per_frame_conv")(inputs)
    h = keras.layers.TimeDistributed(keras.layers.Flatten(), name="per_frame_flat")(h)
    h = keras.layers.LSTM(4, return_sequences=True, name="lstm")(h)
    outputs = keras.layers.TimeDistributed(keras.layers.Dense(2, activation="softmax"), name="per_step")(h)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(4)
    model.set_weights([rng.uniform(-0.7, 0.7, size=w.shape).astype(np.float32) for w in model.get_weights()])
    model.save(ENGINE_FIXTURES / "keras_time_distributed.h5")
    x = rng.uniform(-1, 1, size=(3, 5, 6, 3)).astype(np.float32)
    expected = dict(x=tensor(x), predictions=tensor(model.predict(x, verbose=0)), keras_version=keras.__version__)
    (ENGINE_FIXTURES / "keras_time_distributed_expected.json").write_text(json.dumps(expected))


def main():
    LAYERS_FIXTURES.mkdir(parents=True, exist_ok=True)
    ENGINE_FIXTURES.mkdir(parents=True, exist_ok=True)
    cases = golden_cases()
    (LAYERS_FIXTURES / "keras_time_distributed_golden.json").write_text(
        json.dumps(dict(keras_version=keras.__version__, backend=keras.backend.backend(), cases=cases))
    )
    saved_model()
    print(f"wrote {len(cases)} cases and keras_time_distributed.h5")


if __name__ == "__main__":
    main()
