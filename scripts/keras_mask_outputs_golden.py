"""Golden predictions of Keras 3 models whose timestep mask reaches layers through an unmerged Bidirectional's
two outputs and through LayerNormalization, for rkeras's tests (crates/engine/tests/mask_outputs.rs).

- `bidi_unmerged`: Embedding(mask_zero) → Bidirectional(LSTM, return_sequences, merge_mode=None), whose forward
  output feeds an LSTM and whose backward output a GlobalAveragePooling1D (Keras's compute_mask gives each output
  the sequence's mask), concatenated → Dense softmax.
- `layer_norm`: Embedding(mask_zero) → LayerNormalization → LSTM(return_sequences) → LayerNormalization → an LSTM
  and a GlobalAveragePooling1D, concatenated → Dense softmax (LayerNormalization passes the mask on).

Writes crates/engine/tests/fixtures/keras_mask_outputs_<case>.h5 (Keras's model file, seeded uniform weights) and
keras_mask_outputs_expected.json (input ids with padding before, inside and after the sequences, and Keras's
predictions). Each model is also checked here to predict differently without the mask, so the golden values
depend on it. `keras_mask_outputs_h5_check.py` loads the weights rkeras saves back into these models.

Run: .venv-keras/bin/python scripts/keras_mask_outputs_golden.py   (JAX backend)
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates/engine/tests/fixtures"
EXPECTED = FIXTURES / "keras_mask_outputs_expected.json"
L = keras.layers

IDS = np.array(
    [
        [0, 0, 3, 7, 2, 9, 4],
        [5, 1, 0, 6, 8, 0, 0],
        [11, 2, 2, 4, 1, 3, 10],
        [0, 4, 9, 0, 0, 5, 0],
    ],
    dtype=np.int32,
)


def bidi_unmerged(mask_zero=True):
    ids = keras.Input((7,), dtype="int32", name="ids")
    x = L.Embedding(12, 4, mask_zero=mask_zero, name="embedding")(ids)
    forward, backward = L.Bidirectional(
        L.LSTM(5, return_sequences=True), merge_mode=None, name="bidi"
    )(x)
    forward = L.LSTM(3, name="after_forward")(forward)
    backward = L.GlobalAveragePooling1D(name="after_backward")(backward)
    h = L.Concatenate(name="join")([forward, backward])
    return keras.Model(ids, L.Dense(3, activation="softmax", name="head")(h))


def layer_norm(mask_zero=True):
    ids = keras.Input((7,), dtype="int32", name="ids")
    x = L.Embedding(12, 4, mask_zero=mask_zero, name="embedding")(ids)
    x = L.LayerNormalization(name="norm_embedding")(x)
    x = L.LSTM(5, return_sequences=True, name="lstm")(x)
    x = L.LayerNormalization(name="norm_lstm")(x)
    last = L.LSTM(3, name="last")(x)
    mean = L.GlobalAveragePooling1D(name="mean")(x)
    h = L.Concatenate(name="join")([last, mean])
    return keras.Model(ids, L.Dense(3, activation="softmax", name="head")(h))


MODELS = {"bidi_unmerged": bidi_unmerged, "layer_norm": layer_norm}


def main():
    expected = dict(keras_version=keras.__version__, backend=keras.backend.backend(), x=IDS.tolist())
    for seed, (name, build) in enumerate(MODELS.items()):
        keras.utils.set_random_seed(seed)
        model = build()
        rng = np.random.default_rng(100 + seed)
        weights = [rng.uniform(-0.8, 0.8, size=w.shape).astype(np.float32) for w in model.get_weights()]
        model.set_weights(weights)
        predictions = model.predict(IDS, verbose=0)
        unmasked = build(mask_zero=False)
        unmasked.set_weights(weights)
        gap = np.abs(unmasked.predict(IDS, verbose=0) - predictions).max()
        assert gap > 1e-3, f"{name}: the mask changes the predictions by only {gap}"
        model.save(FIXTURES / f"keras_mask_outputs_{name}.h5")
        expected[name] = dict(shape=list(predictions.shape), values=predictions.ravel().tolist())
        print(f"{name}: without the mask the predictions move by {gap:.4f}")
    EXPECTED.write_text(json.dumps(expected))


if __name__ == "__main__":
    main()
