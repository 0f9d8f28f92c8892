"""Golden data from Keras 3 for rkeras's Attention, AdditiveAttention and EinsumDense layers.

Writes crates/layers/tests/fixtures/attention_golden.json (small, committed, so the Rust tests run without
Python): per case, Keras's class and config, the call options (`use_causal_mask`, `return_attention_scores`,
explicit `[query_mask, value_mask]`), the inputs, the weights (set to random values) and Keras's outputs.

Usage: KERAS_BACKEND=jax .venv-keras/bin/python scripts/keras_attention_golden.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "crates/layers/tests/fixtures")


def arr(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def rand(rng, shape, scale=1.0):
    return rng.uniform(-scale, scale, size=shape).astype(np.float32)


def set_weights(rng, layer):
    for w in layer.weights:
        w.assign(rand(rng, w.shape) + (1.0 if len(w.shape) == 0 else 0.0))
    return [{"name": w.name, **arr(w)} for w in layer.weights]


def attention_case(rng, name, layer, tq, tv, dim, key=False, masks=False, causal=False, scores=False):
    q = rand(rng, (2, tq, dim), 1.5)
    v = rand(rng, (2, tv, dim), 1.5)
    inputs = [q, v]
    if key:
        inputs.append(rand(rng, (2, tv, dim), 1.5))
    mask = None
    case_masks = None
    if masks:
        qm = np.ones((2, tq), dtype=bool)
        qm[0, -1] = False
        vm = np.ones((2, tv), dtype=bool)
        vm[1, -2:] = False
        mask = [qm, vm]
        case_masks = [arr(qm), arr(vm)]
    layer.build([x.shape for x in inputs])
    weights = set_weights(rng, layer)
    result = layer(inputs, mask=mask, use_causal_mask=causal, return_attention_scores=scores)
    out, att = (result if scores else (result, None))
    case = {
        "name": name,
        "class": layer.__class__.__name__,
        "config": layer.get_config(),
        "inputs": [arr(x) for x in inputs],
        "masks": case_masks,
        "use_causal_mask": causal,
        "return_attention_scores": scores,
        "weights": weights,
        "output": arr(out),
    }
    if scores:
        case["scores"] = arr(att)
    return case


def einsum_case(rng, name, layer, input_shape):
    x = rand(rng, (2, *input_shape), 1.5)
    layer.build(x.shape)
    weights = set_weights(rng, layer)
    return {
        "name": name,
        "class": "EinsumDense",
        "config": layer.get_config(),
        "inputs": [arr(x)],
        "masks": None,
        "weights": weights,
        "output": arr(layer(x)),
    }


def main():
    rng = np.random.default_rng(0)
    L = keras.layers
    cases = [
        attention_case(rng, "dot", L.Attention(), 3, 4, 5),
        attention_case(rng, "dot_scale_key", L.Attention(use_scale=True), 3, 4, 5, key=True),
        attention_case(rng, "dot_masks_scores", L.Attention(), 4, 5, 3, masks=True, scores=True),
        attention_case(rng, "dot_causal", L.Attention(use_scale=True), 4, 4, 3, causal=True, scores=True),
        attention_case(rng, "dot_causal_masks", L.Attention(), 4, 4, 3, masks=True, causal=True),
        attention_case(rng, "concat", L.Attention(score_mode="concat"), 3, 4, 5),
        attention_case(rng, "concat_scale_masks", L.Attention(score_mode="concat", use_scale=True, dropout=0.1),
                       4, 5, 3, key=True, masks=True, scores=True),
        attention_case(rng, "additive", L.AdditiveAttention(), 3, 4, 5),
        attention_case(rng, "additive_noscale", L.AdditiveAttention(use_scale=False), 3, 4, 5, key=True),
        attention_case(rng, "additive_masks_causal", L.AdditiveAttention(dropout=0.2), 4, 4, 3, masks=True,
                       causal=True, scores=True),
        einsum_case(rng, "ab_bc", L.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c"), (3,)),
        einsum_case(rng, "abc_cd", L.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d",
                                                 activation="tanh"), (5, 3)),
        einsum_case(rng, "abc_cde", L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de"),
                    (5, 3)),
        einsum_case(rng, "abcd_cde", L.EinsumDense("abcd,cde->abe", output_shape=(None, 4), bias_axes="e"),
                    (5, 2, 3)),
        einsum_case(rng, "abc_cd_nobias", L.EinsumDense("abc,cd->abd", output_shape=(5, 4)), (5, 3)),
        einsum_case(rng, "abc_cd_bias_b", L.EinsumDense("abc,cd->abd", output_shape=(5, 4), bias_axes="b"),
                    (5, 3)),
        einsum_case(rng, "abc_bcd_transpose", L.EinsumDense("abc,cd->adb", output_shape=(4, 5), bias_axes="d"),
                    (5, 3)),
        einsum_case(rng, "ellipsis", L.EinsumDense("...b,bc->...c", output_shape=4, bias_axes="c"), (5, 3)),
    ]
    os.makedirs(FIXTURES, exist_ok=True)
    with open(os.path.join(FIXTURES, "attention_golden.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "cases": cases}, f)
    for c in cases:
        print(c["name"], json.dumps(c["config"]))


if __name__ == "__main__":
    main()
