"""Loads the .h5 files rkeras saved in crates/engine/tests/norm_layers.rs (its test
`keras_models_of_the_new_layers_load_predict_and_save_back` prints their paths) with Keras, and checks that
Keras rebuilds every layer (BatchNormalization, LayerNormalization, global pooling, padding, cropping,
up-sampling, spatial dropout, rescaling), with the weights of Keras's original file, and predicts as it does.

Usage: KERAS_BACKEND=tensorflow keras_norm_h5_check.py DIR_WITH_RKERAS_FILES
Prints `keras load ok` and exits 0 on success.
"""

import json
import os
import sys

import keras
import numpy as np

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../crates/engine/tests/fixtures")


def main(directory):
    golden = json.load(open(os.path.join(FIXTURES, "norm_h5_golden.json")))
    for name in ["norm_1d", "norm_2d"]:
        original = keras.models.load_model(os.path.join(FIXTURES, f"{name}.h5"), compile=False)
        # compile=False: Keras 3.15 cannot recompile a legacy .h5 whose loss is "mse" (its own files included).
        saved = keras.models.load_model(os.path.join(directory, f"{name}.h5"), compile=False)
        classes = [layer.__class__.__name__ for layer in saved.layers]
        if classes != [layer.__class__.__name__ for layer in original.layers]:
            raise SystemExit(f"{name}: layers differ: {classes}")
        for a, b in zip(original.weights, saved.weights, strict=True):
            if a.path != b.path or a.trainable != b.trainable or not np.array_equal(np.asarray(a), np.asarray(b)):
                raise SystemExit(f"{name}: weight {a.path} differs from {b.path}")
        x = np.asarray(golden[name]["x"]["values"], dtype=np.float32).reshape(golden[name]["x"]["shape"])
        expected = np.asarray(golden[name]["predict"]["values"]).reshape(golden[name]["predict"]["shape"])
        if not np.allclose(saved.predict(x, verbose=0), expected, atol=1e-5):
            raise SystemExit(f"{name}: predictions differ")
        print(name, classes)
    print("keras load ok")


if __name__ == "__main__":
    main(sys.argv[1])
