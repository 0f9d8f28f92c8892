"""Golden files for a two-output model used as a layer whose outputs both carry Embedding(mask_zero)'s mask,
made by Keras 3.15 (crates/engine/tests/nested_masks.rs).

    KERAS_BACKEND=jax python scripts/keras_nested_masks_golden.py generate crates/engine/tests/fixtures/nested_masks
        builds `inner = Model(ids, [LSTM(5, return_sequences)(e), Dense(3, tanh)(e)])` with
        `e = Embedding(12, 4, mask_zero=True)(ids)`, and the outer model
        `seq, feat = inner(ids)`; `first = Dense(3, softmax)(Concatenate([GlobalAveragePooling1D(seq), GRU(4)(feat)]))`,
        `second = Dense(2, softmax)(GlobalAveragePooling1D(feat))` (the mask of the inner model's second output
        reaches a recurrent layer and a pooling layer), with seeded uniform weights. Saves it as model.keras
        and model.h5 (legacy HDF5) and writes golden.json: `x` (ids with padding before, inside and after the
        sequences), Keras's predictions of both outputs, and the same predictions when the inner model's second
        output loses its mask (checked here to differ, so the golden values depend on that mask).
    python scripts/keras_nested_masks_golden.py check FIXTURE_DIR WEIGHTS.weights.h5|MODEL.keras|MODEL.h5
        loads weights (or a whole model) rkeras wrote into Keras's model and checks its predictions against
        golden.json (1e-5). Prints `nested masks ok`.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

L = keras.layers
TOLERANCE = 1e-5

IDS = np.array(
    [
        [0, 0, 3, 7, 2, 9, 4],
        [5, 1, 0, 6, 8, 0, 0],
        [11, 2, 2, 4, 1, 3, 10],
        [0, 4, 9, 0, 0, 5, 0],
    ],
    dtype=np.int32,
)


class DropMask(L.Layer):
    """Passes its input through without a mask (Keras drops the mask of a layer without masking support)."""

    def call(self, x):
        return x + 0.0  # a new tensor: the input's mask does not ride along


def build(second_masked=True):
    ids = keras.Input((7,), dtype="int32", name="inner_ids")
    e = L.Embedding(12, 4, mask_zero=True, name="embedding")(ids)
    seq = L.LSTM(5, return_sequences=True, name="inner_lstm")(e)
    feat = L.Dense(3, activation="tanh", name="inner_dense")(e)
    if not second_masked:
        feat = DropMask(name="drop_mask")(feat)
    inner = keras.Model(ids, [seq, feat], name="inner")
    outer_ids = keras.Input((7,), dtype="int32", name="ids")
    seq, feat = inner(outer_ids)
    joined = L.Concatenate(name="join")(
        [L.GlobalAveragePooling1D(name="seq_mean")(seq), L.GRU(4, name="feat_gru")(feat)]
    )
    first = L.Dense(3, activation="softmax", name="first")(joined)
    second = L.Dense(2, activation="softmax", name="second")(L.GlobalAveragePooling1D(name="feat_mean")(feat))
    return keras.Model(outer_ids, [first, second], name="outer")


def seeded_weights(model):
    rng = np.random.default_rng(7)
    return [rng.uniform(-0.8, 0.8, size=w.shape).astype(np.float32) for w in model.get_weights()]


def copy_weights(source, target):
    """Copies weights layer by layer, by name, into a model of the same layers."""
    for layer in target.layers:
        if isinstance(layer, keras.Model):
            copy_weights(source.get_layer(layer.name), layer)
        elif layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())


def flat(a):
    return [float(v) for v in np.asarray(a).ravel()]


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    keras.utils.set_random_seed(3)
    model = build()
    weights = seeded_weights(model)
    model.set_weights(weights)
    first, second = model.predict(IDS, verbose=0)
    unmasked = build(second_masked=False)
    copy_weights(model, unmasked)
    first_u, second_u = unmasked.predict(IDS, verbose=0)
    gaps = [float(np.abs(first - first_u).max()), float(np.abs(second - second_u).max())]
    assert min(gaps) > 1e-3, f"the second output's mask moves the predictions by only {gaps}"
    model.save(os.path.join(out_dir, "model.keras"))
    model.save(os.path.join(out_dir, "model.h5"))
    record = {
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "x": flat(IDS),
        "x_shape": list(IDS.shape),
        "first": flat(first),
        "first_shape": list(first.shape),
        "second": flat(second),
        "second_shape": list(second.shape),
        "first_without_second_mask": flat(first_u),
        "second_without_second_mask": flat(second_u),
    }
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(record, f)
    print(f"without the second output's mask the predictions move by {gaps}")


def check(fixture_dir, path):
    with open(os.path.join(fixture_dir, "golden.json")) as f:
        golden = json.load(f)
    if path.endswith(".weights.h5"):
        model = build()
        model.load_weights(path)
    else:
        model = keras.saving.load_model(path)
    first, second = model.predict(IDS, verbose=0)
    for name, got in (("first", first), ("second", second)):
        worst = float(np.max(np.abs(got.ravel() - np.array(golden[name], dtype="float32"))))
        if worst > TOLERANCE:
            sys.exit(f"{path}: output `{name}` differs from Keras's by {worst}")
    print("nested masks ok")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
