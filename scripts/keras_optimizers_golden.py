"""Golden numbers of Keras 3.15's optimizers and learning-rate schedules for crates/optim (AdamW, Nadam, Adamax, Lion,
Ftrl; weight decay, EMA, gradient accumulation; every schedule;
`exclude_from_weight_decay` on a Dense layer's kernel and bias). Each optimizer case runs `steps` update steps on two
variables with fixed gradients and records the weights after each step, every optimizer variable at the end (path and
value), the weights after `finalize_variable_values` and the config. Each schedule case records its value at many steps.
Run: .venv-keras-bench/bin/python scripts/keras_optimizers_golden.py
Writes crates/optim/tests/fixtures/keras_optimizers.json.
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras
import numpy as np

O = keras.optimizers
S = keras.optimizers.schedules

rng = np.random.default_rng(17)
W0 = [rng.normal(size=(3,)).astype("float32"), rng.normal(size=(2, 2)).astype("float32")]
GRADS = [[rng.normal(size=w.shape).astype("float32") for w in W0] for _ in range(8)]

CASES = [
    ("adamw_default", lambda: O.AdamW(learning_rate=0.01), 5),
    ("adamw_amsgrad", lambda: O.AdamW(learning_rate=0.01, weight_decay=0.1, amsgrad=True), 5),
    ("nadam", lambda: O.Nadam(learning_rate=0.01), 5),
    ("nadam_weight_decay", lambda: O.Nadam(learning_rate=0.01, weight_decay=0.05, beta_1=0.8), 5),
    ("adamax", lambda: O.Adamax(learning_rate=0.01), 5),
    ("adamax_weight_decay", lambda: O.Adamax(learning_rate=0.02, beta_2=0.9, weight_decay=0.1), 5),
    ("lion", lambda: O.Lion(learning_rate=0.01), 5),
    ("lion_weight_decay", lambda: O.Lion(learning_rate=0.01, beta_1=0.5, beta_2=0.8, weight_decay=0.2), 5),
    ("ftrl_default", lambda: O.Ftrl(learning_rate=0.1), 5),
    ("ftrl_regularized", lambda: O.Ftrl(learning_rate=0.1, learning_rate_power=-0.3, initial_accumulator_value=0.2,
                                        l1_regularization_strength=0.05, l2_regularization_strength=0.1,
                                        l2_shrinkage_regularization_strength=0.02, beta=0.3), 5),
    ("adam_ema", lambda: O.Adam(learning_rate=0.01, use_ema=True, ema_momentum=0.9), 5),
    ("adam_ema_overwrite", lambda: O.Adam(learning_rate=0.01, use_ema=True, ema_momentum=0.8,
                                          ema_overwrite_frequency=2), 5),
    ("sgd_accumulation", lambda: O.SGD(learning_rate=0.1, momentum=0.9, gradient_accumulation_steps=2), 6),
    ("adam_accumulation_ema_decay", lambda: O.Adam(learning_rate=0.01, gradient_accumulation_steps=3, use_ema=True,
                                                   weight_decay=0.1), 7),
    ("rmsprop_weight_decay", lambda: O.RMSprop(learning_rate=0.01, weight_decay=0.1), 5),
    ("adam_exponential_decay", lambda: O.Adam(learning_rate=S.ExponentialDecay(0.1, 2, 0.5, staircase=True)), 5),
    ("sgd_cosine_decay", lambda: O.SGD(learning_rate=S.CosineDecay(0.1, 4, alpha=0.1, warmup_target=0.2,
                                                                    warmup_steps=2), weight_decay=0.1), 8),
]


def floats(a):
    return np.asarray(a, dtype="float64").ravel().tolist()


def run(name, make, steps):
    opt = make()
    ws = [keras.Variable(w.copy(), name=f"w{i}") for i, w in enumerate(W0)]
    history = []
    for step in range(steps):
        opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in GRADS[step]], ws))
        history.append([floats(w) for w in ws])
    variables = [{"path": v.path, "value": floats(v)} for v in opt.variables]
    lr_now = float(np.asarray(opt.learning_rate))
    opt.finalize_variable_values(ws)
    config = opt.get_config()
    return {"name": name, "class_name": type(opt).__name__, "config": config, "steps": steps,
            "history": history, "variables": variables, "learning_rate": lr_now,
            "finalized": [floats(w) for w in ws]}


EXCLUSION_CASES = [
    # On the TensorFlow backend Keras matches the tf.Variable's name, the path ("dense/kernel"): "dense" excludes
    # both weights (the JAX backend matches only "kernel").
    ("adamw_exclude_bias", lambda: O.AdamW(learning_rate=0.01, weight_decay=0.2), ["bias"], 5),
    ("adamw_exclude_layer_name", lambda: O.AdamW(learning_rate=0.01, weight_decay=0.2), ["dense"], 3),
    ("sgd_exclude_regex", lambda: O.SGD(learning_rate=0.1, momentum=0.5, weight_decay=0.3), ["/ker", "zzz"], 3),
]


def run_exclusion(name, make, var_names, steps):
    """A Dense layer's kernel and bias stepped with fixed gradients after `exclude_from_weight_decay(var_names)`."""
    erng = np.random.default_rng(4)
    layer = keras.layers.Dense(3, name="dense")
    layer.build((None, 2))
    ws = [layer.kernel, layer.bias]
    initial = [erng.normal(size=w.shape).astype("float32") for w in ws]
    for w, value in zip(ws, initial):
        w.assign(value)
    grads = [[erng.normal(size=w.shape).astype("float32") for w in ws] for _ in range(steps)]
    opt = make()
    opt.exclude_from_weight_decay(var_names=var_names)
    history = []
    for step in range(steps):
        opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads[step]], ws))
        history.append([floats(w) for w in ws])
    return {"name": name, "class_name": type(opt).__name__, "config": opt.get_config(), "var_names": var_names,
            "variable_names": [w.name for w in ws], "variable_paths": [w.path for w in ws],
            "shapes": [list(w.shape) for w in ws], "initial": [floats(w) for w in initial],
            "gradients": [[floats(g) for g in gs] for gs in grads], "history": history}


SCHEDULES = [
    S.ExponentialDecay(0.1, 3, 0.7),
    S.ExponentialDecay(0.1, 3, 0.7, staircase=True),
    S.PiecewiseConstantDecay([3, 7], [1.0, 0.5, 0.1]),
    S.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0),
    S.PolynomialDecay(0.1, 4, end_learning_rate=0.01, power=0.5, cycle=True),
    S.InverseTimeDecay(0.1, 2, 0.5),
    S.InverseTimeDecay(0.1, 2, 0.5, staircase=True),
    S.CosineDecay(0.1, 10),
    S.CosineDecay(0.1, 10, alpha=0.2),
    S.CosineDecay(0.0, 8, alpha=0.1, warmup_target=0.2, warmup_steps=4),
    S.CosineDecayRestarts(0.1, 3),
    S.CosineDecayRestarts(0.1, 3, t_mul=1.5, m_mul=0.8, alpha=0.1),
]


def schedule_case(s):
    steps = list(range(0, 25))
    return {"class_name": type(s).__name__, "config": s.get_config(),
            "serialized": keras.optimizers.schedules.serialize(s),
            "steps": steps, "values": [float(np.asarray(s(step))) for step in steps]}


out = {
    "initial": [floats(w) for w in W0],
    "shapes": [list(w.shape) for w in W0],
    "gradients": [[floats(g) for g in gs] for gs in GRADS],
    "optimizers": [run(*case) for case in CASES],
    "schedules": [schedule_case(s) for s in SCHEDULES],
    "defaults": {cls: getattr(O, cls)().get_config() for cls in ["AdamW", "Nadam", "Adamax", "Lion", "Ftrl"]},
    "exclusions": [run_exclusion(*case) for case in EXCLUSION_CASES],
}
path = os.path.join(os.path.dirname(__file__), "..", "crates", "optim", "tests", "fixtures", "keras_optimizers.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
