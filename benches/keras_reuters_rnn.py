"""The Reuters recurrent classifier (scripts/keras_reuters_rnn.py's model: Embedding(10000, 64, mask_zero=True),
Bidirectional(GRU(32)), Dense softmax over 46 classes) trained with Keras 3 on the backend in KERAS_BACKEND, timed
as `rkeras-bench reuters-rnn` times it, on the same synthetic data: benches/keras_transformer.py's 2,000 training
and 200 validation sequences of 200 ids, row i keeping its last 19 + (1 + SplitMix64(seed · 2³² + 2,200 · 200 + i)
mod 181) ids and zeros before them (as pad_sequences pads), the label the last id mod 46; Adam, batch 32;
throughput the median epoch after the first (validation included), in samples per wall-clock second and per
CPU-second (all threads).

    KERAS_BACKEND=jax .venv-keras-bench/bin/python benches/keras_reuters_rnn.py --epochs 3 --summary-json out.json
"""
import importlib.util, os, sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import keras_transformer  # noqa: E402
from keras_timing import parser, setup_keras, timed_fit  # noqa: E402
from keras_transformer import splitmix64  # noqa: E402

# scripts/keras_reuters_rnn.py has this file's name, so it is loaded by path.
spec = importlib.util.spec_from_file_location(
    "keras_reuters_rnn_script", os.path.join(here, "..", "scripts", "keras_reuters_rnn.py"))
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)
build_model = script.build_model

TRAIN, VAL, MAXLEN, VOCAB, CLASSES = 2000, 200, 200, 10000, 46
EMBED_DIM, UNITS = 64, 32


def synthetic(seed):
    """rkeras-bench's padded ids `(TRAIN + VAL, MAXLEN)`, labels and kept lengths."""
    rows = TRAIN + VAL
    x, _ = keras_transformer.synthetic(seed)
    index = np.arange(rows, dtype=np.uint64) + np.uint64(rows * MAXLEN)
    with np.errstate(over="ignore"):
        state = np.uint64(seed) * np.uint64(1 << 32) + index
    kept = (19 + 1 + splitmix64(state) % np.uint64(MAXLEN - 19)).astype("int64")
    x[np.arange(MAXLEN)[None, :] < (MAXLEN - kept)[:, None]] = 0
    return x, x[:, -1] % CLASSES, kept


def main():
    p = parser()
    p.add_argument("--data", help="ignored: the data are synthetic")
    args = p.parse_args()
    setup_keras(args)
    x, y, _ = synthetic(args.seed)
    model = build_model(MAXLEN, VOCAB, EMBED_DIM, UNITS, CLASSES)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timed_fit(model, x[:TRAIN], y[:TRAIN], (x[TRAIN:], y[TRAIN:]), args, "reuters-rnn")


if __name__ == "__main__":
    main()
