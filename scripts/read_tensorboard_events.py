"""Reads a TensorBoard log directory with TensorBoard's own reader (event_accumulator) and prints, as JSON, every
run's tensors: {"train": {"epoch_loss": [[step, value], ...], "d/kernel/histogram": [[step, [[l, r, n], ...]]],
...}, "validation": {...}}, plus each tag's plugin name under "plugins".

Run: python scripts/read_tensorboard_events.py LOG_DIR
"""
import json
import os
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

log_dir = sys.argv[1]
out = {}
plugins = {}
for run in sorted(os.listdir(log_dir)):
    acc = event_accumulator.EventAccumulator(
        os.path.join(log_dir, run), size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    tags = {}
    for tag in acc.Tags()["tensors"]:
        plugins[tag] = acc.SummaryMetadata(tag).plugin_data.plugin_name
        values = []
        for event in acc.Tensors(tag):
            array = tensor_util.make_ndarray(event.tensor_proto)
            if array.dtype == object:
                value = [v.decode() for v in array.reshape(-1)]
            else:
                value = array.tolist()
            values.append([event.step, value])
        tags[tag] = values
    out[run] = tags
out["plugins"] = plugins
print(json.dumps(out))
