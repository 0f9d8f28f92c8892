"""The timing harness the Keras benchmarks share (benches/keras_mnist.py, keras_transformer.py,
keras_reuters_rnn.py): their common flags, Keras set up on the requested threads and seed, and a fit timed per
epoch whose summary (throughput the median epoch after the first, validation included, in samples per
wall-clock second and per CPU-second of all threads) is written as `rkeras-bench` writes its own.
"""
import argparse
import json
import statistics
import time


def parser(batch_size=32):
    """The flags every benchmark takes: --epochs, --batch-size, --seed, --threads, --summary-json."""
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--summary-json", required=True)
    return p


def setup_keras(args):
    """Keras on the backend in KERAS_BACKEND, TensorFlow limited to --threads, seeded with --seed."""
    import keras
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    return keras


def timed_fit(model, x, y, validation_data, args, name):
    """Fits the compiled `model` for --epochs with --batch-size, timing each epoch, and writes the summary JSON."""
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs, self.cpu = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.start, self.cpu_start = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(time.perf_counter() - self.start)
            self.cpu.append(time.process_time() - self.cpu_start)

    timer = Timer()
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=validation_data, callbacks=[timer], verbose=0)
    summary = {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "model": name,
        "params": model.count_params(),
        "train_samples": len(x),
        "epoch_seconds": timer.epochs,
        "train_samples_per_sec": len(x) / statistics.median(timer.epochs[1:] or timer.epochs),
        # CPU time (all threads) per epoch: on a busy machine, samples per CPU-second measure the cost of
        # training where wall time mostly measures the share of the cores the process got.
        "epoch_cpu_seconds": timer.cpu,
        "train_samples_per_cpu_sec": len(x) / statistics.median(timer.cpu[1:] or timer.cpu),
        "history": [dict(zip(history.history, values)) for values in zip(*history.history.values())],
    }
    with open(args.summary_json, "w") as f:
        json.dump(summary, f, indent=1, default=float)
