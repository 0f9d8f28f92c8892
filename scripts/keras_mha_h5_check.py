"""Loads the weights file rkeras saved in crates/engine/tests/multi_head_attention.rs into Keras's Transformer
encoder block (scripts/keras_mha_golden.py) and checks that Keras predicts the golden outputs.

Usage: keras_mha_h5_check.py RKERAS_WEIGHTS.h5 — prints `keras load ok` and exits 0 on success.
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_mha_golden import OUT, block  # noqa: E402


def main(path):
    golden = json.load(open(os.path.join(OUT, "mha_golden.json")))["block"]
    model = block()
    model.load_weights(path)
    x = np.asarray(golden["x"]["values"], dtype=np.float32).reshape(golden["x"]["shape"])
    expected = np.asarray(golden["predict"]["values"]).reshape(golden["predict"]["shape"])
    got = model.predict(x, verbose=0)
    if not np.allclose(got, expected, atol=1e-5):
        raise SystemExit(f"predictions differ by {np.abs(got - expected).max()}")
    print("keras load ok")


if __name__ == "__main__":
    main(sys.argv[1])
