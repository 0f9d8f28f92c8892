"""Golden numbers and files for metric objects per output (crates/engine/tests/metric_outputs.rs).

`generate DIR`: a two-output model (`cls`: Dense(3, softmax) with sparse categorical cross-entropy; `bin`:
Dense(2, sigmoid) with binary cross-entropy) with fixed weights, compiled twice with metrics per output mixing
names and objects with arguments:
  - "dict": {"cls": ["accuracy", SparseCategoricalAccuracy(name="sca", dtype="float64"),
             SparseTopKCategoricalAccuracy(k=2, name="top2"), SparseCategoricalCrossentropy(name="xent")],
             "bin": [BinaryAccuracy(threshold=0.7, name="ba7"), "mae", Precision(thresholds=0.4, name="p04"),
             BinaryIoU(target_class_ids=[1], threshold=0.6, name="biou")]}
  - "list": [["accuracy", SparseCategoricalAccuracy(name="sca")],
             [BinaryAccuracy(threshold=0.3), "mse", CosineSimilarity(name="cos")]]
Each is saved as .keras and legacy .h5 before training; its compile config's metrics, evaluate, one epoch's
History and the evaluate after it go into DIR/golden.json under its form's key.

`check DIR FORM FILE`: Keras loads an rkeras-saved FILE compiled in FORM, must find the metric configs it finds
in its own file of that format, and its evaluate must give the golden values before training within 1e-5 (the
logs of its own file of that format: its .h5 loader logs "mae" as `mean_absolute_error`).
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

M = keras.metrics


def data():
    rng = np.random.RandomState(11)
    x = rng.uniform(-1, 1, size=(24, 4)).astype("float32")
    ids = np.argmax(x[:, :3] + 0.4 * rng.normal(size=(24, 3)), axis=1).astype("float32")
    yb = (x[:, 2:4] + 0.3 * rng.normal(size=(24, 2)) > 0).astype("float32")
    return x, ids, yb


def metrics(form):
    if form == "dict":
        return {
            "cls": [
                "accuracy",
                M.SparseCategoricalAccuracy(name="sca", dtype="float64"),
                M.SparseTopKCategoricalAccuracy(k=2, name="top2"),
                M.SparseCategoricalCrossentropy(name="xent"),
            ],
            "bin": [
                M.BinaryAccuracy(threshold=0.7, name="ba7"),
                "mae",
                M.Precision(thresholds=0.4, name="p04"),
                M.BinaryIoU(target_class_ids=[1], threshold=0.6, name="biou"),
            ],
        }
    return [
        ["accuracy", M.SparseCategoricalAccuracy(name="sca")],
        [M.BinaryAccuracy(threshold=0.3), "mse", M.CosineSimilarity(name="cos")],
    ]


def model(form):
    inputs = keras.Input((4,), name="x")
    cls = keras.layers.Dense(3, activation="softmax", name="cls")(inputs)
    binary = keras.layers.Dense(2, activation="sigmoid", name="bin")(inputs)
    m = keras.Model(inputs, [cls, binary])
    rng = np.random.RandomState(5)
    m.set_weights([rng.uniform(-0.8, 0.8, size=w.shape).astype("float32") for w in m.get_weights()])
    losses = {"cls": "sparse_categorical_crossentropy", "bin": "binary_crossentropy"}
    if form == "list":
        losses = ["sparse_categorical_crossentropy", "binary_crossentropy"]
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=losses, metrics=metrics(form))
    return m


def plain(logs):
    return {k: float(np.asarray(v)) for k, v in logs.items()}


def targets(form, ids, yb):
    return {"cls": ids, "bin": yb} if form == "dict" else [ids, yb]


def generate(out):
    x, ids, yb = data()
    golden = {"x": x.tolist(), "ids": ids.tolist(), "yb": yb.tolist()}
    for form in ["dict", "list"]:
        m = model(form)
        m.save(os.path.join(out, f"metric_outputs_{form}.keras"))
        m.save(os.path.join(out, f"metric_outputs_{form}.h5"))
        y = targets(form, ids, yb)
        before = m.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
        history = m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0).history
        after = m.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
        golden[form] = {
            "compile_metrics": m.get_compile_config()["metrics"],
            "evaluate_before": plain(before),
            "history": {k: [float(np.asarray(v)) for v in vs] for k, vs in history.items()},
            "evaluate_after": plain(after),
        }
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
    print("wrote", out)


def check(out, form, path):
    with open(os.path.join(out, "golden.json")) as f:
        golden = json.load(f)
    want = golden[form]
    m = keras.saving.load_model(path)
    assert m.compiled, "not compiled"
    config = m.get_compile_config()
    # Keras's legacy .h5 loader turns metric names other than "accuracy" into objects ("mae" comes back as
    # MeanAbsoluteError): the reference is Keras's load of its own file in the same format.
    own = keras.saving.load_model(os.path.join(out, f"metric_outputs_{form}{os.path.splitext(path)[1]}"))
    reference = own.get_compile_config()["metrics"]
    if path.endswith(".keras"):
        assert reference == want["compile_metrics"], (reference, want["compile_metrics"])
    assert config["metrics"] == reference, (config["metrics"], reference)
    x, ids, yb = (np.array(golden[k], "float32") for k in ["x", "ids", "yb"])
    y = targets(form, ids, yb)
    got = m.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    expected = plain(own.evaluate(x, y, batch_size=8, verbose=0, return_dict=True))
    if path.endswith(".keras"):
        expected = want["evaluate_before"]
    assert sorted(got) == sorted(expected), (sorted(got), sorted(expected))
    for key, value in expected.items():
        assert abs(float(np.asarray(got[key])) - value) <= 1e-5, (key, got[key], value)
    print("keras metric outputs ok")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4])
