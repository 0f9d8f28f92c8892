"""Loads the weights files rkeras saved in crates/engine/tests/mask_outputs.rs into the Keras models of
scripts/keras_mask_outputs_golden.py and checks that Keras predicts the golden outputs.

Usage: keras_mask_outputs_h5_check.py CASE RKERAS_WEIGHTS.h5 — prints `keras load ok` and exits 0 on success.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_mask_outputs_golden import EXPECTED, IDS, MODELS  # noqa: E402


def main(case, path):
    golden = json.loads(EXPECTED.read_text())[case]
    model = MODELS[case]()
    model.load_weights(path)
    expected = np.asarray(golden["values"]).reshape(golden["shape"])
    got = model.predict(IDS, verbose=0)
    if not np.allclose(got, expected, atol=1e-5):
        raise SystemExit(f"{case}: predictions differ by {np.abs(got - expected).max()}")
    print("keras load ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
