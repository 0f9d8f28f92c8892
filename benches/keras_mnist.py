"""Keras's classic MNIST convnet (or MLP) trained with Keras 3 on the backend in KERAS_BACKEND, timed as
rkeras-bench times its `cnn` / `mnist-mlp` workloads: the first --train-samples training images, validation on
the first --validation-samples test images, throughput the median epoch after the first (validation included),
in samples per wall-clock second and per CPU-second (all threads).

    KERAS_BACKEND=jax .venv-keras-bench/bin/python benches/keras_mnist.py --model cnn \
        --data ../shared/datasets/mnist --epochs 3 --summary-json out.json
"""
import gzip, os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_timing import parser, setup_keras, timed_fit  # noqa: E402


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    p = parser(batch_size=128)
    p.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    p.add_argument("--data", required=True)
    p.add_argument("--train-samples", type=int, default=3840)
    p.add_argument("--validation-samples", type=int, default=1000)
    args = p.parse_args()
    keras = setup_keras(args)
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

    timed_fit(model, x_train, y_train, (x_val, y_val), args, args.model)


if __name__ == "__main__":
    main()
