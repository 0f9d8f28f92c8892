"""Writes crates/engine/tests/fixtures/mha_golden.json and mha_block.h5: Keras 3's MultiHeadAttention alone
(self-attention with a causal mask and the attention scores; cross-attention with different lengths, an explicit
attention mask and output_shape) and a Transformer encoder block (MultiHeadAttention, Dropout, Add,
LayerNormalization, Dense feed-forward, GlobalAveragePooling1D, Dense softmax), with their weights, inputs and
outputs. Read by crates/engine/tests/multi_head_attention.rs.

Usage: KERAS_BACKEND=jax .venv-keras/bin/python scripts/keras_mha_golden.py
"""

import json
import os

import keras
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../crates/engine/tests/fixtures")


def arr(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def block():
    x = keras.Input((10, 16))
    att = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1)(x, x)
    att = keras.layers.Dropout(0.1)(att)
    h = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([x, att]))
    ff = keras.layers.Dense(32, activation="relu")(h)
    ff = keras.layers.Dense(16)(ff)
    ff = keras.layers.Dropout(0.1)(ff)
    h = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([h, ff]))
    h = keras.layers.GlobalAveragePooling1D()(h)
    return keras.Model(x, keras.layers.Dense(4, activation="softmax")(h))


def main():
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    golden = {}

    x = rng.uniform(-1, 1, (3, 6, 8)).astype(np.float32)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, value_dim=3)
    out, scores = mha(x, x, use_causal_mask=True, return_attention_scores=True)
    golden["causal"] = {
        "x": arr(x),
        "weights": [arr(w) for w in mha.get_weights()],
        "names": [w.path for w in mha.weights],
        "output": arr(out),
        "scores": arr(scores),
    }

    q = rng.uniform(-1, 1, (2, 5, 8)).astype(np.float32)
    v = rng.uniform(-1, 1, (2, 3, 6)).astype(np.float32)
    mask = (rng.uniform(0, 1, (2, 5, 3)) > 0.3).astype(np.float32)
    mask[0, 1, :] = 0.0  # a query that attends to nothing
    mha = keras.layers.MultiHeadAttention(num_heads=3, key_dim=4, output_shape=7)
    out, scores = mha(q, v, attention_mask=mask.astype(bool), return_attention_scores=True)
    golden["cross"] = {
        "q": arr(q),
        "v": arr(v),
        "mask": arr(mask),
        "weights": [arr(w) for w in mha.get_weights()],
        "output": arr(out),
        "scores": arr(scores),
    }

    model = block()
    xb = rng.uniform(-1, 1, (4, 10, 16)).astype(np.float32)
    model.save(os.path.join(OUT, "mha_block.h5"))
    golden["block"] = {"x": arr(xb), "predict": arr(model.predict(xb, verbose=0))}
    with open(os.path.join(OUT, "mha_golden.json"), "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    main()
