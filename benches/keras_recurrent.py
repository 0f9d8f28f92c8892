"""`rkeras-bench lstm` / `gru` in Keras 3 on the backend in KERAS_BACKEND: LSTM(64) or GRU(64) over 20 steps of 32
features, then Dense(10, softmax); Adam, batch 32; 5,000 training and 500 validation samples drawn uniformly in
[-1, 1) and labelled by a random linear teacher over the sum of the steps (the distribution and shapes of the rkeras
workload, not its draws: its generator is Rust's SmallRng); timed as `rkeras-bench` times it (benches/keras_timing.py).

    KERAS_BACKEND=jax .venv-keras-bench/bin/python benches/keras_recurrent.py --layer gru --epochs 3 --summary-json out.json
"""
import os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_timing import parser, setup_keras, timed_fit  # noqa: E402

TRAIN, VAL, STEPS, FEATURES, CLASSES, UNITS = 5000, 500, 20, 32, 10, 64


def synthetic(seed):
    """Inputs `(TRAIN + VAL, STEPS, FEATURES)` in [-1, 1) and the teacher's labels."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (TRAIN + VAL, STEPS, FEATURES)).astype("float32")
    teacher = rng.uniform(-1, 1, (FEATURES, CLASSES)).astype("float32")
    return x, np.argmax(x.sum(axis=1) @ teacher, axis=1)


def main():
    p = parser()
    p.add_argument("--layer", choices=["lstm", "gru"], required=True)
    p.add_argument("--data", help="ignored: the data are synthetic")
    args = p.parse_args()
    keras = setup_keras(args)
    from keras import layers

    x, y = synthetic(args.seed)
    recurrent = layers.LSTM(UNITS) if args.layer == "lstm" else layers.GRU(UNITS)
    model = keras.Sequential([layers.Input((STEPS, FEATURES)), recurrent,
                              layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timed_fit(model, x[:TRAIN], y[:TRAIN], (x[TRAIN:], y[TRAIN:]), args, args.layer)


if __name__ == "__main__":
    main()
