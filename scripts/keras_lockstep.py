"""Keras's training trajectory without randomness: the fixture's trained weights, dropout off, no shuffling.

Usage: python3 scripts/keras_lockstep.py FIXTURE_DIR EPOCHS OUT.json   (KERAS_BACKEND=jax for JAX)

Loads FIXTURE_DIR/model.h5 (the memory network Keras trained on FIXTURE_DIR/data), sets every Dropout's rate
to 0, compiles a fresh RMSprop, trains EPOCHS epochs in file order (batch 32) validating on the test split,
and writes each epoch's logs and the final weights' sums. crates/engine/tests/keras_lockstep.rs holds the
figures this printed and trains rkeras the same way.
"""
import glob, json, os, re, sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import keras

fixture, epochs, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def tokenize(sentence):
    return [t.strip() for t in re.split(r"(\W+)", sentence) if t.strip()]


def parse(path):
    data, story = [], []
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        nid, line = line.split(" ", 1)
        if int(nid) == 1:
            story = []
        if "\t" in line:
            question, answer, _ = line.split("\t")
            data.append(([t for s in story for t in s], tokenize(question), answer))
        else:
            story.append(tokenize(line))
    return data


[train_path] = glob.glob(f"{fixture}/data/qa1_*_train.txt")
[test_path] = glob.glob(f"{fixture}/data/qa1_*_test.txt")
train, test = parse(train_path), parse(test_path)
vocab = sorted(set(t for s, q, a in train + test for t in s + q + [a]))
index = {w: i + 1 for i, w in enumerate(vocab)}
story_len = max(len(s) for s, _, _ in train + test)
query_len = max(len(q) for _, q, _ in train + test)


def vectorize(data):
    pad = keras.utils.pad_sequences
    stories = pad([[index[w] for w in s] for s, _, _ in data], maxlen=story_len)
    queries = pad([[index[w] for w in q] for _, q, _ in data], maxlen=query_len)
    return [stories, queries], np.array([index[a] for _, _, a in data])


x_train, y_train = vectorize(train)
x_test, y_test = vectorize(test)
model = keras.models.load_model(f"{fixture}/model.h5", compile=False)
for layer in model.layers:
    if isinstance(layer, keras.layers.Dropout):
        layer.rate = 0.0
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, shuffle=False, verbose=0,
                    validation_data=(x_test, y_test))
result = {
    "backend": keras.backend.backend(),
    "keras": keras.__version__,
    "epochs": [{k: float(v[i]) for k, v in history.history.items()} for i in range(epochs)],
    "weight_sums": {w.path: float(np.asarray(w).astype("float64").sum()) for w in model.weights},
}
json.dump(result, open(out_path, "w"), indent=1)
print(json.dumps(result, indent=1))
