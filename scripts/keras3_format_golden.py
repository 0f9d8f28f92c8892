"""Golden `.keras` files for rkeras's Keras 3 format support, made by Keras 3.15.

    KERAS_BACKEND=jax python scripts/keras3_format_golden.py generate crates/engine/tests/fixtures/keras3 [MEMNN.h5]
        builds small seeded models (Dense, Embedding+LSTM, GRU, Conv2D, BatchNormalization, and the bAbI memory
        network of ../shared/fixtures/keras_memnn_qa1/model.h5 when given), trains each two steps (the memory network one) so that its
        optimizer has state, saves NAME.keras with `model.save` and writes NAME.json: the input batch(es) `x`, Keras's
        `predict(x)` as `y`, and the optimizer's variables (`optimizer_vars`, in `optimizer.variables` order).
    KERAS_BACKEND=jax python scripts/keras3_format_golden.py generate-forms crates/engine/tests/fixtures/keras3
        the same for the model forms (FORMS): a Sequential model, Bidirectional and TimeDistributed wrappers, and
        a Sequential and a functional model used as layers inside a functional one.
    python scripts/keras3_format_golden.py check FIXTURE_DIR NAME RKERAS.keras [RKERAS.weights.h5]
        loads the `.keras` file rkeras wrote, checks its predictions on `x` against `y` (1e-5) and its optimizer
        variables against the fixture's; then, given a `.weights.h5` rkeras wrote, loads it into NAME.keras's model
        and checks the predictions again. Prints `keras3 ok`. A fixture without `optimizer_vars` (a model rkeras
        built and wrote uncompiled, with its own `x` and `y`) skips the optimizer check.
    KERAS_BACKEND=jax python scripts/keras3_format_golden.py legacy-h5 FIXTURE_DIR NAME
        writes NAME.h5, Keras's legacy HDF5 save of NAME.keras (same weights and optimizer).
    python scripts/keras3_format_golden.py check-h5 FIXTURE_DIR NAME RKERAS.h5
        loads the legacy `.h5` file rkeras wrote and checks its predictions on `x` against `y` (1e-5); Keras 3.15
        on JAX does not restore a legacy file's optimizer, so only the weights are compared. Prints `keras3 ok`.
"""

import json
import os
import sys

import keras
import numpy as np
from keras import layers

TOLERANCE = 1e-5


def dense():
    inputs = keras.Input((4,))
    x = layers.Dense(3, activation="relu")(inputs)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="dense_golden")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy")
    return model, [np.random.default_rng(2).uniform(-1, 1, (5, 4)).astype("float32")]


def embedding_lstm():
    inputs = keras.Input((6,))
    x = layers.Embedding(10, 4)(inputs)
    x = layers.LSTM(3, return_sequences=True)(x)
    x = layers.LSTM(3)(x)
    outputs = layers.Dense(2)(x)
    model = keras.Model(inputs, outputs, name="lstm_golden")
    model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="mse")
    return model, [np.random.default_rng(2).integers(0, 10, (5, 6)).astype("float32")]


def gru():
    inputs = keras.Input((5, 3))
    x = layers.GRU(4)(inputs)
    outputs = layers.Dense(2)(x)
    model = keras.Model(inputs, outputs, name="gru_golden")
    model.compile(optimizer=keras.optimizers.Adadelta(1.0), loss="mse")
    return model, [np.random.default_rng(2).uniform(-1, 1, (5, 5, 3)).astype("float32")]


def conv2d():
    inputs = keras.Input((7, 6, 2))
    x = layers.Conv2D(3, (3, 3), padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(2)(x)
    model = keras.Model(inputs, outputs, name="conv2d_golden")
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    return model, [np.random.default_rng(2).uniform(-1, 1, (3, 7, 6, 2)).astype("float32")]


def batchnorm():
    inputs = keras.Input((4,))
    x = layers.Dense(3)(inputs)
    x = layers.BatchNormalization()(x)
    outputs = layers.Dense(2)(x)
    model = keras.Model(inputs, outputs, name="batchnorm_golden")
    model.compile(optimizer=keras.optimizers.Adagrad(0.1), loss="mse")
    return model, [np.random.default_rng(2).uniform(-1, 1, (6, 4)).astype("float32")]


def sequential():
    model = keras.Sequential(
        [keras.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(2)], name="sequential_golden"
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    return model, [np.random.default_rng(2).uniform(-1, 1, (5, 4)).astype("float32")]


def bidirectional():
    inputs = keras.Input((5, 3))
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(inputs)
    x = layers.Bidirectional(layers.GRU(2), merge_mode="sum")(x)
    outputs = layers.Dense(2)(x)
    model = keras.Model(inputs, outputs, name="bidirectional_golden")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model, [np.random.default_rng(2).uniform(-1, 1, (4, 5, 3)).astype("float32")]


def time_distributed():
    inputs = keras.Input((5, 4))
    x = layers.TimeDistributed(layers.Dense(3, activation="relu"))(inputs)
    x = layers.Flatten()(x)
    outputs = layers.Dense(2)(x)
    model = keras.Model(inputs, outputs, name="time_distributed_golden")
    model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="mse")
    return model, [np.random.default_rng(2).uniform(-1, 1, (4, 5, 4)).astype("float32")]


def nested():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu")], name="inner_sequential")
    block_in = keras.Input((3,))
    block = keras.Model(block_in, layers.Dense(3, activation="tanh")(block_in), name="inner_functional")
    inputs = keras.Input((4,))
    outputs = layers.Dense(2)(block(inner(inputs)))
    model = keras.Model(inputs, outputs, name="nested_golden")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model, [np.random.default_rng(2).uniform(-1, 1, (5, 4)).astype("float32")]


# The model forms beyond a flat functional graph: Sequential, wrappers, models used as layers.
FORMS = {"sequential": sequential, "bidirectional": bidirectional, "time_distributed": time_distributed, "nested": nested}


def memnn(path):
    model = keras.models.load_model(path)
    # The legacy loader leaves the optimizer unbuilt; a fresh one steps (and so has state) like the others.
    model.compile(optimizer=keras.optimizers.RMSprop(0.001), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    shapes = [tuple(i.shape[1:]) for i in model.inputs]
    rng = np.random.default_rng(2)
    return model, [rng.integers(1, 22, (3,) + s).astype("float32") for s in shapes]


def one_step(model, x):
    y = model.predict(x, verbose=0)
    target = np.random.default_rng(3).uniform(0, 1, y.shape).astype("float32")
    if model.loss == "categorical_crossentropy":
        target = target / target.sum(axis=-1, keepdims=True)
    elif "sparse" in str(model.loss):
        target = np.argmax(target, axis=-1)
    model.train_on_batch(x, target)


def optimizer_vars(model):
    return [np.asarray(v).astype("float64").ravel().tolist() for v in model.optimizer.variables]


def generate(out_dir, memnn_path=None):
    builders = {"dense": dense, "embedding_lstm": embedding_lstm, "gru": gru, "conv2d": conv2d, "batchnorm": batchnorm}
    if memnn_path:
        builders["memnn"] = lambda: memnn(memnn_path)
    generate_from(out_dir, builders)


def generate_from(out_dir, builders):
    os.makedirs(out_dir, exist_ok=True)
    for name, build in builders.items():
        keras.utils.set_random_seed(7)
        model, x = build()
        if name != "memnn":
            # Non-zero biases, so that a dropped or misplaced bias shows.
            for w in model.weights:
                if w.path.endswith("bias") or w.path.endswith("beta"):
                    w.assign(np.random.default_rng(1).uniform(-0.3, 0.3, w.shape).astype("float32"))
            one_step(model, x)
        one_step(model, x)
        y = model.predict(x, verbose=0)
        model.save(os.path.join(out_dir, f"{name}.keras"))
        record = {
            "x": [a.ravel().tolist() for a in x],
            "x_shape": [list(a.shape) for a in x],
            "y": y.ravel().tolist(),
            "y_shape": list(y.shape),
            "optimizer_vars": optimizer_vars(model),
        }
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(record, f)
        print(name, [w.shape for w in model.weights], "iterations", int(model.optimizer.iterations))


def close(a, b, what):
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    if a.shape != b.shape or not np.allclose(a, b, atol=TOLERANCE, rtol=0):
        sys.exit(f"{what}: differs ({a.shape} vs {b.shape}; max {np.max(np.abs(a - b)) if a.shape == b.shape else '-'})")


def check(fixture_dir, name, keras_path, weights_path=None):
    with open(os.path.join(fixture_dir, f"{name}.json")) as f:
        record = json.load(f)
    x = [np.array(v, dtype="float32").reshape(s) for v, s in zip(record["x"], record["x_shape"])]
    y = np.array(record["y"], dtype="float32").reshape(record["y_shape"])
    model = keras.models.load_model(keras_path)
    close(model.predict(x, verbose=0), y, f"{name}: predictions of {keras_path}")
    if "optimizer_vars" not in record:
        print("keras3 ok")
        return
    got = optimizer_vars(model)
    want = record["optimizer_vars"]
    if len(got) != len(want):
        sys.exit(f"{name}: {len(got)} optimizer variables, the fixture has {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        close(g, w, f"{name}: optimizer variable {i} ({model.optimizer.variables[i].path})")
    if weights_path:
        fresh = keras.models.load_model(os.path.join(fixture_dir, f"{name}.keras"))
        for w in fresh.weights:
            w.assign(np.zeros(w.shape, dtype=w.dtype))
        fresh.load_weights(weights_path)
        close(fresh.predict(x, verbose=0), y, f"{name}: predictions with {weights_path}")
    print("keras3 ok")


def legacy_h5(fixture_dir, name):
    model = keras.models.load_model(os.path.join(fixture_dir, f"{name}.keras"))
    model.save(os.path.join(fixture_dir, f"{name}.h5"))
    print(name, "legacy h5 written")


def check_h5(fixture_dir, name, h5_path):
    with open(os.path.join(fixture_dir, f"{name}.json")) as f:
        record = json.load(f)
    x = [np.array(v, dtype="float32").reshape(s) for v, s in zip(record["x"], record["x_shape"])]
    y = np.array(record["y"], dtype="float32").reshape(record["y_shape"])
    model = keras.models.load_model(h5_path, compile=False)
    close(model.predict(x, verbose=0), y, f"{name}: predictions of {h5_path}")
    print("keras3 ok")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(*sys.argv[2:])
    elif sys.argv[1] == "generate-forms":
        generate_from(sys.argv[2], FORMS)
    elif sys.argv[1] == "legacy-h5":
        legacy_h5(*sys.argv[2:])
    elif sys.argv[1] == "check-h5":
        check_h5(*sys.argv[2:])
    elif sys.argv[1] == "check":
        check(*sys.argv[2:])
    else:
        sys.exit(__doc__)
