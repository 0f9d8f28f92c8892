"""Keras's second bAbI example (babi_rnn.py) in Keras 3, the twin of examples/babi_rnn.rs, to run Keras itself on
the same files: the story embedded (50) with Dropout 0.3; the question embedded (50), Dropout 0.3, LSTM(50),
RepeatVector(story length); the two added; LSTM(50); Dropout 0.3; Dense softmax over the vocabulary; Adam,
categorical cross-entropy on one-hot answers, batch 32, 40 epochs, validation_split=0.05; then the test split.
Tokenisation and vectorisation as ../shared/ref/keras_babi_memnn.py (words plus "." and "?", padded in front).

    KERAS_BACKEND=tensorflow .venv-keras-bench/bin/python scripts/keras_babi_rnn.py \
        --data ../shared/datasets/babi/tasks_1-20_v1-2/en --task qa1 --summary-json keras_qa1.json
"""
import argparse, json, os, time

from babi_stories import read_task


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--task", default="qa1")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--summary-json")
    a = ap.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import keras
    from keras import layers

    backend_name = keras.backend.backend()
    if backend_name == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(a.seed)

    train, test = read_task(a.data, a.task, "train"), read_task(a.data, a.task, "test")
    vocab = sorted(set(t for s, q, ans in train + test for t in s + q + [ans]))
    idx = {w: i + 1 for i, w in enumerate(vocab)}
    vocab_size = len(vocab) + 1
    story_maxlen = max(len(s) for s, _, _ in train + test)
    query_maxlen = max(len(q) for _, q, _ in train + test)

    def vectorize(data):
        pad = keras.utils.pad_sequences
        xs = pad([[idx[w] for w in s] for s, _, _ in data], maxlen=story_maxlen)
        xq = pad([[idx[w] for w in q] for _, q, _ in data], maxlen=query_maxlen)
        y = np.zeros((len(data), vocab_size), dtype="float32")
        for i, (_, _, ans) in enumerate(data):
            y[i, idx[ans]] = 1.0
        return xs, xq, y

    xs_tr, xq_tr, y_tr = vectorize(train)
    xs_te, xq_te, y_te = vectorize(test)

    embed = 50
    sentence = keras.Input((story_maxlen,), dtype="int32")
    encoded_sentence = layers.Dropout(0.3)(layers.Embedding(vocab_size, embed)(sentence))
    question = keras.Input((query_maxlen,), dtype="int32")
    encoded_question = layers.Dropout(0.3)(layers.Embedding(vocab_size, embed)(question))
    encoded_question = layers.LSTM(embed)(encoded_question)
    encoded_question = layers.RepeatVector(story_maxlen)(encoded_question)
    merged = layers.add([encoded_sentence, encoded_question])
    merged = layers.Dropout(0.3)(layers.LSTM(embed)(merged))
    preds = layers.Dense(vocab_size, activation="softmax")(merged)
    model = keras.Model([sentence, question], preds)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    t0 = time.process_time()
    hist = model.fit([xs_tr, xq_tr], y_tr, batch_size=a.batch_size, epochs=a.epochs,
                     validation_split=0.05, verbose=0)
    cpu = time.process_time() - t0
    test_loss, test_acc = model.evaluate([xs_te, xq_te], y_te, batch_size=a.batch_size, verbose=0)
    summary = {
        "framework": f"keras {keras.__version__} / {backend_name}", "task": a.task, "seed": a.seed,
        "train_samples": len(y_tr), "test_samples": len(y_te), "vocab_size": vocab_size,
        "story_maxlen": story_maxlen, "query_maxlen": query_maxlen, "params": model.count_params(),
        "epochs": a.epochs, "fit_cpu_seconds": round(cpu, 1),
        "test_loss": round(float(test_loss), 4), "test_accuracy": round(float(test_acc), 4),
        "history": {k: [round(float(v), 4) for v in vs] for k, vs in hist.history.items()},
    }
    print("SUMMARY " + json.dumps({k: v for k, v in summary.items() if k != "history"}), flush=True)
    if a.summary_json:
        with open(a.summary_json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
