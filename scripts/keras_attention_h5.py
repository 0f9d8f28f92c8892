"""A Keras model of Attention, AdditiveAttention and EinsumDense saved as .h5, and the check that rkeras's copy
loads back in Keras.

  KERAS_BACKEND=jax keras_attention_h5.py            writes crates/engine/tests/fixtures/attention_layers.h5 and
                                                     attention_h5_golden.json (inputs and Keras's predictions)
  KERAS_BACKEND=jax keras_attention_h5.py check DIR  loads DIR/attention_layers.h5 (saved by rkeras in
                                                     crates/engine/tests/attention_layers.rs), compares classes,
                                                     weights and predictions; prints `keras load ok`
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../crates/engine/tests/fixtures")


def arr(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def model():
    L = keras.layers
    query = keras.Input((5, 6), name="query")
    value = keras.Input((7, 6), name="value")
    q = L.EinsumDense("abc,cd->abd", output_shape=(None, 6), bias_axes="d", activation="tanh")(query)
    h = L.Attention(use_scale=True, score_mode="concat")([q, value])
    h = L.Attention(use_scale=True)([h, value, value])
    h = L.AdditiveAttention()([h, value])
    y = L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")(h)
    return keras.Model([query, value], y)


def generate():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(4)
    m = model()
    for w in m.weights:
        w.assign(rng.uniform(-1, 1, size=w.shape).astype(np.float32) + (1.0 if len(w.shape) == 0 else 0.0))
    xq = rng.uniform(-1.5, 1.5, size=(3, 5, 6)).astype(np.float32)
    xv = rng.uniform(-1.5, 1.5, size=(3, 7, 6)).astype(np.float32)
    m.save(os.path.join(FIXTURES, "attention_layers.h5"))
    golden = {"query": arr(xq), "value": arr(xv), "predict": arr(m.predict([xq, xv], verbose=0))}
    with open(os.path.join(FIXTURES, "attention_h5_golden.json"), "w") as f:
        json.dump(golden, f)
    print("wrote attention_layers.h5")


def load(v):
    return np.asarray(v["values"], dtype=np.float32).reshape(v["shape"])


def check(directory):
    golden = json.load(open(os.path.join(FIXTURES, "attention_h5_golden.json")))
    original = keras.models.load_model(os.path.join(FIXTURES, "attention_layers.h5"), compile=False)
    saved = keras.models.load_model(os.path.join(directory, "attention_layers.h5"), compile=False)
    classes = [layer.__class__.__name__ for layer in saved.layers]
    if classes != [layer.__class__.__name__ for layer in original.layers]:
        raise SystemExit(f"layers differ: {classes}")
    for a, b in zip(original.weights, saved.weights, strict=True):
        if a.path != b.path or not np.array_equal(np.asarray(a), np.asarray(b)):
            raise SystemExit(f"weight {a.path} differs from {b.path}")
    predicted = saved.predict([load(golden["query"]), load(golden["value"])], verbose=0)
    if not np.allclose(predicted, load(golden["predict"]), atol=1e-5):
        raise SystemExit("predictions differ")
    print(classes)
    print("keras load ok")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        generate()
