"""The transformer classifier (scripts/keras_transformer_classifier.py's model) trained with Keras 3 on the backend
in KERAS_BACKEND, timed as `rkeras-bench transformer` times it, on the same synthetic data: 2,000 training and 200
validation sequences of 200 ids in [1, 10000), id (i, t) = 1 + SplitMix64(seed · 2³² + i · 200 + t) mod 9,999,
the label the first id mod 46; Adam, batch 32; throughput the median epoch after the first (validation
included), in samples per wall-clock second and per CPU-second (all threads).

    KERAS_BACKEND=jax .venv-keras-bench/bin/python benches/keras_transformer.py --epochs 3 --summary-json out.json
"""
import os, sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from keras_transformer_classifier import build_model  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_timing import parser, setup_keras, timed_fit  # noqa: E402

TRAIN, VAL, MAXLEN, VOCAB, CLASSES = 2000, 200, 200, 10000, 46


def splitmix64(state):
    """SplitMix64's output for each uint64 `state` (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = state + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def synthetic(seed):
    """rkeras-bench's ids `(TRAIN + VAL, MAXLEN)` and labels."""
    index = np.arange((TRAIN + VAL) * MAXLEN, dtype=np.uint64).reshape(TRAIN + VAL, MAXLEN)
    with np.errstate(over="ignore"):
        state = np.uint64(seed) * np.uint64(1 << 32) + index
    x = (1 + splitmix64(state) % np.uint64(VOCAB - 1)).astype("int32")
    return x, x[:, 0] % CLASSES


def main():
    p = parser()
    p.add_argument("--data", help="ignored: the data are synthetic")
    args = p.parse_args()
    setup_keras(args)
    x, y = synthetic(args.seed)
    model = build_model(MAXLEN, VOCAB, CLASSES)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timed_fit(model, x[:TRAIN], y[:TRAIN], (x[TRAIN:], y[TRAIN:]), args, "transformer")


if __name__ == "__main__":
    main()
