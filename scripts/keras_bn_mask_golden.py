"""Golden data from Keras 3 for BatchNormalization with a mask (batch moments over the unmasked positions).

Writes crates/engine/tests/fixtures/bn_mask_golden.json:
- "layer": a BatchNormalization(momentum=0.7) called with training=True and a [batch, steps] mask on a
  [batch, steps, features] input (one sample wholly masked): Keras's output, the moving statistics after the
  call, and the gradients of sum(output * r) for the input, gamma and beta (jax.grad through stateless_call);
- "fit": Embedding(12, 4, mask_zero=True) -> BatchNormalization(momentum=0.8) -> GlobalAveragePooling1D ->
  Dense(3, softmax) trained by SGD(0.1) for two steps of 4 id sequences padded with zeros: the initial
  weights, the data, every weight after each step (moving statistics included) and the losses.

Usage: KERAS_BACKEND=jax .venv-keras/bin/python scripts/keras_bn_mask_golden.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURE = os.path.join(ROOT, "crates/engine/tests/fixtures/bn_mask_golden.json")


def arr(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def rand(rng, shape, scale=1.0, shift=0.0):
    return (rng.uniform(-scale, scale, size=shape) + shift).astype(np.float32)


def layer_case(rng):
    x = rand(rng, (4, 5, 3), 2.0, 0.5)
    mask = rng.uniform(size=(4, 5)) > 0.35
    mask[2] = False
    r = rand(rng, x.shape)
    bn = keras.layers.BatchNormalization(momentum=0.7)
    bn.build(x.shape)
    for w in bn.weights:
        w.assign(rng.uniform(0.5, 2.0, size=w.shape).astype(np.float32) if "variance" in w.path else rand(rng, w.shape))
    weights = [{"name": w.name, **arr(w)} for w in bn.weights]
    trainable = [v.value for v in bn.trainable_variables]
    non_trainable = [v.value for v in bn.non_trainable_variables]

    def loss(trainable, x):
        y, _ = bn.stateless_call(trainable, non_trainable, x, training=True, mask=jnp.asarray(mask))
        return jnp.sum(y * r)

    (d_trainable, d_x) = jax.grad(loss, argnums=(0, 1))(trainable, jnp.asarray(x))
    out = bn(x, training=True, mask=mask)
    return {
        "input": arr(x),
        "mask": arr(mask.astype(np.float32)),
        "r": arr(r),
        "config": bn.get_config(),
        "weights": weights,
        "training_output": arr(out),
        "weights_after_training_call": [{"name": w.name, **arr(w)} for w in bn.weights],
        "grad_input": arr(d_x),
        "grad_gamma": arr(d_trainable[0]),
        "grad_beta": arr(d_trainable[1]),
    }


def fit_case(rng):
    ids = np.zeros((8, 6), dtype=np.int32)
    for n in range(8):
        for t in range(6):
            if t >= n % 4 and (t + n) % 5 != 0:
                ids[n, t] = (n * 7 + t * 3) % 11 + 1
    y = np.array([n % 3 for n in range(8)], dtype=np.int32)
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((6,)),
            L.Embedding(12, 4, mask_zero=True),
            L.BatchNormalization(momentum=0.8),
            L.GlobalAveragePooling1D(),
            L.Dense(3, activation="softmax"),
        ]
    )
    for w in model.weights:
        w.assign(rng.uniform(0.5, 2, size=w.shape).astype(np.float32) if "variance" in w.path else rand(rng, w.shape))
    initial = [arr(w) for w in model.weights]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    steps = []
    for step in range(2):
        batch = slice(4 * step, 4 * step + 4)
        loss = model.train_on_batch(ids[batch], y[batch])
        steps.append({"loss": float(loss), "weights": [arr(w) for w in model.weights]})
    return {
        "x": arr(ids),
        "y": arr(y),
        "weight_names": [w.path for w in model.weights],
        "initial": initial,
        "steps": steps,
    }


def main():
    rng = np.random.default_rng(15)
    golden = {"keras_version": keras.__version__, "layer": layer_case(rng), "fit": fit_case(rng)}
    with open(FIXTURE, "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    main()
