"""Writes crates/callbacks/tests/fixtures/tensorboard/: a small event file written by Keras 3's TensorBoard
callback (TensorFlow backend) and the scalars TensorBoard's own reader finds in it, for the pure-Rust test of
the record framing and event decoding.

Run: KERAS_BACKEND=tensorflow python scripts/make_tensorboard_fixture.py (needs tensorflow and tensorboard).
"""
import glob
import json
import os
import shutil
import struct
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from tensorboard.backend.event_processing import event_file_loader  # noqa: E402

out = os.path.join(os.path.dirname(__file__), "..", "crates/callbacks/tests/fixtures/tensorboard")
os.makedirs(out, exist_ok=True)
keras.utils.set_random_seed(1)
x = np.random.rand(32, 3).astype("float32")
y = (x.sum(1) > 1.5).astype("float32")
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
with tempfile.TemporaryDirectory() as logs:
    model.fit(x, y, batch_size=8, epochs=2, validation_split=0.25, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(logs, write_graph=False)])
    [source] = glob.glob(os.path.join(logs, "validation", "events.out.tfevents.*"))
    shutil.copy(source, os.path.join(out, "keras_validation.tfevents"))
scalars = []
for event in event_file_loader.LegacyEventFileLoader(os.path.join(out, "keras_validation.tfevents")).Load():
    for value in event.summary.value:
        (number,) = struct.unpack("<f", value.tensor.tensor_content)
        scalars.append([value.tag, event.step, number])
with open(os.path.join(out, "keras_validation.json"), "w") as f:
    json.dump({"keras": keras.__version__, "scalars": scalars}, f, indent=1)
print("wrote", len(scalars), "scalars", file=sys.stderr)
