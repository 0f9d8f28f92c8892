"""Keras's classic MNIST convnet (or MLP) trained with Keras 3 on the backend in KERAS_BACKEND, timed as
rkeras-bench times its `cnn` / `mnist-mlp` workloads: the first --train-samples training images, validation on
the first --validation-samples test images, throughput the median epoch after the first (validation included),
in samples per wall-clock second and per CPU-second (all threads).

    KERAS_BACKEND=jax /work/venv-keras/bin/python benches/keras_mnist.py --model cnn \
        --data ../shared/datasets/mnist --epochs 3 --summary-json out.json
"""
import argparse, gzip, json, os, statistics, time

import numpy as np


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--train-samples", type=int, default=3840)
    p.add_argument("--validation-samples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--summary-json", required=True)
    args = p.parse_args()

    import keras
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    layers = keras.layers

    def split(prefix, n):
        x = read_idx(os.path.join(args.data, f"{prefix}-images-idx3-ubyte.gz"))[:n].astype("float32") / 255
        y = read_idx(os.path.join(args.data, f"{prefix}-labels-idx1-ubyte.gz"))[:n].astype("int32")
        return (x.reshape(len(x), 784) if args.model == "mlp" else x[..., None]), y

    x_train, y_train = split("train", args.train_samples)
    x_val, y_val = split("t10k", args.validation_samples)
    if args.model == "cnn":
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ])
        optimizer = keras.optimizers.Adadelta(learning_rate=1.0)
    else:
        model = keras.Sequential([
            keras.Input((784,)),
            layers.Dense(512, activation="relu"), layers.Dropout(0.2),
            layers.Dense(512, activation="relu"), layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ])
        optimizer = keras.optimizers.RMSprop()
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])

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
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_val, y_val), callbacks=[timer], verbose=0)
    steady = timer.epochs[1:] or timer.epochs
    summary = {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "model": args.model,
        "params": model.count_params(),
        "train_samples": len(x_train),
        "epoch_seconds": timer.epochs,
        "train_samples_per_sec": len(x_train) / statistics.median(steady),
        # CPU time (all threads) per epoch: on a busy machine, samples per CPU-second measure the cost of
        # training where wall time mostly measures the share of the cores the process got.
        "epoch_cpu_seconds": timer.cpu,
        "train_samples_per_cpu_sec": len(x_train) / statistics.median(timer.cpu[1:] or timer.cpu),
        "history": [dict(zip(history.history, values)) for values in zip(*history.history.values())],
    }
    with open(args.summary_json, "w") as f:
        json.dump(summary, f, indent=1, default=float)


if __name__ == "__main__":
    main()
