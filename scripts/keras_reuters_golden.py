"""Golden values of Keras's reuters.load_data for rkeras_datasets::reuters (datasets/tests/reuters_golden.rs).

Runs Keras's own loader on the shared reuters.npz (Keras checks the file's hash itself) under several argument
sets and writes counts, label counts, checksums and the first and last rows to
datasets/tests/fixtures/keras_reuters.json; also NumPy's RandomState(113) permutation of 1000 items, and two
tiny .npz files for the typed-error tests (an object array that is not of lists, and an int matrix).

    .venv-keras-bench/bin/python scripts/keras_reuters_golden.py [path/to/reuters.npz]
"""

import json
import os
import sys
import tempfile

import numpy as np

# Keras reads its datasets from $KERAS_HOME/datasets (and checks the file's hash): point it at a temporary folder
# holding a link to the file, so that nothing is downloaded.
KERAS_HOME = tempfile.mkdtemp(prefix="keras_home_")
os.environ["KERAS_HOME"] = KERAS_HOME
os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "datasets", "tests", "fixtures")
DEFAULT_NPZ = os.path.join(HERE, "..", "..", "shared", "datasets", "reuters", "reuters.npz")

ARGUMENT_SETS = [
    {},
    {"num_words": 1000},
    {"num_words": 10000, "skip_top": 20, "maxlen": 200, "test_split": 0.3, "seed": 7, "oov_char": None},
    {"start_char": None, "index_from": 0},
]


def summary(xs, ys):
    xs = [list(map(int, x)) for x in xs]
    return {
        "count": len(xs),
        "total_words": sum(len(x) for x in xs),
        "index_sum": sum(sum(x) for x in xs),
        "max_index": max((max(x) for x in xs if x), default=0),
        "label_counts": np.bincount(np.asarray(ys, dtype=np.int64), minlength=46).tolist(),
        "first_labels": [int(y) for y in ys[:20]],
        "first_rows": xs[:3],
        "last_row": xs[-1],
    }


def main():
    npz = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_NPZ)
    os.makedirs(os.path.join(KERAS_HOME, "datasets"))
    os.symlink(npz, os.path.join(KERAS_HOME, "datasets", "reuters.npz"))
    cases = []
    for arguments in ARGUMENT_SETS:
        (x_train, y_train), (x_test, y_test) = keras.datasets.reuters.load_data(**arguments)
        cases.append({"arguments": arguments, "train": summary(x_train, y_train), "test": summary(x_test, y_test)})
    rng = np.random.RandomState(113)
    permutation = np.arange(1000)
    rng.shuffle(permutation)
    out = {"keras_version": keras.__version__, "cases": cases, "permutation_1000_seed_113": permutation.tolist()}
    with open(os.path.join(FIXTURES, "keras_reuters.json"), "w") as f:
        json.dump(out, f)
    # Typed-error fixtures: x as an object array of strings, and x as an int matrix.
    strings = np.empty(2, dtype=object)
    strings[:] = ["a", "b"]
    np.savez(os.path.join(FIXTURES, "npz_object_strings.npz"), x=strings, y=np.array([0, 1]))
    np.savez(os.path.join(FIXTURES, "npz_int_matrix.npz"), x=np.zeros((2, 3), dtype=np.int64), y=np.array([0, 1]))
    ragged = np.empty(3, dtype=object)
    ragged[:] = [[4, 5], [], [6]]
    np.savez(os.path.join(FIXTURES, "npz_lists.npz"), x=ragged, y=np.array([2, 0, 1]))
    print("wrote fixtures to", os.path.normpath(FIXTURES))


if __name__ == "__main__":
    main()
