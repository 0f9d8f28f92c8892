"""Golden values of Keras's text Tokenizer for rkeras_datasets::text (datasets/tests/tokenizer_golden.rs).

Runs Keras's own Tokenizer (tf.keras.preprocessing.text.Tokenizer, i.e. keras.src.legacy.preprocessing.text)
on fixed texts under several configurations and writes word_index, word_counts, document counts, sequences and
the four matrix modes to datasets/tests/fixtures/keras_tokenizer.json.

    .venv-keras-bench/bin/python scripts/keras_tokenizer_golden.py
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

Tokenizer = tf.keras.preprocessing.text.Tokenizer

FIT_TEXTS = [
    "SUPPOSING that Truth is a woman--what then? Is there not ground for suspecting that all philosophers,",
    "in so far as they have been dogmatists, have failed to understand women--that the terrible",
    "seriousness and clumsy importunity with which they have usually paid their addresses to Truth,",
    "have been unskilled and unseemly methods for winning a woman?",
    "It's the cat's mat: the CAT sat\ton the mat.\nThe dog didn't!",
    "Werthschätzung, näher; Æschylus & Mérimée (preëminently) -- æsthetical",
    "",
    "a a a b b c",
]
OTHER_TEXTS = [
    "Truth is a woman; the cat is not.",
    "unknown words everywhere",
    "",
    "the the the mat mat zebra",
]

CONFIGS = {
    "default": {},
    "num_words_oov": {"num_words": 12, "oov_token": "<OOV>"},
    "num_words": {"num_words": 9},
    "no_lower_custom": {"lower": False, "filters": ".,;", "split": "-"},
    "char_level": {"char_level": True, "num_words": 20},
    "char_level_oov_no_lower": {"char_level": True, "lower": False, "oov_token": "~"},
}


def main():
    out = {"fit_texts": FIT_TEXTS, "other_texts": OTHER_TEXTS, "keras_version": tf.keras.__version__, "cases": []}
    for name, config in CONFIGS.items():
        tok = Tokenizer(**config)
        tok.fit_on_texts(FIT_TEXTS)
        seqs = tok.texts_to_sequences(FIT_TEXTS + OTHER_TEXTS)
        case = {
            "name": name,
            "config": config,
            "document_count": tok.document_count,
            "word_index": tok.word_index,
            "word_counts": list(tok.word_counts.items()),
            "word_docs": dict(tok.word_docs),
            "sequences": seqs,
            "matrices": {},
        }
        for mode in ["binary", "count", "freq", "tfidf"]:
            m = tok.texts_to_matrix(OTHER_TEXTS + FIT_TEXTS[:3], mode=mode)
            case["matrices"][mode] = {"shape": list(m.shape), "nonzero": [[int(i), int(j), float(m[i, j])] for i, j in zip(*m.nonzero())]}
        out["cases"].append(case)
    path = os.path.join(os.path.dirname(__file__), "..", "datasets", "tests", "fixtures", "keras_tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
