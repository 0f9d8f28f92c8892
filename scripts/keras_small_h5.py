"""Writes crates/io/tests/fixtures/keras_small_model.h5: a small model saved by Keras 3 itself
(`model.save("x.h5")`, legacy HDF5 layout) after two RMSprop steps, so that the io crate's
robustness tests have a Keras-written file (original HDF5 format, variable-length strings in the
global heap, optimizer state) without the shared fixtures.

Usage: KERAS_BACKEND=tensorflow .venv-keras-bench/bin/python scripts/keras_small_h5.py
"""

import os

import keras
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "io", "tests", "fixtures", "keras_small_model.h5")


def main():
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input(shape=(6,), dtype="int32"),
            keras.layers.Embedding(12, 4),
            keras.layers.LSTM(5),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 12, size=(8, 6))
    y = rng.integers(0, 3, size=(8,))
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    model.save(OUT)
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
