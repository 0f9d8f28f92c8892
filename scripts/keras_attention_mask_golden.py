"""Writes crates/engine/tests/fixtures/attention_mask_golden.json: Keras 3's attention layers fed the masks their
inputs carry (`Embedding(mask_zero=True)`), with every layer's weights, the inputs, the outputs and the output
masks. Read by crates/engine/tests/attention_masks.rs.

- `mha_self`, `mha_causal`: Embedding(mask_zero) -> MultiHeadAttention(e, e), without and with use_causal_mask
  (and the attention scores);
- `mha_cross`: query, value and key from three Embedding(mask_zero) layers plus an explicit attention_mask;
- `attention`, `additive`: Attention(use_scale) and AdditiveAttention(use_causal_mask) on a masked query and value;
- `mha_causal_no_scores`: causal self-attention without the scores (Keras's `ops.dot_product_attention` path,
  where a query that may attend to nothing takes the mean of the values);
- `fit`: Embedding(mask_zero) -> MultiHeadAttention(e, e) -> GlobalAveragePooling1D (the masked mean) -> Dense
  softmax, trained with SGD by train_on_batch on batches of 4: Keras's loss per batch and final weights.

Usage: KERAS_BACKEND=jax .venv-keras/bin/python scripts/keras_attention_mask_golden.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src import backend  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../crates/engine/tests/fixtures")
VOCAB = 12


def arr(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def ids(rng, batch, length):
    """Token ids in 1..VOCAB; row b ends with b % 3 zeros (padding), and the second row has a zero inside."""
    x = rng.integers(1, VOCAB, (batch, length))
    for b in range(batch):
        if b % 3:
            x[b, length - b % 3 :] = 0
    x[1, 1] = 0
    return x.astype(np.int32)


def mask_of(t):
    m = backend.get_keras_mask(t)
    return None if m is None else arr(np.asarray(m, dtype=np.float32))


def case(layers, inputs, outputs):
    return {
        "inputs": [arr(x) for x in inputs],
        "weights": [[arr(w) for w in layer.get_weights()] for layer in layers],
        "outputs": [arr(o) for o in outputs],
        "mask": mask_of(outputs[0]),
    }


def self_attention(rng, causal, scores=True):
    x = ids(rng, 3, 6)
    emb = keras.layers.Embedding(VOCAB, 8, mask_zero=True)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    e = emb(x)
    outputs = mha(e, e, use_causal_mask=causal, return_attention_scores=scores)
    return case([emb, mha], [x], list(outputs) if scores else [outputs])


def cross_attention(rng):
    xq, xv, xk = ids(rng, 2, 5), ids(rng, 2, 4), ids(rng, 2, 4)
    xk[0, 0] = 0
    explicit = (rng.uniform(0, 1, (2, 5, 4)) > 0.25).astype(np.float32)
    eq, ev, ek = (keras.layers.Embedding(VOCAB, 6, mask_zero=True) for _ in range(3))
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, output_shape=5)
    out, scores = mha(
        eq(xq), ev(xv), key=ek(xk), attention_mask=explicit.astype(bool), return_attention_scores=True
    )
    return case([eq, ev, ek, mha], [xq, xv, xk, explicit], [out, scores])


def dot_attention(rng, layer, causal):
    xq, xv = ids(rng, 3, 4), ids(rng, 3, 5)
    eq, ev = keras.layers.Embedding(VOCAB, 6, mask_zero=True), keras.layers.Embedding(VOCAB, 6, mask_zero=True)
    q, v = eq(xq), ev(xv)
    out, scores = layer([q, v], use_causal_mask=causal, return_attention_scores=True)
    return case([eq, ev, layer], [xq, xv], [out, scores])


def fit_case(rng):
    x = ids(rng, 8, 6)
    y = rng.integers(0, 4, (8, 1)).astype(np.float32)
    inp = keras.Input((6,), dtype="int32")
    emb = keras.layers.Embedding(VOCAB, 8, mask_zero=True)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    dense = keras.layers.Dense(4, activation="softmax")
    e = emb(inp)
    pooled = keras.layers.GlobalAveragePooling1D()(mha(e, e))
    model = keras.Model(inp, dense(pooled))
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    weights = [[arr(w) for w in layer.get_weights()] for layer in (emb, mha, dense)]
    losses = []
    for _ in range(2):
        for start in (0, 4):
            logs = model.train_on_batch(x[start : start + 4], y[start : start + 4], return_dict=True)
            losses.append(float(logs["loss"]))
    return {
        "x": arr(x),
        "y": arr(y),
        "weights": weights,
        "losses": losses,
        "final_weights": [arr(w) for w in model.get_weights()],
    }


def main():
    keras.utils.set_random_seed(11)
    rng = np.random.default_rng(11)
    golden = {
        "keras_version": keras.__version__,
        "mha_self": self_attention(rng, False),
        "mha_causal": self_attention(rng, True),
        "mha_causal_no_scores": self_attention(rng, True, scores=False),
        "mha_cross": cross_attention(rng),
        "attention": dot_attention(rng, keras.layers.Attention(use_scale=True), False),
        "additive": dot_attention(rng, keras.layers.AdditiveAttention(), True),
        "fit": fit_case(rng),
    }
    with open(os.path.join(OUT, "attention_mask_golden.json"), "w") as f:
        json.dump(golden, f)
    print("wrote attention_mask_golden.json")


if __name__ == "__main__":
    main()
