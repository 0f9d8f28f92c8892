"""Checks that Keras 3 reads the optimizer state of rkeras-written files slot by slot.

For each optimizer NAME, DIR holds NAME.keras and NAME.h5 (the same trained model, saved by rkeras) and NAME.json,
rkeras's optimizer state: `iterations`, `learning_rate`, and `slots`, a list of {param, slot, values} where `param`
is the index of the trainable weight. Keras loads both files (`keras.models.load_model` for `.keras`; for `.h5`, the
steps of Keras's legacy reader, which assigns `optimizer_weights` to `optimizer.variables` by position) and
every one of its optimizer variables must hold rkeras's value exactly (float32 bits): the iteration counter, the
learning rate, each slot of each weight (found by Keras's own variable path, `adam/<weight path>_momentum`), and
Nadam's `u_product` (`u_product` in NAME.json). A slot swapped between two weights of the same shape, a missing or an extra variable fails.

    KERAS_BACKEND=jax python scripts/keras_optimizer_state_golden.py check DIR NAME [NAME ...]

Prints `optimizer state ok` when every file passes. Run by crates/engine/tests/optimizer_state_files.rs.
"""
import json
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402


def load_legacy_h5(path):
    """Keras 3.15's `load_model_from_hdf5` optimizer restore, step by step: compile with the file's optimizer,
    build it on the trainable variables, `set_weights` the `optimizer_weights` by position. (Keras's
    `load_model` of a compiled `.h5` stops earlier, deserializing a loss given by name such as "mse".)"""
    model = keras.models.load_model(path, compile=False)
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["training_config"])
        optimizer = keras.optimizers.deserialize(config["optimizer_config"])
        model.compile(optimizer, "mse")
        optimizer.build(model.trainable_variables)
        optimizer.set_weights(legacy_h5_format.load_optimizer_weights_from_hdf5_group(f))
    return model


def check_file(path, state):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_legacy_h5(path) if path.endswith(".h5") else keras.models.load_model(path)
    opt = model.optimizer
    by_path = {v.path: v for v in opt.variables}
    problems = []
    if len(opt.variables) != 2 + len(state["slots"]) + (1 if opt.name.startswith("nadam") else 0):
        problems.append(f"Keras's optimizer has {len(opt.variables)} variables: {list(by_path)}")
    if int(opt.iterations) != state["iterations"]:
        problems.append(f"iterations {int(opt.iterations)} != {state['iterations']}")
    lr = np.float32(np.asarray(opt.learning_rate))
    if lr != np.float32(state["learning_rate"]):
        problems.append(f"learning rate {lr} != {state['learning_rate']}")
    params = model.trainable_variables
    for slot in state["slots"]:
        key = f"{opt.name}/{params[slot['param']].path.replace('/', '_')}_{slot['slot']}"
        variable = by_path.get(key)
        if variable is None:
            problems.append(f"no Keras variable {key}")
            continue
        got = np.asarray(variable, dtype="float32").reshape(-1)
        want = np.asarray(slot["values"], dtype="float32")
        if got.shape != want.shape or not np.array_equal(got.view("uint32"), want.view("uint32")):
            problems.append(f"{key}: Keras holds {got[:4]}..., rkeras {want[:4]}...")
    if opt.name.startswith("nadam"):
        u = [v for v in opt.variables if v.path.split("/")[-1].startswith("variable")]
        want = np.float32(state["u_product"])
        if len(u) != 1 or np.float32(np.asarray(u[0])) != want:
            problems.append(f"u_product {[np.asarray(v) for v in u]} != {want}")
    notes = [str(w.message) for w in caught if "optimizer" in str(w.message).lower()]
    return [f"{path}: {p}" for p in problems + notes]


def main():
    if len(sys.argv) < 4 or sys.argv[1] != "check":
        sys.exit(__doc__)
    directory, names = sys.argv[2], sys.argv[3:]
    problems = []
    for name in names:
        with open(os.path.join(directory, f"{name}.json")) as f:
            state = json.load(f)
        for ext in ("keras", "h5"):
            problems += check_file(os.path.join(directory, f"{name}.{ext}"), state)
    if problems:
        sys.exit("\n".join(problems))
    print("optimizer state ok")


if __name__ == "__main__":
    main()
