"""Keras 3's decisions for EarlyStopping, ReduceLROnPlateau and ModelCheckpoint on edge-case sequences of logs.

Drives each callback's hooks on a compiled one-layer model exactly as fit does (on_train_begin, then per epoch
on_epoch_begin / on_epoch_end, stopping when model.stop_training is set, then on_train_end) and records Keras's
decisions: the epochs run and the stopped epoch (EarlyStopping), the learning rate after every epoch
(ReduceLROnPlateau, float32 as Keras stores it), the epochs saved and the verbose lines (ModelCheckpoint).

Every float is written as Python's repr in a string, so that NaN and infinities survive JSON and the Rust tests
parse the exact value.

Usage (writes crates/callbacks/tests/fixtures/keras_callback_edges.json):
    .venv-keras-bench/bin/python scripts/keras_callback_edges.py
"""

import contextlib
import io
import json
import math
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

NAN, INF = math.nan, math.inf
OUT = os.path.join(
    os.path.dirname(__file__), "..", "crates", "callbacks", "tests", "fixtures", "keras_callback_edges.json"
)

# (name, config, monitored key, values per epoch, starting rate)
EARLY = [
    ("min_delta 0.1: 0.8 -> 0.7 is a tie in float32", {"monitor": "loss", "min_delta": 0.1}, "loss",
     [0.8, 0.7, 0.6, 0.5], 0.01),
    ("a fall of 1e-8 vanishes in float32", {"monitor": "loss"}, "loss", [1.0, 0.99999999, 0.9], 0.01),
    ("a fall of 1e-7 survives float32", {"monitor": "loss"}, "loss", [1.0, 0.9999999, 0.9999998], 0.01),
    ("NaN first is the first best; nothing improves on it", {"monitor": "loss", "patience": 2}, "loss",
     [NAN, 0.5, 0.4, 0.3, 0.2], 0.01),
    ("+inf first is the first best", {"monitor": "loss", "patience": 1}, "loss", [INF, 0.5, 0.6, 0.7], 0.01),
    ("NaN later never improves", {"monitor": "loss", "patience": 1}, "loss", [0.5, NAN, 0.4, NAN, NAN], 0.01),
    ("max mode: min_delta 0.1 with 0.5 -> 0.6", {"monitor": "val_accuracy", "min_delta": 0.1},
     "val_accuracy", [0.5, 0.6, 0.71, 0.75], 0.01),
    ("max mode: -inf first", {"monitor": "val_accuracy", "patience": 1}, "val_accuracy",
     [-INF, 0.1, 0.1, 0.1], 0.01),
    ("baseline tie in float32 does not reset wait",
     {"monitor": "loss", "patience": 2, "baseline": 0.3, "min_delta": 0.1}, "loss",
     [0.5, 0.4, 0.39, 0.38, 0.2, 0.19], 0.01),
    ("start_from_epoch skips a NaN warm-up", {"monitor": "loss", "start_from_epoch": 2}, "loss",
     [NAN, NAN, 0.5, 0.5, 0.4], 0.01),
]

PLATEAU = [
    ("default min_delta 1e-4 with falls of exactly 1e-4", {"factor": 0.5, "patience": 1}, "val_loss",
     [1.0, 0.9999, 0.9998, 0.9997, 0.9996], 1.0),
    ("falls of 2e-4 improve", {"factor": 0.5, "patience": 1}, "val_loss", [1.0, 0.9998, 0.9996, 0.9994], 1.0),
    ("NaN first: the first best, no reduction at epoch 0", {"factor": 0.5, "patience": 1}, "val_loss",
     [NAN, 1.0, 0.5, 0.25], 1.0),
    ("NaN first with patience 0", {"factor": 0.5, "patience": 0}, "val_loss", [NAN, 1.0, 0.5], 1.0),
    ("+inf first is the first best", {"factor": 0.5, "patience": 0}, "val_loss", [INF, 1.0, 0.5, 0.5], 1.0),
    ("max mode: -inf first", {"factor": 0.5, "patience": 0, "mode": "max"}, "val_loss",
     [-INF, 1.0, 2.0, 2.0], 1.0),
    ("min_delta 0.1: 0.8 -> 0.7 is a tie in float32", {"factor": 0.5, "patience": 0, "min_delta": 0.1},
     "val_loss", [0.8, 0.7, 0.6], 1.0),
    ("cooldown with a tie", {"factor": 0.1, "patience": 1, "cooldown": 1}, "val_loss",
     [1.0, 0.9999, 0.9998, 0.9997, 0.9996, 0.9995], 0.1),
    ("min_lr reached in float32", {"factor": 0.3, "patience": 0, "min_lr": 0.003}, "val_loss",
     [1.0, 1.0, 1.0, 1.0, 1.0], 0.1),
]

CHECKPOINT = [
    ("NaN first is saved and nothing after", {}, "val_loss", [NAN, 0.5, 0.4], 0.01),
    ("+inf first is saved", {}, "val_loss", [INF, 0.5, 0.6, 0.4], 0.01),
    ("a fall of 1e-8 near 0.3 survives float32", {}, "val_loss", [0.3, 0.29999999, 0.2], 0.01),
    ("initial_value_threshold is the first best", {"initial_value_threshold": 0.5}, "val_loss",
     [0.6, 0.5, 0.4, 0.45], 0.01),
    ("initial_value_threshold tie in float32", {"initial_value_threshold": 0.5}, "val_loss",
     [0.49999999, 0.4], 0.01),
    ("max mode: -inf then NaN", {"mode": "max"}, "val_loss", [-INF, NAN, 0.5], 0.01),
    ("max mode: accuracy", {}, "val_accuracy", [0.5, 0.5, 0.75, 0.7], 0.01),
]


def model_for(lr):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse", metrics=["accuracy"])
    # Builds the compiled metrics, from which mode="auto" reads the direction of `accuracy`.
    model.evaluate(np.zeros((1, 1)), np.zeros((1, 1)), verbose=0)
    return model


def drive(callback, model, key, values):
    """fit's hook order; returns (epochs run, learning rate after each epoch, printed lines)."""
    callback.set_model(model)
    model.stop_training = False
    ran, rates = [], []
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        callback.on_train_begin({})
        for epoch, value in enumerate(values):
            callback.on_epoch_begin(epoch, {})
            callback.on_epoch_end(epoch, {key: value})
            ran.append(epoch)
            rates.append(float(np.float32(keras.ops.convert_to_numpy(model.optimizer.learning_rate))))
            if model.stop_training:
                break
        callback.on_train_end({})
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    return ran, rates, lines


def text(x):
    return repr(float(x))


def case(kind, name, config, key, values, lr, expected):
    return {
        "callback": kind,
        "name": name,
        "config": {k: text(v) if isinstance(v, float) else v for k, v in config.items()},
        "key": key,
        "values": [text(v) for v in values],
        "lr": text(lr),
        "expected": expected,
    }


def main():
    cases = []
    for name, config, key, values, lr in EARLY:
        cb = keras.callbacks.EarlyStopping(**config)
        ran, _, _ = drive(cb, model_for(lr), key, values)
        expected = {"epochs_run": len(ran), "stopped_epoch": cb.stopped_epoch or None}
        cases.append(case("EarlyStopping", name, config, key, values, lr, expected))
    for name, config, key, values, lr in PLATEAU:
        cb = keras.callbacks.ReduceLROnPlateau(**config)
        _, rates, _ = drive(cb, model_for(lr), key, values)
        cases.append(case("ReduceLROnPlateau", name, config, key, values, lr, {"lr": [text(r) for r in rates]}))
    for name, config, key, values, lr in CHECKPOINT:
        cb = keras.callbacks.ModelCheckpoint(
            "ck-{epoch:02d}.keras", monitor=key, save_best_only=True, verbose=1, **config
        )
        model = model_for(lr)
        saved = []
        model.save = lambda filepath, overwrite=True, saved=saved: saved.append(filepath)
        _, _, lines = drive(cb, model, key, values)
        decisions = [line for line in lines if "improve" in line]
        cases.append(
            case(
                "ModelCheckpoint",
                name,
                config,
                key,
                values,
                lr,
                {"saved": [int(p[3:5]) - 1 for p in saved], "messages": decisions},
            )
        )
    doc = {
        "source": "scripts/keras_callback_edges.py",
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases -> {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
