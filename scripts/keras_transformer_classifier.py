"""Keras twin of examples/transformer_classifier.rs: keras.io's "Text classification with Transformer" model on the
Reuters topics (num_words=10000, pad_sequences(maxlen=200), embed_dim 32, 2 heads, ff_dim 32, Dense 20 relu,
softmax over the 46 topics), Adam, sparse categorical cross-entropy, batch 32, validation_split=0.1; prints the
test loss and accuracy and writes the same JSON summary fields as the example.

    KERAS_BACKEND=jax .venv-keras-bench/bin/python scripts/keras_transformer_classifier.py \
        --data ../shared/datasets/reuters --epochs 2 --summary-json keras.json
"""
import argparse
import json
import os
import resource
import time

import numpy as np

VOCAB_SIZE, MAXLEN = 10000, 200
EMBED_DIM, NUM_HEADS, FF_DIM = 32, 2, 32


def build_model(maxlen, vocab_size, classes):
    """keras.io's model: token and position embedding, one Transformer block, pooling, Dense 20, softmax."""
    import keras
    from keras import layers, ops

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attn_output = self.dropout1(self.att(inputs, inputs))
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.dropout2(self.ffn(out1))
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            positions = self.pos_emb(ops.arange(start=0, stop=ops.shape(x)[-1], step=1))
            return self.token_emb(x) + positions

    inputs = layers.Input(shape=(maxlen,))
    x = TokenAndPositionEmbedding(maxlen, vocab_size, EMBED_DIM)(inputs)
    x = TransformerBlock(EMBED_DIM, NUM_HEADS, FF_DIM)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--train-samples", type=int)
    p.add_argument("--summary-json")
    args = p.parse_args()

    import keras

    keras.utils.set_random_seed(args.seed)
    from keras.src.datasets import reuters

    npz = os.path.abspath(os.path.join(args.data, "reuters.npz"))
    reuters.get_file = lambda *a, **k: npz  # the local copy instead of a download
    (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=VOCAB_SIZE)
    if args.train_samples:
        x_train, y_train = x_train[: args.train_samples], y_train[: args.train_samples]
    x_train = keras.utils.pad_sequences(x_train, maxlen=MAXLEN)
    x_test = keras.utils.pad_sequences(x_test, maxlen=MAXLEN)
    classes = int(max(y_train.max(), y_test.max())) + 1

    model = build_model(MAXLEN, VOCAB_SIZE, classes)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

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
            "num_words": VOCAB_SIZE,
            "maxlen": MAXLEN,
        }
        with open(args.summary_json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
