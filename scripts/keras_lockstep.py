"""Keras's training trajectory without randomness, to compare with rkeras's step by step.

Usage (KERAS_BACKEND=jax for JAX; TensorFlow otherwise):
  python3 scripts/keras_lockstep.py --data DIR --weights MODEL.h5 --epochs 3 --out OUT.json
  python3 scripts/keras_lockstep.py --data DIR --seed 1 --save-initial INIT.h5 --epochs 120 --out OUT.json

DIR holds qa1_*_train.txt and qa1_*_test.txt. The model is Keras's bAbI memory network, started either from
MODEL.h5 (a Keras model of that network) or from Keras's initial weights for SEED, which are saved to INIT.h5 so
that rkeras can start from them (`babi_memnn --initial-weights INIT.h5 --dropout 0 --no-shuffle`). Every
Dropout's rate is set to 0, a fresh RMSprop is compiled, and the network trains in file order (batch 32),
validating on the test split. OUT.json gets each epoch's logs and the final weights' sums;
crates/engine/tests/keras_lockstep.rs holds what this printed for the shared fixture
(`--data ../shared/fixtures/keras_memnn_qa1/data --weights ../shared/fixtures/keras_memnn_qa1/model.h5 --epochs 3`).
"""
import argparse, json, os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import keras
from keras import layers

from babi_stories import read_task

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--weights")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--save-initial")
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--out", required=True)
a = ap.parse_args()
keras.utils.set_random_seed(a.seed)


train, test = read_task(a.data, "qa1", "train"), read_task(a.data, "qa1", "test")
vocab = sorted(set(t for s, q, ans in train + test for t in s + q + [ans]))
index = {w: i + 1 for i, w in enumerate(vocab)}
story_len = max(len(s) for s, _, _ in train + test)
query_len = max(len(q) for _, q, _ in train + test)


def vectorize(data):
    pad = keras.utils.pad_sequences
    stories = pad([[index[w] for w in s] for s, _, _ in data], maxlen=story_len)
    queries = pad([[index[w] for w in q] for _, q, _ in data], maxlen=query_len)
    return [stories, queries], np.array([index[ans] for _, _, ans in data])


def memory_network():
    """The Keras example's network, built as ../shared/ref/keras_babi_memnn.py builds it."""
    vocab_size = len(vocab) + 1
    story = keras.Input((story_len,))
    question = keras.Input((query_len,))
    m = layers.Dropout(0.3)(layers.Embedding(vocab_size, 64)(story))
    c = layers.Dropout(0.3)(layers.Embedding(vocab_size, query_len)(story))
    u = layers.Dropout(0.3)(layers.Embedding(vocab_size, 64)(question))
    match = layers.Activation("softmax")(layers.dot([m, u], axes=(2, 2)))
    response = layers.Permute((2, 1))(layers.add([match, c]))
    answer = layers.Dropout(0.3)(layers.LSTM(32)(layers.concatenate([response, u])))
    answer = layers.Activation("softmax")(layers.Dense(vocab_size)(answer))
    return keras.Model([story, question], answer)


x_train, y_train = vectorize(train)
x_test, y_test = vectorize(test)
model = keras.models.load_model(a.weights, compile=False) if a.weights else memory_network()
for layer in model.layers:
    if isinstance(layer, layers.Dropout):
        layer.rate = 0.0
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
if a.save_initial:
    model.save(a.save_initial)
history = model.fit(x_train, y_train, batch_size=32, epochs=a.epochs, shuffle=False, verbose=0,
                    validation_data=(x_test, y_test))
result = {
    "backend": keras.backend.backend(),
    "keras": keras.__version__,
    "epochs": [{k: float(v[i]) for k, v in history.history.items()} for i in range(a.epochs)],
    "weight_sums": {w.path: float(np.asarray(w).astype("float64").sum()) for w in model.weights},
}
json.dump(result, open(a.out, "w"), indent=1)
print(json.dumps(result["epochs"][-1]), json.dumps(result["weight_sums"]))
