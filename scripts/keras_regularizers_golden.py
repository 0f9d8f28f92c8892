"""Golden runs for rkeras's weight regularizers and constraints, made by Keras 3 (JAX backend).

    python scripts/keras_regularizers_golden.py generate crates/engine/tests/fixtures/keras_regularizers [CASE...]
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

Layer cases (their own models, LAYER_CASES; x and y shapes in the JSON): conv (Conv2D and SeparableConv2D
with kernel/bias/depthwise/pointwise regularizers and constraints), embedding_lstm (Embedding's
embeddings_regularizer/constraint, LSTM's kernel/recurrent/bias ones), batch_norm (BatchNormalization's
gamma/beta ones), norm_prelu (LayerNormalization, PReLU's alpha, EinsumDense), recurrent (GRU and SimpleRNN
inside Bidirectional and TimeDistributed(Dense)), conv1d_depthwise (Conv1D, DepthwiseConv2D, Conv2DTranspose).
Activity regularizers (Keras 3 divides each output's penalty by the batch size): activity_dense (Dense with L2 and
L1 on their outputs), activity_conv (Conv2D, SeparableConv2D, Dense with L1L2), activity_sequence (Embedding, LSTM
with return_sequences, Bidirectional(SimpleRNN) with "l2" in both directions, GRU).
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


def conv_model():
    inputs = keras.Input((6, 6, 2))
    x = layers.Conv2D(3, 3, activation="tanh", kernel_regularizer=regularizers.L2(0.02),
                      bias_regularizer=regularizers.L1(0.01), kernel_constraint=constraints.MaxNorm(0.9, axis=[0, 1, 2]),
                      bias_constraint="non_neg", bias_initializer="random_normal")(inputs)
    x = layers.SeparableConv2D(2, 2, depthwise_regularizer=regularizers.L1L2(0.01, 0.02),
                               pointwise_regularizer="l2", bias_regularizer=regularizers.L2(0.05),
                               depthwise_constraint=constraints.UnitNorm(axis=[0, 1]),
                               pointwise_constraint=constraints.MinMaxNorm(0.2, 0.8, rate=0.5, axis=2),
                               bias_initializer="random_normal")(x)
    x = layers.Flatten()(x)
    return inputs, layers.Dense(2)(x)


def conv1d_depthwise_model():
    inputs = keras.Input((5, 5, 2))
    x = layers.DepthwiseConv2D(2, depth_multiplier=2, depthwise_regularizer=regularizers.L2(0.03),
                               bias_regularizer="l1", depthwise_constraint=constraints.MaxNorm(0.7, axis=[0, 1]),
                               bias_constraint=constraints.NonNeg(), bias_initializer="random_normal")(inputs)
    x = layers.Conv2DTranspose(2, 2, strides=2, kernel_regularizer=regularizers.L1(0.02),
                               kernel_constraint=constraints.UnitNorm(axis=[0, 1, 2]),
                               bias_regularizer=regularizers.L2(0.1), bias_initializer="random_normal")(x)
    x = layers.Reshape((64, 2))(x)
    x = layers.Conv1D(2, 3, strides=4, kernel_regularizer=regularizers.L2(0.05), bias_constraint="non_neg",
                      bias_initializer="random_normal")(x)
    x = layers.Flatten()(x)
    return inputs, layers.Dense(2)(x)


def embedding_lstm_model():
    inputs = keras.Input((5,), dtype="int32")
    x = layers.Embedding(10, 4, embeddings_regularizer=regularizers.L2(0.02),
                         embeddings_constraint=constraints.UnitNorm(axis=1))(inputs)
    x = layers.LSTM(3, kernel_regularizer=regularizers.L1L2(0.01, 0.02), recurrent_regularizer=regularizers.L2(0.05),
                    bias_regularizer=regularizers.L1(0.03), kernel_constraint=constraints.MaxNorm(1.2),
                    recurrent_constraint=constraints.MaxNorm(0.8, axis=1), bias_constraint="non_neg")(x)
    return inputs, layers.Dense(2)(x)


def recurrent_model():
    inputs = keras.Input((4, 3))
    x = layers.Bidirectional(layers.GRU(2, return_sequences=True, kernel_regularizer=regularizers.L2(0.04),
                                        recurrent_regularizer=regularizers.L1(0.02),
                                        bias_regularizer=regularizers.L2(0.1),
                                        recurrent_constraint=constraints.UnitNorm(axis=0),
                                        bias_initializer="random_normal"))(inputs)
    x = layers.TimeDistributed(layers.Dense(2, kernel_regularizer=regularizers.L1(0.03),
                                            kernel_constraint=constraints.MaxNorm(0.6)))(x)
    x = layers.SimpleRNN(3, kernel_regularizer=regularizers.L2(0.05), recurrent_regularizer="l1",
                         bias_constraint=constraints.NonNeg(), bias_initializer="random_normal")(x)
    return inputs, layers.Dense(2)(x)


def batch_norm_model():
    inputs = keras.Input((4,))
    x = layers.Dense(5, kernel_regularizer="l2")(inputs)
    x = layers.BatchNormalization(gamma_regularizer=regularizers.L2(0.05), beta_regularizer=regularizers.L1(0.02),
                                  gamma_constraint=constraints.MaxNorm(1.5), beta_constraint="non_neg",
                                  beta_initializer="random_normal")(x)
    return inputs, layers.Dense(2)(x)


def norm_prelu_model():
    inputs = keras.Input((4,))
    x = layers.EinsumDense("ab,bc->ac", output_shape=5, bias_axes="c", kernel_regularizer=regularizers.L2(0.03),
                           bias_regularizer=regularizers.L1(0.02), kernel_constraint=constraints.MaxNorm(0.9),
                           bias_initializer="random_normal")(inputs)
    x = layers.LayerNormalization(gamma_regularizer=regularizers.L1(0.02), beta_regularizer=regularizers.L2(0.1),
                                  gamma_constraint=constraints.MinMaxNorm(0.5, 2.0), beta_constraint="unit_norm",
                                  beta_initializer="random_normal")(x)
    x = layers.PReLU(alpha_regularizer=regularizers.L2(0.2), alpha_constraint="non_neg",
                     alpha_initializer=keras.initializers.Constant(0.25))(x)
    return inputs, layers.Dense(2)(x)


def activity_dense_model():
    inputs = keras.Input((4,))
    x = layers.Dense(3, activation="tanh", activity_regularizer=regularizers.L2(0.05),
                     bias_initializer="random_normal")(inputs)
    return inputs, layers.Dense(2, kernel_regularizer=regularizers.L2(0.01),
                                activity_regularizer=regularizers.L1(0.02))(x)


def activity_conv_model():
    inputs = keras.Input((6, 6, 2))
    x = layers.Conv2D(3, 3, activation="tanh", activity_regularizer=regularizers.L1(0.01),
                      bias_initializer="random_normal")(inputs)
    x = layers.SeparableConv2D(2, 2, activity_regularizer=regularizers.L2(0.02), bias_initializer="random_normal")(x)
    x = layers.Flatten()(x)
    return inputs, layers.Dense(2, activity_regularizer=regularizers.L1L2(0.01, 0.03))(x)


def activity_sequence_model():
    inputs = keras.Input((5,), dtype="int32")
    x = layers.Embedding(10, 4, activity_regularizer=regularizers.L2(0.03))(inputs)
    x = layers.LSTM(3, return_sequences=True, activity_regularizer=regularizers.L1L2(0.01, 0.02))(x)
    x = layers.Bidirectional(layers.SimpleRNN(2, return_sequences=True, activity_regularizer="l2",
                                              bias_initializer="random_normal"))(x)
    x = layers.GRU(3, activity_regularizer=regularizers.L1(0.02), bias_initializer="random_normal")(x)
    return inputs, layers.Dense(2)(x)


# name: (model builder, x shape, integer ids below this bound or None for normal floats)
LAYER_CASES = {
    "conv": (conv_model, (16, 6, 6, 2), None),
    "conv1d_depthwise": (conv1d_depthwise_model, (16, 5, 5, 2), None),
    "embedding_lstm": (embedding_lstm_model, (16, 5), 10),
    "recurrent": (recurrent_model, (16, 4, 3), None),
    "batch_norm": (batch_norm_model, (16, 4), None),
    "norm_prelu": (norm_prelu_model, (16, 4), None),
    "activity_dense": (activity_dense_model, (16, 4), None),
    "activity_conv": (activity_conv_model, (16, 6, 6, 2), None),
    "activity_sequence": (activity_sequence_model, (16, 5), 10),
}


def model_for(case):
    if case in LAYER_CASES:
        keras.utils.set_random_seed(3)
        inputs, outputs = LAYER_CASES[case][0]()
        return keras.Model(inputs, outputs)
    kernel, bias, kernel2, kernel_constraint, bias_constraint = (CASES[case] + (None, None))[:5]
    keras.utils.set_random_seed(3)
    inputs = keras.Input((4,))
    x = layers.Dense(3, activation="tanh", kernel_regularizer=kernel, bias_regularizer=bias,
                     kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                     bias_initializer="random_normal")(inputs)
    outputs = layers.Dense(2, kernel_regularizer=kernel2)(x)
    return keras.Model(inputs, outputs)


def generate(out_dir, only=()):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    for case in list(CASES) + list(LAYER_CASES):
        if only and case not in only:
            continue
        if case in LAYER_CASES:
            _, shape, ids = LAYER_CASES[case]
            case_rng = np.random.default_rng(7)
            x = (case_rng.integers(0, ids, size=shape).astype("int32") if ids
                 else case_rng.normal(size=shape).astype("float32"))
        model = model_for(case)
        model.save(os.path.join(out_dir, f"{case}.h5"))
        model.compile(keras.optimizers.SGD(0.1), "mse")
        history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        evaluated = model.evaluate(x, y, batch_size=16, verbose=0)
        golden = {
            "x_shape": list(x.shape),
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
    """Every layer's (and wrapped layer's) `*_regularizer` and `*_constraint` config entries."""
    def entries(config):
        found = {k: float32(v) for k, v in config.items() if k.endswith(("_regularizer", "_constraint"))}
        for key in ("layer", "forward_layer", "backward_layer"):
            if isinstance(config.get(key), dict):
                found[key] = entries(config[key]["config"])
        return found
    return [entries(layer.get_config()) for layer in model.layers]


def check(fixture_dir, name, rkeras_model):
    expected = keras.models.load_model(os.path.join(fixture_dir, f"{name}.h5"), compile=False)
    loaded = keras.models.load_model(rkeras_model, compile=False)
    got, want = regularizer_configs(loaded), regularizer_configs(expected)
    if got != want:
        sys.exit(f"regularizer configs differ: rkeras file {got}, Keras {want}")
    print("keras regularizers ok")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2], sys.argv[3:])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4])
