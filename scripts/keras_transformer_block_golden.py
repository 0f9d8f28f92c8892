"""Golden Transformer blocks for rkeras's `load_model`, made by Keras 3.15: token ids → Embedding →
MultiHeadAttention → Dropout → Add → LayerNormalization → Dense feed-forward → Add → LayerNormalization →
GlobalAveragePooling1D → Dense softmax, saved as `.keras` and as legacy `.h5`.

    KERAS_BACKEND=jax python scripts/keras_transformer_block_golden.py generate crates/engine/tests/fixtures/transformer
        writes NAME.keras, NAME.h5 and NAME.json (the input batches `x`, Keras's `predict(x)` as `y`) for
        `self_attention` (`mha(x, x)`) and `cross_causal` (`mha(query, value, attention_mask=mask,
        use_causal_mask=True)`, the query and value embedded from two token inputs, the mask a third input).
    KERAS_BACKEND=jax python scripts/keras_transformer_block_golden.py check FIXTURE_DIR NAME RKERAS_FILE
        loads the `.keras` or `.h5` file rkeras wrote, checks its predictions on `x` against `y` (1e-5) and prints
        `transformer ok`.
"""

import json
import os
import sys

import keras
import numpy as np
from keras import layers

TOLERANCE = 1e-5
VOCAB, LENGTH, DIM = 20, 6, 8


def encoder(query, value, **call):
    att = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1)(query, value, **call)
    att = layers.Dropout(0.1)(att)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([query, att]))
    ff = layers.Dense(16, activation="relu")(h)
    ff = layers.Dense(DIM)(ff)
    ff = layers.Dropout(0.1)(ff)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([h, ff]))
    h = layers.GlobalAveragePooling1D()(h)
    return layers.Dense(3, activation="softmax")(h)


def self_attention(rng):
    tokens = keras.Input((LENGTH,))
    x = layers.Embedding(VOCAB, DIM)(tokens)
    model = keras.Model(tokens, encoder(x, x), name="transformer_self_attention")
    return model, [rng.integers(0, VOCAB, (4, LENGTH)).astype("float32")]


def cross_causal(rng):
    query_tokens = keras.Input((LENGTH,), name="query_tokens")
    value_tokens = keras.Input((LENGTH,), name="value_tokens")
    mask = keras.Input((LENGTH, LENGTH), name="attention_mask")
    query = layers.Embedding(VOCAB, DIM)(query_tokens)
    value = layers.Embedding(VOCAB, DIM)(value_tokens)
    outputs = encoder(query, value, attention_mask=mask, use_causal_mask=True)
    model = keras.Model([query_tokens, value_tokens, mask], outputs, name="transformer_cross_causal")
    m = (rng.uniform(0, 1, (4, LENGTH, LENGTH)) > 0.3).astype("float32")
    m[:, :, 0] = 1.0  # every query may attend to the first position, which the causal mask always allows
    x = [rng.integers(0, VOCAB, (4, LENGTH)).astype("float32"), rng.integers(0, VOCAB, (4, LENGTH)).astype("float32"), m]
    return model, x


BUILDERS = {"self_attention": self_attention, "cross_causal": cross_causal}


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, build in BUILDERS.items():
        keras.utils.set_random_seed(7)
        model, x = build(np.random.default_rng(7))
        # Non-zero biases and betas, so that a dropped or misplaced one shows.
        for w in model.weights:
            if w.path.endswith("bias") or w.path.endswith("beta"):
                w.assign(np.random.default_rng(1).uniform(-0.3, 0.3, w.shape).astype("float32"))
        y = model.predict(x, verbose=0)
        model.save(os.path.join(out_dir, f"{name}.keras"))
        model.save(os.path.join(out_dir, f"{name}.h5"))
        record = {
            "x": [a.ravel().tolist() for a in x],
            "x_shape": [list(a.shape) for a in x],
            "y": y.ravel().tolist(),
            "y_shape": list(y.shape),
        }
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(record, f)
        print(name, [w.shape for w in model.weights])


def check(fixture_dir, name, path):
    with open(os.path.join(fixture_dir, f"{name}.json")) as f:
        record = json.load(f)
    x = [np.array(v, dtype="float32").reshape(s) for v, s in zip(record["x"], record["x_shape"])]
    y = np.array(record["y"], dtype="float32").reshape(record["y_shape"])
    model = keras.models.load_model(path, compile=False)
    got = model.predict(x, verbose=0)
    if got.shape != y.shape or not np.allclose(got, y, atol=TOLERANCE, rtol=0):
        sys.exit(f"{name}: predictions of {path} differ from Keras's (max {np.max(np.abs(got - y))})")
    print("transformer ok")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        check(*sys.argv[2:])
    else:
        sys.exit(__doc__)
