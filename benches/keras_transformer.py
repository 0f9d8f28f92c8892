"""The transformer classifier (scripts/keras_transformer_classifier.py's model) trained with Keras 3 on the backend
in KERAS_BACKEND, timed as `rkeras-bench transformer` times it, on the same synthetic data: 2,000 training and 200
validation sequences of 200 ids in [1, 10000), id (i, t) = 1 + SplitMix64(seed · 2³² + i · 200 + t) mod 9,999,
the label the first id mod 46; Adam, batch 32; throughput the median epoch after the first (validation
included), in samples per wall-clock second and per CPU-second (all threads).

    KERAS_BACKEND=jax /work/venv-keras/bin/python benches/keras_transformer.py --epochs 3 --summary-json out.json
"""
import argparse, json, os, statistics, sys, time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from keras_transformer_classifier import build_model  # noqa: E402

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
    p = argparse.ArgumentParser()
    p.add_argument("--data", help="ignored: the data are synthetic")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--summary-json", required=True)
    args = p.parse_args()

    import keras
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    x, y = synthetic(args.seed)
    model = build_model(MAXLEN, VOCAB, CLASSES)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs, self.cpu = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.start, self.cpu_start = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(time.perf_counter() - self.start)
            self.cpu.append(time.process_time() - self.cpu_start)

    timer = Timer()
    history = model.fit(x[:TRAIN], y[:TRAIN], batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x[TRAIN:], y[TRAIN:]), callbacks=[timer], verbose=0)
    summary = {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "model": "transformer",
        "params": model.count_params(),
        "train_samples": TRAIN,
        "epoch_seconds": timer.epochs,
        "train_samples_per_sec": TRAIN / statistics.median(timer.epochs[1:] or timer.epochs),
        "epoch_cpu_seconds": timer.cpu,
        "train_samples_per_cpu_sec": TRAIN / statistics.median(timer.cpu[1:] or timer.cpu),
        "history": [dict(zip(history.history, values)) for values in zip(*history.history.values())],
    }
    with open(args.summary_json, "w") as f:
        json.dump(summary, f, indent=1, default=float)


if __name__ == "__main__":
    main()
