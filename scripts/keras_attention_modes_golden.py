"""Keras's legacy `.h5` files of `keras.layers.Attention` in each score mode, with and without `use_scale`.

    KERAS_BACKEND=jax python scripts/keras_attention_modes_golden.py generate crates/engine/tests/fixtures/attention_modes
        for each case of CASES builds `Dense(Attention(use_scale, score_mode)([query, value, key]))` with
        random weights (`scale` and `concat_score_weight` away from their initial 1), saves NAME.h5 with
        `model.save` and writes NAME.json: the three input batches `x` and Keras's `predict(x)` as `y`.
        Keras 3.15 cannot load its own legacy file of a `score_mode="dot"` layer (its legacy reader turns the
        string "dot" into the function `keras.layers.dot`); `loads_in_keras` records it.
        Also writes `mha_shared_kwargs.keras`, one MultiHeadAttention called twice, with `use_causal_mask=True`
        on the second call only (rkeras refuses it with a typed error naming the layer), and MultiHeadAttention
        over other attention axes (`mha_axes`): NAME.keras, NAME.h5 and NAME.json.
    python scripts/keras_attention_modes_golden.py check-mha FIXTURE_DIR NAME RKERAS_FILE
        loads a `.keras` or `.h5` file rkeras wrote of an `mha_axes` case, checks its `attention_axes` and its
        predictions on `x` against `y` (1e-5). Prints `attention ok`.
    python scripts/keras_attention_modes_golden.py check FIXTURE_DIR NAME RKERAS.h5
        loads the legacy `.h5` file rkeras wrote, checks its Attention layer's settings against the case and its
        predictions on `x` against `y` (1e-5). Prints `attention ok`.
"""

import json
import os
import sys

import keras
import numpy as np
from keras import layers

TOLERANCE = 1e-5
CASES = {
    "dot": ("dot", False),
    "dot_scaled": ("dot", True),
    "concat": ("concat", False),
    "concat_scaled": ("concat", True),
}


def build(score_mode, use_scale):
    query = keras.Input((5, 6), name="query")
    value = keras.Input((7, 6), name="value")
    key = keras.Input((7, 6), name="key")
    h = layers.Attention(use_scale=use_scale, score_mode=score_mode, name="attention")([query, value, key])
    y = layers.Dense(3, name="head")(h)
    return keras.Model([query, value, key], y, name="attention_" + score_mode)


def flat(a):
    return [float(v) for v in np.asarray(a).ravel()]


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, (score_mode, use_scale) in CASES.items():
        keras.utils.set_random_seed(3)
        rng = np.random.default_rng(7)
        model = build(score_mode, use_scale)
        for w in model.weights:
            shift = 0.5 if len(w.shape) == 0 else 0.0
            w.assign(rng.uniform(-1, 1, size=w.shape).astype("float32") * 0.6 + shift)
        x = [rng.uniform(-1.5, 1.5, size=(2, n, 6)).astype("float32") for n in (5, 7, 7)]
        path = os.path.join(out_dir, f"{name}.h5")
        model.save(path)
        try:
            keras.saving.load_model(path)
            loads = True
        except Exception:
            loads = False
        record = {
            "x": [flat(a) for a in x],
            "x_shape": [list(a.shape) for a in x],
            "y": flat(model.predict(x, verbose=0)),
            "y_shape": [2, 5, 3],
            "score_mode": score_mode,
            "use_scale": use_scale,
            "weights": {w.path: flat(w) for w in model.weights},
            "loads_in_keras": loads,
        }
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(record, f)
        print(name, "Keras loads its own file:", loads)
    refused(out_dir)
    mha_axes(out_dir)


def refused(out_dir):
    x = keras.Input((5, 6))
    mha = layers.MultiHeadAttention(2, 3, name="mha_shared")
    y = layers.Add()([mha(x, x), mha(x, x, use_causal_mask=True)])
    keras.Model(x, y).save(os.path.join(out_dir, "mha_shared_kwargs.keras"))


def mha_axes(out_dir):
    """MultiHeadAttention over `attention_axes=(2,)` of [batch, 3, 4, 6] inputs (self-attention), and over
    Keras's default axes (1, 2) of a [batch, 3, 4, 6] query and a [batch, 2, 5, 6] value; NAME.keras, NAME.h5
    and NAME.json as for the Attention cases."""
    for name, axes, shapes in (
        ("mha_axes_2", (2,), [(3, 4, 6), (3, 4, 6)]),
        ("mha_axes_default", None, [(3, 4, 6), (2, 5, 6)]),
    ):
        keras.utils.set_random_seed(4)
        inputs = [keras.Input(s) for s in shapes]
        h = layers.MultiHeadAttention(2, 3, attention_axes=axes, name="mha")(*inputs)
        model = keras.Model(inputs, layers.Dense(2, name="head")(h), name=name)
        rng = np.random.default_rng(8)
        for w in model.weights:
            w.assign(rng.uniform(-0.8, 0.8, size=w.shape).astype("float32"))
        x = [rng.uniform(-1.5, 1.5, size=(2,) + s).astype("float32") for s in shapes]
        model.save(os.path.join(out_dir, f"{name}.keras"))
        model.save(os.path.join(out_dir, f"{name}.h5"))
        y = model.predict(x, verbose=0)
        record = {
            "x": [flat(a) for a in x],
            "x_shape": [list(a.shape) for a in x],
            "y": flat(y),
            "y_shape": list(y.shape),
            "attention_axes": list(model.get_layer("mha").get_config()["attention_axes"]),
        }
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(record, f)
        print(name, record["attention_axes"])


def check_mha(fixture_dir, name, path):
    with open(os.path.join(fixture_dir, f"{name}.json")) as f:
        golden = json.load(f)
    model = keras.saving.load_model(path)
    axes = list(model.get_layer("mha").get_config()["attention_axes"])
    if axes != golden["attention_axes"]:
        sys.exit(f"{path}: attention_axes {axes}, expected {golden['attention_axes']}")
    check_predictions(model, golden, path)


def check_predictions(model, golden, path):
    x = [np.array(v, dtype="float32").reshape(s) for v, s in zip(golden["x"], golden["x_shape"])]
    y = model.predict(x, verbose=0)
    worst = float(np.max(np.abs(y.ravel() - np.array(golden["y"], dtype="float32"))))
    if worst > TOLERANCE:
        sys.exit(f"{path}: predictions differ by {worst}")
    print("attention ok")


def check(fixture_dir, name, path):
    with open(os.path.join(fixture_dir, f"{name}.json")) as f:
        golden = json.load(f)
    model = keras.saving.load_model(path)
    attention = model.get_layer("attention")
    if (attention.score_mode, attention.use_scale) != (golden["score_mode"], golden["use_scale"]):
        sys.exit(f"{path}: score_mode {attention.score_mode}, use_scale {attention.use_scale}")
    check_predictions(model, golden, path)


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif sys.argv[1] == "check":
        check(*sys.argv[2:5])
    elif sys.argv[1] == "check-mha":
        check_mha(*sys.argv[2:5])
    else:
        sys.exit(__doc__)
