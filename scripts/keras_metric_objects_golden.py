"""Golden numbers and files for metric objects in compile (crates/engine/tests/metric_objects.rs).

`generate DIR`: a Dense(2, softmax) model with fixed weights compiled with Precision(thresholds=[0.3, 0.6]),
Recall(thresholds=[0.2, 0.5, 0.7], name="rec"), AUC(num_thresholds=50, curve="PR"), Precision(thresholds=0.3,
name="p03"), MeanIoU(num_classes=2, sparse_y_true=False, sparse_y_pred=False) and "accuracy"; saved as .keras and
legacy .h5 before training; the evaluate results (vectors as lists), the compile config's metrics, one epoch's
History and the evaluate after it, into DIR/golden.json.

`check DIR FILE`: Keras loads an rkeras-saved FILE, must find it compiled with the same metric configs, and
its evaluate must give the golden values before training within 1e-5.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402


def data():
    rng = np.random.RandomState(7)
    x = rng.uniform(-1, 1, size=(24, 3)).astype("float32")
    ids = ((x[:, 0] + 0.5 * x[:, 1] + 0.3 * rng.normal(size=24)) > 0).astype("int64")
    y = np.eye(2, dtype="float32")[ids]
    return x, y


def model():
    inputs = keras.Input((3,), name="x")
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(inputs)
    m = keras.Model(inputs, outputs)
    kernel = np.array([[0.8, -0.6], [0.4, 0.3], [-0.2, 0.5]], dtype="float32")
    m.set_weights([kernel, np.array([0.1, -0.1], dtype="float32")])
    m.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1),
        loss="categorical_crossentropy",
        metrics=[
            keras.metrics.Precision(thresholds=[0.3, 0.6]),
            keras.metrics.Recall(thresholds=[0.2, 0.5, 0.7], name="rec"),
            keras.metrics.AUC(num_thresholds=50, curve="PR"),
            keras.metrics.Precision(thresholds=0.3, name="p03"),
            keras.metrics.MeanIoU(num_classes=2, sparse_y_true=False, sparse_y_pred=False),
            "accuracy",
        ],
    )
    return m


def plain(logs):
    return {k: np.asarray(v).tolist() for k, v in logs.items()}


def generate(out):
    x, y = data()
    m = model()
    m.save(os.path.join(out, "metric_objects.keras"))
    m.save(os.path.join(out, "metric_objects.h5"))
    before = m.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    order = m.evaluate(x, y, batch_size=8, verbose=0)
    history = m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0).history
    after = m.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    golden = {
        "x": x.tolist(),
        "y": y.tolist(),
        "compile_metrics": m.get_compile_config()["metrics"],
        "evaluate_before": plain(before),
        # evaluate(return_dict=False): the values in Keras's order, each a number or a list
        "evaluate_list": [np.asarray(v).tolist() for v in order],
        "history": {k: [np.asarray(v).tolist() for v in vs] for k, vs in history.items()},
        "evaluate_after": plain(after),
    }
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
    print("wrote", out)


def close(what, got, want):
    got, want = np.asarray(got, dtype="float64"), np.asarray(want, dtype="float64")
    assert got.shape == want.shape and np.allclose(got, want, atol=1e-5), (what, got, want)


def check(out, path):
    with open(os.path.join(out, "golden.json")) as f:
        golden = json.load(f)
    m = keras.saving.load_model(path)
    assert m.compiled, "not compiled"
    config = m.get_compile_config()
    assert config["metrics"] == golden["compile_metrics"], (config["metrics"], golden["compile_metrics"])
    x, y = np.array(golden["x"], "float32"), np.array(golden["y"], "float32")
    got = m.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert sorted(got) == sorted(golden["evaluate_before"]), (sorted(got), sorted(golden["evaluate_before"]))
    for key, want in golden["evaluate_before"].items():
        close(key, got[key], want)
    print("keras metric objects ok")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
