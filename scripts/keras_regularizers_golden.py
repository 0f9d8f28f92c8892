"""Golden runs for rkeras's weight regularizers and constraints, made by Keras 3 (JAX backend).

    python scripts/keras_regularizers_golden.py generate crates/engine/tests/fixtures/keras_regularizers
        for each case, builds Input(4) → Dense(3, tanh) → Dense(2) with seeded weights and the case's
        kernel/bias regularizers and constraints, saves the untrained model as NAME.h5 (the regularizers in Keras's config
        form), trains it 3 epochs (SGD lr 0.1, mse, batch 8 of 16 samples, no shuffle) and writes NAME.json:
        x, y, the logged loss per epoch, `evaluate`'s loss and the trained weights.
    python scripts/keras_regularizers_golden.py check FIXTURE_DIR NAME RKERAS_MODEL.h5
        loads the model rkeras saved in Keras and checks that each Dense layer's regularizer and constraint
        configs equal
        those of NAME.h5. Prints `keras regularizers ok`.

Cases: l1, l2, l1l2 (both factors), orthogonal rows and columns, the string names "l2"/"l1"; MaxNorm with
NonNeg on the bias, MinMaxNorm (rate 0.7, axis 1) with L2, UnitNorm over both axes with "max_norm" on the bias,
"non_neg" with "unit_norm" on the bias.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import constraints, layers, regularizers  # noqa: E402

CASES = {
    "l1": (regularizers.L1(0.05), regularizers.L1(0.02), regularizers.L1(0.03)),
    "l2": (regularizers.L2(0.05), regularizers.L2(0.02), regularizers.L2(0.03)),
    "l1l2": (regularizers.L1L2(0.02, 0.04), None, regularizers.L1L2(l2=0.03)),
    "orthogonal_rows": (regularizers.OrthogonalRegularizer(0.5), None, None),
    "orthogonal_columns": (
        regularizers.OrthogonalRegularizer(0.3, mode="columns"),
        None,
        regularizers.OrthogonalRegularizer(0.2, mode="columns"),
    ),
    "names": ("l2", "l1", None),
    "max_norm": (None, None, None, constraints.MaxNorm(0.8), constraints.NonNeg()),
    "min_max_norm": (
        regularizers.L2(0.01), None, None, constraints.MinMaxNorm(0.5, 0.9, rate=0.7, axis=1), None,
    ),
    "unit_norm": (None, None, None, constraints.UnitNorm(axis=[0, 1]), "max_norm"),
    "non_neg": (None, None, None, "non_neg", "unit_norm"),
}


def model_for(case):
    kernel, bias, kernel2, kernel_constraint, bias_constraint = (CASES[case] + (None, None))[:5]
    keras.utils.set_random_seed(3)
    inputs = keras.Input((4,))
    x = layers.Dense(3, activation="tanh", kernel_regularizer=kernel, bias_regularizer=bias,
                     kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                     bias_initializer="random_normal")(inputs)
    outputs = layers.Dense(2, kernel_regularizer=kernel2)(x)
    return keras.Model(inputs, outputs)


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    for case in CASES:
        model = model_for(case)
        model.save(os.path.join(out_dir, f"{case}.h5"))
        model.compile(keras.optimizers.SGD(0.1), "mse")
        history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        evaluated = model.evaluate(x, y, batch_size=16, verbose=0)
        golden = {
            "x": x.ravel().tolist(),
            "y": y.ravel().tolist(),
            "loss": [float(v) for v in history.history["loss"]],
            "evaluate_loss": float(evaluated),
            "weights": [np.asarray(w).ravel().tolist() for w in model.weights],
        }
        with open(os.path.join(out_dir, f"{case}.json"), "w") as f:
            json.dump(golden, f)


def float32(value):
    """Floats as float32 (Keras keeps some factors as float32 tensors, rkeras writes the shortest decimal)."""
    if isinstance(value, dict):
        return {k: float32(v) for k, v in value.items()}
    if isinstance(value, float):
        return float(np.float32(value))
    return value


def regularizer_configs(model):
    return [
        tuple(
            float32(layer.get_config().get(key))
            for key in ("kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint")
        )
        for layer in model.layers
        if isinstance(layer, layers.Dense)
    ]


def check(fixture_dir, name, rkeras_model):
    expected = keras.models.load_model(os.path.join(fixture_dir, f"{name}.h5"), compile=False)
    loaded = keras.models.load_model(rkeras_model, compile=False)
    got, want = regularizer_configs(loaded), regularizer_configs(expected)
    if got != want:
        sys.exit(f"regularizer configs differ: rkeras file {got}, Keras {want}")
    print("keras regularizers ok")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4])
