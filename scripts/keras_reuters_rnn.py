"""Keras twin of examples/reuters_rnn.rs: Reuters topics (num_words=10000, pad_sequences(maxlen=200)) with
Embedding(10000, 64, mask_zero=True), Bidirectional(GRU(32)), Dense softmax over the 46 topics; Adam,
categorical cross-entropy on one-hot topics, batch 32, validation_split=0.1; prints the test loss and accuracy
and writes the same JSON summary fields as the example.

    KERAS_BACKEND=jax .venv-keras-bench/bin/python scripts/keras_reuters_rnn.py \
        --data ../shared/datasets/reuters --epochs 3 --summary-json keras.json
"""
import argparse
import json
import os
import resource
import time

import numpy as np

NUM_WORDS, MAXLEN, EMBED_DIM, UNITS = 10000, 200, 64, 32


def build_model(maxlen, num_words, embed_dim, units, classes):
    """Embedding(num_words, embed_dim, mask_zero=True), Bidirectional(GRU(units)), Dense softmax."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.Input(shape=(maxlen,)),
            layers.Embedding(num_words, embed_dim, mask_zero=True),
            layers.Bidirectional(layers.GRU(units)),
            layers.Dense(classes, activation="softmax"),
        ]
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--train-samples", type=int)
    p.add_argument("--summary-json")
    args = p.parse_args()

    import keras
    from keras.src.datasets import reuters

    keras.utils.set_random_seed(args.seed)
    npz = os.path.abspath(os.path.join(args.data, "reuters.npz"))
    reuters.get_file = lambda *a, **k: npz  # the local copy instead of a download
    (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=NUM_WORDS)
    if args.train_samples:
        x_train, y_train = x_train[: args.train_samples], y_train[: args.train_samples]
    x_train = keras.utils.pad_sequences(x_train, maxlen=MAXLEN)
    x_test = keras.utils.pad_sequences(x_test, maxlen=MAXLEN)
    classes = int(max(y_train.max(), y_test.max())) + 1
    y_train = keras.utils.to_categorical(y_train, classes)
    y_test = keras.utils.to_categorical(y_test, classes)

    model = build_model(MAXLEN, NUM_WORDS, EMBED_DIM, UNITS, classes)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    started = time.time()
    epoch_times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.time()

        def on_epoch_end(self, epoch, logs=None):
            epoch_times.append(time.time() - self.t)

    history = model.fit(
        x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, validation_split=0.1,
        callbacks=[Timer()], verbose=2,
    )
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)
    train_len = len(x_train)
    throughput = train_len / float(np.median(epoch_times[1:] or epoch_times))
    print(f"test loss {loss:.4f} · test accuracy {accuracy:.4f} · {throughput:.0f} training samples/s")
    if args.summary_json:
        summary = {
            "framework": f"keras {keras.__version__} / {keras.backend.backend()}",
            "data": args.data,
            "seed": args.seed,
            "train_samples": train_len,
            "test_samples": len(x_test),
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "test_loss": loss,
            "test_accuracy": accuracy,
            "train_samples_per_sec": throughput,
            "wall_seconds": time.time() - started,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "history": history.history,
            "num_words": NUM_WORDS,
            "maxlen": MAXLEN,
        }
        with open(args.summary_json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
